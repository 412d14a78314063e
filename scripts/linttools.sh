#!/usr/bin/env bash
# Runs the pinned linters that scripts/toolchain.sh builds (`scripts/toolchain.sh lint`: actionlint and
# golangci-lint from the Go module proxy, cached by version outside the repository) and shellcheck (Debian
# package `shellcheck`; preinstalled on GitHub's ubuntu runners).
#
# usage: scripts/linttools.sh run [ARGS]             builds if needed, then shellcheck on every shell script,
#                                                    actionlint on .github/workflows and `golangci-lint run`
#                                                    with the repo's .golangci.yml (ARGS go to golangci-lint,
#                                                    e.g. `run --fix` or `run ./stacks/...`); exit 1 if any
#                                                    finds something (all three always run)
#        scripts/linttools.sh shellcheck [FILES]     only shellcheck (default: every shell script, below)
#        scripts/linttools.sh actionlint [ARGS]      only actionlint (CI's lint job)
#        scripts/linttools.sh golangci-lint [ARGS]   only `golangci-lint run` (ARGS as for run)
#
# Every shell script: the tracked and new (not ignored) *.sh files, scripts/ and .ci/run included, and the
# scripts the pods run (components/etcd/member/{member,backup}.sh, components/etcd/diskcheck/check.sh; their
# `#!/bin/sh` makes shellcheck check them as POSIX sh, which busybox sh runs). actionlint also runs shellcheck
# on every `run:` block. shellcheck missing is an error (scripts/deps.sh installs it); ANKA_SHELLCHECK_OPTIONAL=1
# turns that into a warning, for a machine that only wants the Go linters.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
TOOLCHAIN=$REPO/scripts/toolchain.sh
CACHE=${ANKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anka-ha}

log() { printf '[linttools %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

bin_of() { echo "$("$TOOLCHAIN" dir "$1")/bin/$1"; }
version_of() { "$TOOLCHAIN" versions | awk -v t="$1" '$1 == t {print $2}'; }

have_shellcheck() {
  command -v shellcheck >/dev/null && return 0
  [ "${ANKA_SHELLCHECK_OPTIONAL:-0}" = 1 ] || die "shellcheck not on PATH (scripts/deps.sh installs it: apt-get install shellcheck)"
  log "shellcheck not on PATH: shell scripts and run: blocks unchecked (ANKA_SHELLCHECK_OPTIONAL=1)"
  return 1
}

shell_scripts() { # one path a line, relative to the repository
  cd "$REPO"
  {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      git ls-files --cached --others --exclude-standard -- '*.sh'
    else
      find . -name '*.sh' -not -path './.git/*' | sed 's#^\./##'
    fi
    echo .ci/run
  } | sort -u | while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done
}

run_shellcheck() { # [files]
  local files=()
  have_shellcheck || return 0
  cd "$REPO"
  if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(shell_scripts); fi
  log "shellcheck $(shellcheck --version | sed -n 's/^version: //p') on ${#files[@]} scripts"
  # -x: follow `source` lines; the shell comes from each file's #! line
  shellcheck -x "${files[@]}"
}

run_actionlint() { # args...
  ANKA_QUIET=1 "$TOOLCHAIN" actionlint
  cd "$REPO"
  if [ ! -d .github/workflows ]; then
    log "actionlint: no .github/workflows, skipped"
    return 0
  fi
  local sc="not found, run: blocks unchecked"
  if have_shellcheck; then sc=$(command -v shellcheck); fi
  log "actionlint $(version_of actionlint) on .github/workflows (shellcheck: $sc)"
  # actionlint knows the inputs and outputs of popular actions by major tag (pulumi/actions@v7), not by the
  # exact release the workflows pin (pulumi/actions@v7.0.0), and would skip checking them. So it lints a
  # copy of .github with every `@vX.Y.Z` rewritten to `@vX`: a misspelled input of a pinned action is still
  # caught. Same relative paths and line numbers as the real files.
  local tmp rc=0 files=() f cfg=()
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the path is fixed, and a later `trap` must not see another $tmp
  trap "rm -rf '$tmp'" RETURN
  cp -R .github "$tmp/"
  mapfile -t files < <(cd "$tmp" && find .github/workflows -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)
  for f in "${files[@]}"; do
    sed -i -E 's#(uses:[[:space:]]*[^@[:space:]]+@v[0-9]+)\.[0-9]+(\.[0-9]+)?([[:space:]]|$)#\1\3#' "$tmp/$f"
  done
  for f in .github/actionlint.yaml .github/actionlint.yml; do [ -f "$f" ] && cfg=(-config-file "$tmp/$f") && break; done
  if [ ${#files[@]} -gt 0 ]; then
    (cd "$tmp" && "$(bin_of actionlint)" "${cfg[@]}" "$@" "${files[@]}") || rc=$?
  fi
  return $rc
}

run_golangci() { # args...
  ANKA_QUIET=1 "$TOOLCHAIN" golangci-lint
  cd "$REPO"
  command -v go >/dev/null || export PATH=/usr/local/go/bin:$PATH
  log "golangci-lint $(version_of golangci-lint) run ${*:-./...} (config .golangci.yml)"
  # packages load through the project's own GOCACHE (as `go vet` does); golangci-lint's analysis cache lives
  # next to the tools, outside the clone
  GOLANGCI_LINT_CACHE=$CACHE/golangci-lint-cache GOTOOLCHAIN=local \
    "$(bin_of golangci-lint)" run --config "$REPO/.golangci.yml" "$@"
}

run() { # golangci-lint args...
  local rc=0 t0=$SECONDS
  "$TOOLCHAIN" lint
  run_shellcheck || rc=1
  run_actionlint || rc=1
  run_golangci "$@" || rc=1
  log "lint done in $((SECONDS - t0))s: $([ $rc = 0 ] && echo clean || echo 'findings above')"
  return $rc
}

main() {
  case ${1:-} in
    run) shift; run "$@" ;;
    shellcheck) shift; run_shellcheck "$@" ;;
    actionlint) shift; run_actionlint "$@" ;;
    golangci-lint) shift; run_golangci "$@" ;;
    -h|--help|help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0" ;;
    *) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0" >&2; exit 2 ;;
  esac
}

# all on one line: bash has parsed it before running, so editing this file while it runs is safe
main "$@"; exit $?
