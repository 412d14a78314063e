#!/usr/bin/env bash
# The README's first command (`make local`): the real Pulumi engine deploys the whole workload (namespace,
# etcd, Build Cloud, NGINX mTLS edge) onto a local Kubernetes control plane, without AWS and without any
# download beyond the Go module proxy.
#
#   1. reuses or builds the pinned runtime tools (scripts/toolchain.sh runtime: etcd, kube-apiserver/-scheduler/
#      -controller-manager, kubectl, KWOK, the Pulumi CLI and the Kubernetes provider plugin): a tool whose
#      binaries are on PATH at the pinned version (the provider: in ~/.pulumi/plugins) is used as it is, the
#      others are built from the Go module proxy, with a progress line a minute (49 minutes cold on 2 cores
#      for all five), then cached by version under ${ANKA_CACHE:-~/.cache/anka-ha};
#   2. starts the local control plane (scripts/localcluster.sh start: 127.0.0.1 only, three KWOK nodes in
#      zones local-1a/b/c) or reuses the running one; what an interrupted start left behind is stopped and
#      started again, and a port held by another program is named with the variable that moves it;
#   3. creates what AWS would provide (zonal volumes for the etcd StorageClass, an RWX volume for the
#      Registry) and, once, the stack secrets (etcd TLS seed, root token, a test CA and server certificate);
#   4. runs `pulumi preview` and `pulumi up` of Pulumi.local.yaml with the real engine (Automation API, the
#      program is stacks.Run exactly as main.go runs it; file backend under $ANKA_CACHE/local-stack);
#   5. prints where to look.
# A second run reuses everything and changes nothing.
#
# usage: scripts/run-local.sh            preview + up
#        scripts/run-local.sh destroy    pulumi destroy (the namespace, etcd claims and volumes stay, by design)
# Stop the control plane with scripts/localcluster.sh stop (data kept) or clean (wiped).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH

args=()
case ${1:-up} in
  up) ;;
  destroy) args+=(-destroy) ;;
  -h|--help|help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0"; exit 0 ;;
  *) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0" >&2; exit 2 ;;
esac

# what the scripts call besides Go (jq: the provider build; openssl: the local PKI; curl: health checks)
missing=()
for c in go jq openssl curl flock setsid base64; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[run-local] missing: ${missing[*]} (Go: https://go.dev/dl/; the rest: apt-get install jq openssl curl util-linux coreutils)" >&2
  exit 1
fi

t0=$SECONDS
echo "[run-local] 1/2 tools: reuse or build what is missing (scripts/toolchain.sh runtime)" >&2
scripts/toolchain.sh runtime
echo "[run-local] 2/2 control plane, stand-ins, pulumi preview and up (tests/integration/cmd/localup)" >&2
go run ./tests/integration/cmd/localup "${args[@]}"
echo "[run-local] done in $((SECONDS - t0))s"
