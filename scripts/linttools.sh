#!/usr/bin/env bash
# Builds the pinned linters from the Go module proxy (no GitHub release downloads) and runs them, each cached
# by version OUTSIDE the repository, in the style of scripts/toolchain.sh:
#
#   $CACHE/<tool>-<version>/bin/        the binary (a tool counts as built when it exists and is executable)
#   $CACHE/gocache-lint                 a GOCACHE of its own for these builds, so neither the project's builds
#                                       nor toolchain.sh's cache evict them (and they don't evict those)
#   $CACHE/golangci-lint-cache          GOLANGCI_LINT_CACHE: golangci-lint's analysis cache, outside the clone
#   $CACHE/.lock-<tool>                 flock: two concurrent invocations never build the same tool twice
#
# usage: scripts/linttools.sh build [actionlint|golangci-lint|all]...   build (default: all)
#        scripts/linttools.sh path       prints the bin dirs joined by ':' for export PATH="$(...):$PATH"
#        scripts/linttools.sh run [ARGS] builds if needed, then actionlint on .github/workflows and
#                                        `golangci-lint run ./...` with the repo's .golangci.yml (ARGS go to
#                                        golangci-lint, e.g. `run --fix` or `run ./stacks/...`); exit 1 if
#                                        either finds something (both always run)
#        scripts/linttools.sh actionlint [ARGS]      only actionlint (CI's lint job)
#        scripts/linttools.sh golangci-lint [ARGS]   only `golangci-lint run` (ARGS as for run)
#        scripts/linttools.sh versions   prints the pinned versions
#
# golangci-lint's docs discourage `go install` (the binary then depends on the local Go toolchain); here the
# module proxy is the only source, so it is built with `go install`, pinned, with GOTOOLCHAIN=local: it must be
# built by a Go at least as new as the go directive of the code it lints (go.mod: go 1.26.x; v2.15.0 needs
# go >= 1.26.0 to build).
#
# actionlint runs shellcheck on every `run:` block when shellcheck is on PATH (Debian package `shellcheck`;
# preinstalled on GitHub's ubuntu runners). ANKA_REQUIRE_SHELLCHECK=1 makes its absence an error instead of
# a silent skip.
#
# CACHE=${ANKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anka-ha}
set -euo pipefail

# ------------------------------------------------------------------------------------------- pinned versions
ACTIONLINT_VERSION=v1.7.12      # github.com/rhysd/actionlint (newest served; go 1.25)
GOLANGCI_LINT_VERSION=v2.15.0   # github.com/golangci/golangci-lint/v2 (newest served; go 1.26.0)

CACHE=${ANKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anka-ha}
REPO=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=(actionlint golangci-lint)

log() { printf '[linttools %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

tool_version() {
  case $1 in
    actionlint) echo "$ACTIONLINT_VERSION" ;;
    golangci-lint) echo "$GOLANGCI_LINT_VERSION" ;;
    *) die "unknown tool $1" ;;
  esac
}
tool_pkg() {
  case $1 in
    actionlint) echo "github.com/rhysd/actionlint/cmd/actionlint" ;;
    golangci-lint) echo "github.com/golangci/golangci-lint/v2/cmd/golangci-lint" ;;
  esac
}
tool_dir() { echo "$CACHE/$1-$(tool_version "$1")"; }
tool_bin() { echo "$(tool_dir "$1")/bin/$1"; }
is_built() { [ -x "$(tool_bin "$1")" ]; }

go_env() {
  command -v go >/dev/null || export PATH=/usr/local/go/bin:$PATH
  command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
  export GOCACHE=$CACHE/gocache-lint
  export GOTOOLCHAIN=local    # never fetch another toolchain behind our back
  export GOFLAGS=-buildvcs=false
  export CGO_ENABLED=0
}

# Both modules have no replace directives, so `go install mod@version` builds exactly what upstream pins in
# its go.mod/go.sum; the version the tools print comes from the module's build info.
ensure() { # tool [quiet]
  local tool=$1 dir ver
  dir=$(tool_dir "$tool"); ver=$(tool_version "$tool")
  if is_built "$tool"; then
    [ -n "${2:-}" ] || log "$tool $ver: cached in $dir/bin"
    return 0
  fi
  mkdir -p "$CACHE"
  (
    exec 9>"$CACHE/.lock-$tool"
    if ! flock -n 9; then
      log "$tool $ver: another invocation is building it, waiting for its lock"
      flock 9
    fi
    if is_built "$tool"; then log "$tool $ver: built by another invocation, cached in $dir/bin"; exit 0; fi
    go_env
    local t0=$SECONDS out=$dir/bin.partial
    log "$tool $ver: building $(tool_pkg "$tool")@$ver (GOCACHE=$GOCACHE)"
    mkdir -p "$dir"
    rm -rf "$out"; mkdir -p "$out"
    # outside the repository, so the project's go.mod plays no part in the build
    (cd "$CACHE" && GOBIN=$out go install -trimpath -ldflags "-s -w" "$(tool_pkg "$tool")@$ver")
    [ -x "$out/$tool" ] || die "$tool: go install finished but $out/$tool is missing"
    rm -rf "${dir:?}/bin"; mv "$out" "$dir/bin"
    local s=$((SECONDS - t0))
    log "$tool $ver: built in $((s / 60))m$((s % 60))s -> $dir/bin"
  )
}

