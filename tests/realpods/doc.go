// Package realpods deploys the local stack with the real Pulumi engine onto
// the local control plane with three real nodes (scripts/realnode.sh), where
// the workload's containers really run, and checks what only a container
// runtime can refuse. Its own package, so that `go test ./...` runs it
// beside the KWOK-based tests of tests/integration instead of after them.
//
// It runs with ANKA_INTEGRATION=1 (make test, .ci/run), as root, with
// Debian's containerd, runc, containernetworking-plugins and iptables
// (scripts/deps.sh); ANKA_REAL_PODS=0 skips it.
package realpods
