#!/usr/bin/env bash
# Benchmark (not a test) of the edge NGINX rendered by components/edge/nginxconf.
#
# In one run it streams the same 4 GiB upload (generated on the fly, never
# stored) twice, with the sha256 checked at the upstream each time:
#   1. through NGINX: TLS 1.3 with a client certificate (mTLS), production
#      timeouts and buffering settings, to a Go upstream over plain HTTP;
#   2. directly to the same upstream over plain HTTP (no TLS) on loopback.
# It prints both throughputs in MiB/s, their ratio, NGINX's CPU time and its
# peak RSS (master + workers, sampled from /proc every 50 ms), and fails if a
# transfer arrives incomplete or NGINX writes a temp file.
#
# Usage: scripts/bench-nginx.sh [-bytes N] [-client-body-buffer-kib K]
# Needs nginx: $NGINX_BIN, /usr/sbin/nginx or nginx on PATH
# (Debian: apt-get install -y nginx-light). Run as root, NGINX runs as uid 65534.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -z "${NGINX_BIN:-}" && ! -x /usr/sbin/nginx ]] && ! command -v nginx >/dev/null 2>&1; then
	echo "bench-nginx: no nginx found; install it (apt-get install -y nginx-light) or set NGINX_BIN" >&2
	exit 1
fi
exec go run ./components/edge/nginxconf/internal/nginxbench "$@"