build() {
  local a t w want=()
  for a in "$@"; do
    case $a in
      all) want+=("${TOOLS[@]}") ;;
      actionlint|golangci-lint) want+=("$a") ;;
      *) die "unknown tool $a (actionlint|golangci-lint|all)" ;;
    esac
  done
  [ ${#want[@]} -gt 0 ] || want=("${TOOLS[@]}")
  for t in "${TOOLS[@]}"; do # canonical order, each at most once
    for w in "${want[@]}"; do
      if [ "$w" = "$t" ]; then ensure "$t"; break; fi
    done
  done
}

run_actionlint() { # args...
  ensure actionlint quiet
  cd "$REPO"
  if [ "${ANKA_REQUIRE_SHELLCHECK:-0}" = 1 ] && ! command -v shellcheck >/dev/null; then
    die "shellcheck not on PATH (apt-get install shellcheck) and ANKA_REQUIRE_SHELLCHECK=1"
  fi
  if [ ! -d .github/workflows ]; then
    log "actionlint: no .github/workflows, skipped"
    return 0
  fi
  log "actionlint $ACTIONLINT_VERSION on .github/workflows (shellcheck: $(command -v shellcheck || echo 'not found, run: blocks unchecked'))"
  # actionlint knows the inputs and outputs of popular actions by major tag (pulumi/actions@v6), not by the
  # exact release the workflows pin (pulumi/actions@v6.6.1), and would skip checking them. So it lints a
  # copy of .github with every `@vX.Y.Z` rewritten to `@vX`: a misspelled input of a pinned action is still
  # caught. Same relative paths and line numbers as the real files.
  local tmp rc=0 files=() f cfg=()
  tmp=$(mktemp -d)
  cp -R .github "$tmp/"
  while IFS= read -r f; do files+=("$f"); done < <(cd "$tmp" && find .github/workflows -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)
  for f in "${files[@]}"; do
    sed -i -E 's#(uses:[[:space:]]*[^@[:space:]]+@v[0-9]+)\.[0-9]+(\.[0-9]+)?([[:space:]]|$)#\1\3#' "$tmp/$f"
  done
  for f in .github/actionlint.yaml .github/actionlint.yml; do [ -f "$f" ] && cfg=(-config-file "$tmp/$f") && break; done
  if [ ${#files[@]} -gt 0 ]; then
    (cd "$tmp" && "$(tool_bin actionlint)" "${cfg[@]}" "$@" "${files[@]}") || rc=$?
  fi
  rm -rf "$tmp"
  return $rc
}

run_golangci() { # args...
  ensure golangci-lint quiet
  cd "$REPO"
  command -v go >/dev/null || export PATH=/usr/local/go/bin:$PATH
  log "golangci-lint $GOLANGCI_LINT_VERSION run ${*:-./...} (config .golangci.yml)"
  # packages load through the project's own GOCACHE (as `go vet` does); golangci-lint's analysis cache lives
  # next to the tools, outside the clone
  GOLANGCI_LINT_CACHE=$CACHE/golangci-lint-cache GOTOOLCHAIN=local \
    "$(tool_bin golangci-lint)" run --config "$REPO/.golangci.yml" "$@"
}

run() { # golangci-lint args...
  local rc=0 t0=$SECONDS
  build all
  run_actionlint || rc=1
  run_golangci "$@" || rc=1
  log "lint done in $((SECONDS - t0))s: $([ $rc = 0 ] && echo clean || echo 'findings above')"
  return $rc
}

main() {
  case ${1:-build} in
    build) shift || true; build "$@" ;;
    path) printf '%s:%s\n' "$(tool_dir actionlint)/bin" "$(tool_dir golangci-lint)/bin" ;;
    run) shift; run "$@" ;;
    actionlint) shift; run_actionlint "$@" ;;
    golangci-lint) shift; run_golangci "$@" ;;
    versions) printf 'actionlint %s\ngolangci-lint %s\n' "$ACTIONLINT_VERSION" "$GOLANGCI_LINT_VERSION" ;;
    -h|--help|help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0" ;;
    *) die "unknown subcommand $1 (build|path|run|actionlint|golangci-lint|versions)" ;;
  esac
}

# all on one line: bash has parsed it before running, so editing this file while a build runs is safe
main "$@"; exit $?
