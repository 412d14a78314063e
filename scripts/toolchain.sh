#!/usr/bin/env bash
# Builds the pinned tools that the local tests and the local cluster need, from the Go module proxy only
# (no GitHub downloads, no `pulumi plugin install`, no docker), one after another, each cached by version
# OUTSIDE the repository so that a fresh clone (or CI on the same machine) reuses them:
#
#   $CACHE/<tool>-<version>/bin/        the binaries (a tool counts as built when all its binaries exist)
#   $CACHE/build/<tool>-<version>/      the scratch Go module each tool is built from
#   $CACHE/gocache                      a GOCACHE of its own, so the project's builds can't evict these
#   $CACHE/.lock-<tool>                 flock: two concurrent invocations never build the same tool twice
#
# usage: scripts/toolchain.sh [etcd|k8s|kwok|pulumi|provider|all]...   build (default: all, in that order)
#        scripts/toolchain.sh path       prints the bin dirs of etcd, k8s, kwok and pulumi joined by ':' for
#                                        export PATH="$(scripts/toolchain.sh path):$PATH"
#        scripts/toolchain.sh env        prints the `export ...` lines for running the engine locally:
#                                        eval "$(scripts/toolchain.sh env)"   (PATH, PULUMI_HOME, ...)
#        scripts/toolchain.sh versions   prints the pinned versions
#        scripts/toolchain.sh dir TOOL   prints $CACHE/<tool>-<version> (e.g. for kwok's stages.yaml)
#
# CACHE=${ANKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anka-ha}
set -euo pipefail

# ------------------------------------------------------------------------------------------- pinned versions
ETCD_VERSION=v3.6.16          # go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3; prod image quay.io/coreos/etcd:v3.6.16
K8S_VERSION=v1.35.4           # k8s.io/kubernetes; staging modules k8s.io/* at v0.35.4; EKS pins 1.35
KWOK_VERSION=v0.8.0           # sigs.k8s.io/kwok
PULUMI_VERSION=v3.274.1       # github.com/pulumi/pulumi/{pkg,sdk}/v3; the same as the SDK in go.mod
# The Kubernetes provider plugin. The provider module's own tags are not served (they are v4.x.y tags on
# the repository root, the provider lives in provider/v4), so a pseudo-version of provider/v4 is pinned,
# built against the SDK module it was developed with.
PROVIDER_MODULE_VERSION=v4.0.0-20260115033456-f47bc2d6f199   # github.com/pulumi/pulumi-kubernetes/provider/v4
PROVIDER_SDK_VERSION=v4.24.0                                 # github.com/pulumi/pulumi-kubernetes/sdk/v4
# The version the plugin reports, and the one it is installed under. It must be the version the program's
# SDK asks for (go.mod: github.com/pulumi/pulumi-kubernetes/sdk/v4 v4.32.0); see build_provider for why.
PROVIDER_PLUGIN_VERSION=4.32.0

CACHE=${ANKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anka-ha}
PULUMI_HOME_DIR=$CACHE/pulumi-home   # PULUMI_HOME for the local engine: holds plugins/resource-kubernetes-v<ver>

TOOLS=(etcd k8s kwok pulumi provider)

log() { printf '[toolchain %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

tool_version() {
  case $1 in
    etcd) echo "$ETCD_VERSION" ;;
    k8s) echo "$K8S_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    pulumi) echo "$PULUMI_VERSION" ;;
    provider) echo "v$PROVIDER_PLUGIN_VERSION-${PROVIDER_MODULE_VERSION##*-}" ;;
    *) die "unknown tool $1" ;;
  esac
}
tool_dir() { echo "$CACHE/$1-$(tool_version "$1")"; }
tool_bins() {
  case $1 in
    etcd) echo "etcd etcdctl etcdutl" ;;
    k8s) echo "kube-apiserver kube-controller-manager kube-scheduler kubectl" ;;
    kwok) echo "kwok" ;;
    pulumi) echo "pulumi" ;;
    provider) echo "pulumi-resource-kubernetes" ;;
  esac
}
is_built() { # tool
  local d b
  d=$(tool_dir "$1")
  for b in $(tool_bins "$1"); do [ -x "$d/bin/$b" ] || return 1; done
  if [ "$1" = kwok ]; then [ -s "$d/stages.yaml" ] || return 1; fi
}

