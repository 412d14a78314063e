#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: Debian's nginx
# (real-NGINX edge tests), busybox-static (the etcd member script runs under
# busybox sh, as in the pod), fio (disk check), and the pinned tools built from
# the Go module proxy (scripts/toolchain.sh, cached by version outside the repo).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v fio >/dev/null 2>&1 || need+=(fio)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
[ -x /usr/bin/aws ] || need+=(awscli)               # AWS CLI v2 for the etcd backup upload test
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap) # read-only root for the backup pod test
if [ ${#need[@]} -gt 0 ]; then
  echo "[deps] apt-get install ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# nginx-light starts a system nginx on port 80 when installed; the tests run their own.
if command -v systemctl >/dev/null 2>&1; then systemctl stop nginx >/dev/null 2>&1 || true; fi
pkill -f 'nginx: master process /usr/sbin/nginx' 2>/dev/null || true

# etcd, Kubernetes, KWOK, the Pulumi CLI and the Kubernetes provider, one
# after another (cold ~30-60 min on 2 cores, warm 0.3 s).
scripts/toolchain.sh ${ANKA_TOOLS:-all}
scripts/linttools.sh build
