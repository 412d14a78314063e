#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian or Ubuntu machine, and checks it in well under a second
# when it is all there (`make test` runs this first, so the README's second command works on its own):
#   - Debian packages: nginx (real-NGINX edge tests), busybox-static (the etcd member script runs under busybox
#     sh, as in the pod), fio (disk check), shellcheck (scripts/linttools.sh), an AWS CLI v2 (etcd backup
#     upload test; Debian's `awscli` package, or any v2 already on PATH: Ubuntu 24.04 has no such package and
#     GitHub's runners bring their own), bubblewrap (read-only root for the backup pod test);
#   - the pinned tools built from the Go module proxy: scripts/toolchain.sh ${ANKA_TOOLS:-all} (cached by
#     version outside the repo; ANKA_TOOLS=none skips them, e.g. `ANKA_TOOLS="etcd"` for the real-etcd tests).
#
# It only installs: it never starts, stops or signals a process. A package that would start a system service
# when installed (nginx-light) is installed under a policy-rc.d that forbids it (Debian's invoke-rc.d and
# deb-systemd-invoke both honour /usr/sbin/policy-rc.d; exit 101 = "action forbidden", see
# /usr/share/doc/init-system-helpers/README.policy-rc.d.gz); a service that already runs is left alone (the
# tests run their own NGINX on their own ports, so a system NGINX on port 80 does not disturb them).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[deps %s] %s\n' "$(date +%T)" "$*" >&2; }

aws_v2() { # Debian's AWS CLI (v2 since bookworm), else one on PATH that says it is v2 (--version takes ~1 s)
  [ -x /usr/bin/aws ] && return 0
  command -v aws >/dev/null 2>&1 && aws --version 2>/dev/null | grep -q '^aws-cli/2\.'
}

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -x /bin/busybox ] || need+=(busybox-static)   # static, like the copy the pods run
command -v fio >/dev/null 2>&1 || need+=(fio)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
aws_v2 || need+=(awscli)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
# Real local nodes (scripts/realnode.sh, tests/realpods; root only, ANKA_REAL_PODS=0 turns them off):
# containerd, runc, the CNI plugins and iptables, at Debian 12's versions (the ones tried here) when the
# archive has them, else the archive's own.
real_nodes() { [ "$(id -u)" -eq 0 ] && [ "${ANKA_REAL_PODS:-1}" != 0 ]; }
pin() { # package version -> package=version if the archive has that version
  if apt-cache show "$1=$2" >/dev/null 2>&1; then echo "$1=$2"; else echo "$1"; fi
}
if real_nodes; then
  [ -x /usr/bin/containerd ] || need+=("$(pin containerd 1.6.20~ds1-1+deb12u3)")
  [ -x /usr/sbin/runc ] || need+=("$(pin runc 1.1.5+ds1-1+deb12u1)")
  [ -x /usr/lib/cni/bridge ] || need+=("$(pin containernetworking-plugins 1.1.1+ds1-3+b5)")
  [ -x /usr/sbin/iptables ] || need+=("$(pin iptables 1.8.9-2)")
fi

if [ ${#need[@]} -gt 0 ]; then
  SUDO=()
  [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
  log "apt-get install ${need[*]}${SUDO[*]:+ (with sudo)}"
  policy=/usr/sbin/policy-rc.d ours=""
  if [ ! -e "$policy" ]; then
    # ours only while apt-get runs, and removed even when it fails; an existing policy is left as it is
    printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs packages\nexit 101\n' |
      "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    ours=$policy
  fi
  # shellcheck disable=SC2064 # expand now: the paths are fixed
  trap "[ -z '$ours' ] || ${SUDO[*]} rm -f '$ours'" EXIT
  "${SUDO[@]}" apt-get update -qq
  # Not every archive has every name: Ubuntu 24.04 has no awscli, and newer Debian/Ubuntu nginx packaging
  # may drop nginx-light for nginx. Take the fallback, or say where to get what the archive lacks.
  pkgs=() absent=()
  for p in "${need[@]}"; do
    if apt-cache show "$p" >/dev/null 2>&1; then pkgs+=("$p")
    elif [ "$p" = nginx-light ] && apt-cache show nginx >/dev/null 2>&1; then pkgs+=(nginx)
    else absent+=("$p"); fi
  done
  # env after sudo: sudo's env_reset would drop a DEBIAN_FRONTEND set before it
  [ ${#pkgs[@]} -eq 0 ] ||
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  [ -z "$ours" ] || "${SUDO[@]}" rm -f "$ours"
  trap - EXIT
  if [ ${#absent[@]} -gt 0 ]; then
    log "not in this machine's package archive: ${absent[*]}"
    case " ${absent[*]} " in *" awscli "*)
      log "  awscli: install the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html), then run this again" ;;
    esac
    exit 1
  fi
fi

# etcd, Kubernetes, KWOK, the Pulumi CLI and the Kubernetes provider (cold: 49 minutes on 2 cores for the
# five), then promtool (17.5 min cold) and kube-score (2 min) for their tests, one after another (warm: 0.2 s),
# or reused from PATH at the pinned versions (scripts/toolchain.sh).
tools=${ANKA_TOOLS:-all}
if [ "$tools" != none ]; then
  # shellcheck disable=SC2086 # a list of tool names
  ANKA_QUIET=1 scripts/toolchain.sh $tools
  # CoreDNS and the images of the real local nodes (cold: about 6 minutes; then cached)
  if real_nodes; then case " $tools " in *" all "*) scripts/realnode.sh build ;; esac; fi
fi