go_env() {
  command -v go >/dev/null || export PATH=/usr/local/go/bin:$PATH
  command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
  export GOCACHE=$CACHE/gocache
  export GOTOOLCHAIN=local    # never fetch another toolchain behind our back
  export GOFLAGS=-buildvcs=false
  export CGO_ENABLED=0
}

mod_dir() { # module@version -> its directory in the module cache (downloads it)
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

# Each build_<tool> runs in the scratch dir $CACHE/build/<tool>-<version> (set up once: go.mod, tools.go, tidy,
# then .scratch-ready) and writes into $OUT (a temporary bin dir, renamed to bin/ when complete).
build_etcd() {
  # `go install go.etcd.io/etcd/server/v3@X` refuses (its go.mod has ../api-style replaces), so a scratch
  # module pins every go.etcd.io/etcd/* module to the same version.
  if [ ! -f .scratch-ready ]; then
    rm -f go.mod go.sum
    go mod init anka-toolchain/etcd >/dev/null 2>&1
    local m
    for m in api/v3 client/pkg/v3 client/v3 pkg/v3 server/v3 etcdctl/v3 etcdutl/v3; do
      go mod edit -require="go.etcd.io/etcd/$m@$ETCD_VERSION"
    done
    cat > tools.go <<'EOF'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
EOF
    go mod tidy
    touch .scratch-ready   # set up once; a failed setup is redone from scratch
  fi
  go build -trimpath -ldflags "-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3
  go build -trimpath -ldflags "-s -w" -o "$OUT/etcdctl" go.etcd.io/etcd/etcdctl/v3
  go build -trimpath -ldflags "-s -w" -o "$OUT/etcdutl" go.etcd.io/etcd/etcdutl/v3
}

build_k8s() {
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local staging=v0.${K8S_VERSION#v1.}
  if [ ! -f .scratch-ready ]; then
    rm -f go.mod go.sum
    local M; M=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
    [ -f "$M" ] || die "could not download k8s.io/kubernetes@$K8S_VERSION"
    {
      printf 'module anka-toolchain/k8s\n\n'
      # the same language version and GODEBUG defaults as upstream's main module
      grep -E '^(go|godebug) ' "$M"
      printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
      # k8s.io/kubernetes requires every staging module at v0.0.0 and replaces it with ./staging/...:
      # point each at the published v0.Y.Z instead
      sed -n '/^require/,/^)/p' "$M" | awk -v s="$staging" '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print "\t" $1 " => " $1 " " s}'
      printf ')\n'
    } > go.mod
    cat > tools.go <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
    go mod tidy
    touch .scratch-ready   # set up once; a failed setup is redone from scratch
  fi
  local V=k8s.io/component-base/version C=k8s.io/client-go/pkg/version
  local LDF="-s -w -X $V.gitVersion=$K8S_VERSION -X $V.gitMajor=1 -X $V.gitMinor=$minor -X $V.gitTreeState=clean"
  LDF+=" -X $C.gitVersion=$K8S_VERSION -X $C.gitMajor=1 -X $C.gitMinor=$minor -X $C.gitTreeState=clean"
  go build -trimpath -ldflags "$LDF" -o "$OUT/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
}

build_kwok() {
  # kwok's go.mod has no replace directives, so a plain `go install mod@version` works.
  GOBIN=$OUT go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok itself ships no Stage objects (kwokctl normally generates them): node initialize + lease heartbeat,
  # and the fast pod stages (ready, complete, delete), from the module's kustomize/stage folder.
  local D f
  D=$(mod_dir "sigs.k8s.io/kwok@$KWOK_VERSION")/kustomize/stage
  [ -d "$D" ] || die "no $D"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ -f "$D/$f" ] || die "no $D/$f"
    echo "---"; cat "$D/$f"
  done > "$OUT/../stages.yaml.tmp"
  mv "$OUT/../stages.yaml.tmp" "$OUT/../stages.yaml"
}

copy_replaces() { # go.mod of a dependency: repeat its non-local replace directives in the scratch module
  local r
  awk '$1 == "replace" && $3 == "=>" && $4 !~ /^\./ && NF == 5 {print $2 "=" $4 "@" $5}' "$1" |
    while read -r r; do go mod edit -replace="$r"; done
}

build_pulumi() {
  if [ ! -f .scratch-ready ]; then
    rm -f go.mod go.sum
    go mod init anka-toolchain/pulumi >/dev/null 2>&1
    cat > tools.go <<'EOF'
//go:build tools

package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
EOF
    go get "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"
    # pkg/v3 replaces github.com/atotto/clipboard with a fork: build what upstream builds
    copy_replaces "$(mod_dir "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION")/go.mod"
    go mod tidy
    touch .scratch-ready   # set up once; a failed setup is redone from scratch
  fi
  go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$OUT/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

# The Kubernetes provider plugin, and where the engine finds it.
#
# How the engine resolves `resource kubernetes 4.32.0` (the version that the program's SDK, sdk/v4 v4.32.0, puts
# on every registration), read in github.com/pulumi/pulumi/sdk/v3@v3.274.1 go/common/workspace/plugins.go
# (getPluginInfoAndPath) and pkg/v3@v3.274.1 resource/deploy/providers/registry.go (loadProvider):
#   1. an executable named pulumi-resource-kubernetes on $PATH ("ambient") wins, whatever the requested
#      version, but the engine then emits the warning "using pulumi-resource-kubernetes from $PATH at ..." on
#      every run (PULUMI_IGNORE_AMBIENT_PLUGINS=true turns this lookup off);
#   2. otherwise $PULUMI_HOME/plugins is scanned and SelectCompatiblePlugin accepts only an EXACT version match
#      (spec.Version.EQ): a plugin installed as resource-kubernetes-v4.24.0 does not serve a request for 4.32.0;
#   3. otherwise loadProvider tries InstallPlugin (a download, impossible here;
#      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true makes it fail at once instead).
# Nothing compares the version the plugin reports (GetPluginInfo) with the requested one.
# So the plugin reports 4.32.0 (provider.Serve's version, which is also in its user agent, plus the schema's
# version field; its multi-language components, e.g. yaml/v2 and helm/v4, register their children with that
# version, which must resolve to this same plugin) and is installed as
#   $CACHE/pulumi-home/plugins/resource-kubernetes-v4.32.0/pulumi-resource-kubernetes
# for callers that set PULUMI_HOME=$CACHE/pulumi-home (`scripts/toolchain.sh env` prints it). Its bin dir is
# left OUT of `scripts/toolchain.sh path` on purpose, so the engine finds it through 2, without the warning.
build_provider() {
  local src
  src=$(mod_dir "github.com/pulumi/pulumi-kubernetes/provider/v4@$PROVIDER_MODULE_VERSION")/cmd/pulumi-resource-kubernetes
  [ -f "$src/schema.json" ] || die "no $src/schema.json"
  if [ ! -f .scratch-ready ]; then
    rm -f go.mod go.sum
    go mod init anka-toolchain/provider >/dev/null 2>&1
    # provider/v4's go.mod replaces sdk/v4 with ../sdk, which a module can't see: pin the SDK release instead
    go mod edit -require="github.com/pulumi/pulumi-kubernetes/provider/v4@$PROVIDER_MODULE_VERSION" \
      -require="github.com/pulumi/pulumi-kubernetes/sdk/v4@$PROVIDER_SDK_VERSION"
    copy_replaces "$(dirname "$(dirname "$src")")/go.mod"
    cat > main.go <<'EOF'
// The pulumi-resource-kubernetes plugin as upstream's cmd/pulumi-resource-kubernetes/main.go builds it:
// schema and Terraform mapping embedded, the version set at link time (pkg/version.Version).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
EOF
    echo '{}' > schema-embed.json; echo '{}' > terraform-mapping-embed.json
    go mod tidy
    touch .scratch-ready   # set up once; a failed setup is redone from scratch
  fi
  # what upstream's generate.go does: the schema with its version field set, both files compacted
  jq -c --arg v "$PROVIDER_PLUGIN_VERSION" '.version = $v' "$src/schema.json" > schema-embed.json
  jq -c . "$src/terraform-mapping.json" > terraform-mapping-embed.json
  go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PROVIDER_PLUGIN_VERSION" \
    -o "$OUT/pulumi-resource-kubernetes" .
}

PLUGIN_DIR=$PULUMI_HOME_DIR/plugins/resource-kubernetes-v$PROVIDER_PLUGIN_VERSION
install_provider_plugin() { # built binary -> the plugin cache of $PULUMI_HOME (cheap; redone if wiped)
  local bin
  bin=$(tool_dir provider)/bin/pulumi-resource-kubernetes
  if [ -x "$PLUGIN_DIR/pulumi-resource-kubernetes" ] && [ ! -e "$PLUGIN_DIR.partial" ] &&
    cmp -s "$bin" "$PLUGIN_DIR/pulumi-resource-kubernetes"; then
    return 0
  fi
  mkdir -p "$PULUMI_HOME_DIR/plugins"
  touch "$PLUGIN_DIR.partial"   # the engine skips a plugin dir while <dir>.partial exists
  rm -rf "$PLUGIN_DIR"; mkdir -p "$PLUGIN_DIR"
  cp "$bin" "$PLUGIN_DIR/pulumi-resource-kubernetes"
  rm -f "$PLUGIN_DIR.partial"
  log "provider: installed as $PLUGIN_DIR/pulumi-resource-kubernetes (PULUMI_HOME=$PULUMI_HOME_DIR)"
}

# ------------------------------------------------------------------------------------------- driver
ensure() { # tool
  local tool=$1 dir ver
  dir=$(tool_dir "$tool"); ver=$(tool_version "$tool")
  if is_built "$tool"; then
    log "$tool $ver: cached in $dir/bin"
    if [ "$tool" = provider ]; then with_lock provider install_provider_plugin; fi
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
    local t0=$SECONDS scratch=$CACHE/build/$tool-$ver
    log "$tool $ver: building (scratch module $scratch)"
    mkdir -p "$scratch" "$dir"
    export OUT=$dir/bin.partial
    rm -rf "$OUT"; mkdir -p "$OUT"
    cd "$scratch"
    case $tool in
      etcd) build_etcd ;;
      k8s) build_k8s ;;
      kwok) build_kwok ;;
      pulumi) build_pulumi ;;
      provider) build_provider ;;
    esac
    rm -rf "${dir:?}/bin"; mv "$OUT" "$dir/bin"
    is_built "$tool" || die "$tool: build finished but binaries are missing in $dir/bin"
    if [ "$tool" = provider ]; then install_provider_plugin; fi
    local s=$((SECONDS - t0))
    log "$tool $ver: built in $((s / 60))m$((s % 60))s -> $dir/bin"
  )
}

