// Package integration runs the real program (stacks.Run, exactly as main.go
// calls it) with the real Pulumi engine and the real Kubernetes provider
// against the local control plane of scripts/localcluster.sh: a real
// kube-apiserver, kube-controller-manager and kube-scheduler on 127.0.0.1
// with three KWOK nodes in three zones, all built from pinned versions by
// scripts/toolchain.sh.
//
// The engine is driven through the Automation API with an inline program, so
// the test process itself serves the Go language runtime (the Go language
// host is not on the module proxy) and no network access is needed: the CLI
// and the provider plugin come from the toolchain cache, state lives in a
// file backend with a passphrase secrets provider.
//
// The non-test files are shared by the test (workload_test.go) and by
// cmd/localup, which scripts/run-local.sh and scripts/bench-local.sh run:
//
//   - tools.go: finding the toolchain (CLI, PULUMI_HOME, kubectl);
//   - cluster.go: starting/stopping the control plane, a small REST client
//     (exact HTTP codes, e.g. the eviction's 429; no client-go);
//   - objects.go: the few fields of Kubernetes objects the checks read;
//   - standins.go: what the local cluster lacks and AWS would provide
//     (static PVs for the etcd StorageClass per zone, an RWX volume for the
//     Registry, a load balancer hostname on the NLB Service), never by
//     weakening the program;
//   - secrets.go: the stack secrets (etcd TLS seed, root token, edge PKI);
//   - stack.go: the stack built from Pulumi.local.yaml plus the injected
//     secrets, and preview/up/destroy with timings and per-resource steps.
//   - logs.go: the engine's log, kept in the run's log directory when a
//     test fails (the KWOK and the real-pod tests).
//
// The test runs only with ANKA_INTEGRATION=1; then a missing tool is a
// failure, never a skip.
package integration
