#!/usr/bin/env bash
# Benchmark (not a test): wall times of the real Pulumi engine on the local control plane, for the whole
# workload of Pulumi.local.yaml: control-plane start, stack creation, cold preview, cold up (create and
# await ready), warm preview (no changes), no-op up, destroy. Runs on a throw-away control plane (own run
# dir and free ports under $TMPDIR) and a throw-away stack, so a cluster started by scripts/run-local.sh is
# left alone; both are removed at the end (pass -keep to keep them).
#
# usage: scripts/bench-local.sh [-keep]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH
scripts/toolchain.sh runtime
go run ./tests/integration/cmd/localup -bench "$@"