with_lock() { # tool command...: run command holding the tool's lock
  local tool=$1; shift
  mkdir -p "$CACHE"
  (
    exec 9>"$CACHE/.lock-$tool"
    flock 9
    "$@"
  )
}

# The provider's bin dir is deliberately NOT on this path: the engine finds the plugin in $PULUMI_HOME/plugins
# (see build_provider); on $PATH it would be used too, but with a warning on every run.
bin_path() {
  local t out=""
  for t in etcd k8s kwok pulumi; do out+="${out:+:}$(tool_dir "$t")/bin"; done
  echo "$out"
}

main() {
  local a t w t0 want=()
  case ${1:-all} in
    path) bin_path ;;
    env)
      printf 'export ANKA_CACHE=%q\n' "$CACHE"
      printf 'export PATH=%q\n' "$(bin_path):$PATH"
      # where the engine finds the kubernetes plugin (see build_provider)
      printf 'export PULUMI_HOME=%q\n' "$PULUMI_HOME_DIR"
      # fail at once instead of trying to download a missing plugin; no update check against the internet
      printf 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true\n'
      printf 'export PULUMI_SKIP_UPDATE_CHECK=true\n'
      ;;
    versions)
      printf 'etcd %s\nk8s %s\nkwok %s\npulumi %s\nprovider %s (provider/v4 %s, sdk/v4 %s)\n' \
        "$ETCD_VERSION" "$K8S_VERSION" "$KWOK_VERSION" "$PULUMI_VERSION" \
        "$PROVIDER_PLUGIN_VERSION" "$PROVIDER_MODULE_VERSION" "$PROVIDER_SDK_VERSION" ;;
    dir) [ $# -eq 2 ] || die "usage: $0 dir TOOL"; tool_dir "$2" ;;
    -h|--help|help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0" ;;
    *)
      for a in "$@"; do
        case $a in
          all) want+=("${TOOLS[@]}") ;;
          etcd|k8s|kwok|pulumi|provider) want+=("$a") ;;
          *) die "unknown subcommand $a (etcd|k8s|kwok|pulumi|provider|all|path|env|versions|dir)" ;;
        esac
      done
      [ ${#want[@]} -gt 0 ] || want=("${TOOLS[@]}")
      t0=$SECONDS
      for t in "${TOOLS[@]}"; do # always in the canonical order, each at most once
        for w in "${want[@]}"; do
          if [ "$w" = "$t" ]; then ensure "$t"; break; fi
        done
      done
      log "done in $((SECONDS - t0))s"
      ;;
  esac
}

# all on one line: bash has parsed it before running, so editing this file while a build runs is safe
main "$@"; exit $?
