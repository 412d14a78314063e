#!/usr/bin/env bash
# Builds the pinned tools that the local tests, the local cluster and the linters need, from the Go module
# proxy only (no GitHub downloads, no `pulumi plugin install`, no docker), one after another, each cached by
# version OUTSIDE the repository so that a fresh clone (or CI on the same machine) reuses them. This is the one
# place that builds a tool (scripts/linttools.sh runs the linters it builds).
#
#   $CACHE/<tool>-<version>/bin/        the binaries (a tool counts as built when all its binaries exist)
#   $CACHE/<tool>-<version>/reused      present when bin/ links binaries found on this machine (see below)
#   $CACHE/build/<tool>-<version>/      the scratch Go module each tool is built from
#   $CACHE/gocache, gocache-lint        GOCACHEs of their own, so the project's builds can't evict these (and
#                                       the linters' builds, which change more often, don't evict the big ones)
#   $CACHE/timings                      "<tool> <version> <seconds> <date>" of every build, for the progress lines
#   $CACHE/.lock-<tool>                 flock: two concurrent invocations never build the same tool twice
#
# Reuse before build: when every binary of a tool is on $PATH and reports the pinned version (the Kubernetes
# provider: when ${PULUMI_HOME:-~/.pulumi}/plugins/resource-kubernetes-v<version>/ holds it, e.g. from
# `pulumi plugin install resource kubernetes <version>`), bin/ links those binaries instead of building
# (ANKA_REUSE=0 turns this off; CI sets it so the cache holds what the module proxy serves). While a tool
# builds, a line every minute says which one, for how long, and how long its last build here took.
#
# usage: scripts/toolchain.sh [etcd|k8s|kwok|pulumi|provider|promtool|kube-score|runtime|all|actionlint|golangci-lint|lint]...
#                                        build or reuse (runtime = the five runtime tools, which make local
#                                        needs; default: all = the runtime tools, promtool,
#                                        which the alert-rule tests run, and kube-score, which the manifest
#                                        lint test runs; lint = the two linters), always in
#                                        the order above
#        scripts/toolchain.sh path       prints the bin dirs of etcd, k8s, kwok and pulumi joined by ':' for
#                                        export PATH="$(scripts/toolchain.sh path):$PATH"
#        scripts/toolchain.sh env        prints the `export ...` lines for running the engine locally:
#                                        eval "$(scripts/toolchain.sh env)"   (PATH, PULUMI_HOME, ...)
#        scripts/toolchain.sh versions   prints the pinned versions, one "<tool> <version>" line each
#        scripts/toolchain.sh dir TOOL   prints $CACHE/<tool>-<version> (e.g. for kwok's stages.yaml)
#        scripts/toolchain.sh cache-paths [TOOL|all|lint]...   the dirs to cache whole (CI), one a line
#        scripts/toolchain.sh fingerprint [TOOL|all|lint]...   a short hash of the tools' versions and
#                                        binaries: a CI cache key that changes exactly when they do
#
# Environment: ANKA_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/anka-ha), ANKA_REUSE (1), ANKA_GOCACHE_TRIM
# (0; 1 empties the build cache after each build, for small CI disks), ANKA_QUIET (0; 1 says nothing about
# tools already there, only about what it builds or reuses).
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
# What that means: the module proxy serves provider/v4 only as this January 2026 pseudo-version, built here
# against sdk/v4 v4.24.0 and presented to the engine as 4.32.0. The real-engine tests prove what the engine,
# the API server and this provider code do with the program's resources (create, update vs replace, await,
# delete, retain); they do not prove provider changes released after January 2026. A user who installed the
# released 4.32.0 (`pulumi plugin install resource kubernetes 4.32.0`) gets that one instead (reuse, above).
# promtool checks and unit-tests the alert rules (components/monitoring). The module's tags are v0.3XX.Y for
# Prometheus v3.XX.Y (v0.316.0 = 3.16.0, the newest served, November 2026; go 1.26.7, no replace directives).
PROMTOOL_VERSION=v0.316.0      # github.com/prometheus/prometheus/cmd/promtool
# kube-score lints the rendered Kubernetes manifests of every stack (tests/kubescore_test.go). kube-linter, the
# other well-known one, is not served by the module proxy (golang.stackrox.io/kube-linter: 403).
KUBE_SCORE_VERSION=v1.20.0     # github.com/zegl/kube-score (the only version served; go 1.23, no replaces)
ACTIONLINT_VERSION=v1.7.12      # github.com/rhysd/actionlint (newest served; go 1.25)
GOLANGCI_LINT_VERSION=v2.15.0   # github.com/golangci/golangci-lint/v2 (newest served; builds with go >= 1.26.0)

CACHE=${ANKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anka-ha}
PULUMI_HOME_DIR=$CACHE/pulumi-home   # PULUMI_HOME for the local engine: holds plugins/resource-kubernetes-v<ver>

RUNTIME_TOOLS=(etcd k8s kwok pulumi provider)   # `runtime`: what make local runs (control plane, nodes, engine)
TOOLS=("${RUNTIME_TOOLS[@]}" promtool kube-score)   # `all`: the runtime tools and what the tests add
LINT_TOOLS=(actionlint golangci-lint)    # `lint`: what scripts/linttools.sh runs
REUSE=${ANKA_REUSE:-1}

log() { printf '[toolchain %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

tool_version() {
  case $1 in
    etcd) echo "$ETCD_VERSION" ;;
    k8s) echo "$K8S_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    pulumi) echo "$PULUMI_VERSION" ;;
    provider) echo "v$PROVIDER_PLUGIN_VERSION-${PROVIDER_MODULE_VERSION##*-}" ;;
    promtool) echo "$PROMTOOL_VERSION" ;;
    kube-score) echo "$KUBE_SCORE_VERSION" ;;
    actionlint) echo "$ACTIONLINT_VERSION" ;;
    golangci-lint) echo "$GOLANGCI_LINT_VERSION" ;;
    *) die "unknown tool $1" ;;
  esac
}
write_tools_go() { # package...: the scratch module's tools.go, which imports each package to build
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    printf '\t_ "%s"\n' "$@"
    printf ')\n'
  } > tools.go
}
tool_dir() { echo "$CACHE/$1-$(tool_version "$1")"; }
tool_bins() { # the binaries a tool's bin/ holds; most hold one, named as the tool
  case $1 in
    etcd) echo "etcd etcdctl etcdutl" ;;
    k8s) echo "kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy" ;;
    provider) echo "pulumi-resource-kubernetes" ;;
    kwok|pulumi|promtool|kube-score|actionlint|golangci-lint) echo "$1" ;;
  esac
}
is_built() { # tool
  local d b
  d=$(tool_dir "$1")
  for b in $(tool_bins "$1"); do [ -x "$d/bin/$b" ] || return 1; done
  if [ "$1" = kwok ]; then [ -s "$d/stages.yaml" ] || return 1; fi
  # reused binaries belong to the machine and can change under us (an upgrade): check them each time (~0.1 s)
  if [ -f "$d/reused" ]; then reused_still_match "$1" || return 1; fi
}

# ------------------------------------------------------------------------------------------- reuse
# The version a binary reports, as the pin writes it (vX.Y.Z), or nothing. Each --version is bounded by a
# timeout, so a broken binary on PATH cannot hang the build.
bin_version() { # binary-path
  local b=$1 n
  n=$(basename "$b")
  case $n in
    etcd) timeout 10 "$b" --version 2>/dev/null | sed -n 's/^etcd Version: /v/p' ;;
    etcdctl|etcdutl) timeout 10 "$b" version 2>/dev/null | sed -n "s/^$n version: /v/p" ;;
    kubectl) timeout 10 "$b" version --client 2>/dev/null | sed -n 's/^Client Version: //p' ;;
    # "kube-score version: 1.20.0, commit: N/A, built: N/A" -> v1.20.0 (build_kube_score sets the version);
    # before kube-*, which would match it
    kube-score) timeout 10 "$b" version 2>/dev/null | sed -n 's/^kube-score version: \([0-9][^,]*\),.*/v\1/p' ;;
    kube-*|kubelet) timeout 10 "$b" --version 2>/dev/null | sed -n 's/^Kubernetes //p' ;;
    kwok) timeout 10 "$b" --version 2>/dev/null | sed -n 's/^kwok version \(v[^ ]*\).*/\1/p' ;;
    pulumi) timeout 10 "$b" version 2>/dev/null | head -n 1 ;;
    # "promtool, version 3.16.0 (branch: ...)" -> the module's v0.316.0 (Debian's promtool 2.x never matches)
    promtool) timeout 10 "$b" --version 2>/dev/null |
      sed -n 's/^promtool, version 3\.\([0-9]*\)\.\([0-9]*\) .*/\1 \2/p' | awk '{printf "v0.3%02d.%s\n", $1, $2}' ;;
    actionlint) timeout 10 "$b" -version 2>/dev/null | head -n 1 ;;
    golangci-lint) timeout 10 "$b" version 2>/dev/null | sed -n 's/^golangci-lint has version \([^ ]*\) .*/v\1/p' ;;
  esac
}

# The released provider in the user's own Pulumi plugin directory (never ours, never a .partial install).
user_plugin() {
  local home=${PULUMI_HOME:-$HOME/.pulumi} d
  [ "$(readlink -f "$home")" != "$(readlink -f "$PULUMI_HOME_DIR")" ] || return 1
  d=$home/plugins/resource-kubernetes-v$PROVIDER_PLUGIN_VERSION
  [ -x "$d/pulumi-resource-kubernetes" ] && [ ! -e "$d.partial" ] || return 1
  echo "$d/pulumi-resource-kubernetes"
}

# Prints the machine's binaries of a tool, one a line, when every one of them is there at the pinned
# version; fails (saying why when a binary is there at another version) otherwise.
reusable() { # tool
  local tool=$1 b p v want
  if [ "$tool" = provider ]; then user_plugin; return; fi
  want=$(tool_version "$tool")
  for b in $(tool_bins "$tool"); do
    p=$(command -v "$b" 2>/dev/null) || return 1
    case $(readlink -f "$p") in "$CACHE"/*) return 1 ;; esac   # our own cache on PATH (toolchain.sh env)
    v=$(bin_version "$p")
    if [ "$v" != "$want" ]; then
      log "$tool $want: $p reports ${v:-no version}, so it is built instead"
      return 1
    fi
    readlink -f "$p"
  done
}

reused_still_match() { # tool
  local d b
  d=$(tool_dir "$1")
  [ "$1" = provider ] && return 0   # a plugin dir's name is its version; the link checks that it still exists
  for b in $(tool_bins "$1"); do
    [ "$(bin_version "$d/bin/$b")" = "$(tool_version "$1")" ] || return 1
  done
}

link_reused() { # tool binary-paths...: bin/ of links to them (atomic, like a build)
  local tool=$1 dir p; shift
  dir=$(tool_dir "$tool")
  mkdir -p "$dir"
  rm -rf "$dir/bin.partial"; mkdir -p "$dir/bin.partial"
  for p in "$@"; do ln -s "$p" "$dir/bin.partial/$(basename "$p")"; done
  if [ "$tool" = kwok ]; then go_env; kwok_stages "$dir"; fi
  printf '%s\n' "$@" > "$dir/reused"
  rm -rf "${dir:?}/bin"; mv "$dir/bin.partial" "$dir/bin"
}

# ------------------------------------------------------------------------------------------- build
tool_gocache() { # tool
  case $1 in
    actionlint|golangci-lint) echo "$CACHE/gocache-lint" ;;
    *) echo "$CACHE/gocache" ;;
  esac
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
    write_tools_go go.etcd.io/etcd/etcdctl/v3 \
      go.etcd.io/etcd/etcdutl/v3 \
      go.etcd.io/etcd/server/v3
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
  # kubelet and kube-proxy (scripts/realnode.sh) joined the list later: a scratch module tidied without
  # them lacks their dependencies, so it is set up again
  grep -q cmd/kube-proxy tools.go 2>/dev/null || rm -f .scratch-ready
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
    write_tools_go k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kube-proxy \
      k8s.io/kubernetes/cmd/kubectl \
      k8s.io/kubernetes/cmd/kubelet
    go mod tidy
    touch .scratch-ready   # set up once; a failed setup is redone from scratch
  fi
  local V=k8s.io/component-base/version C=k8s.io/client-go/pkg/version
  local LDF="-s -w -X $V.gitVersion=$K8S_VERSION -X $V.gitMajor=1 -X $V.gitMinor=$minor -X $V.gitTreeState=clean"
  LDF+=" -X $C.gitVersion=$K8S_VERSION -X $C.gitMajor=1 -X $C.gitMinor=$minor -X $C.gitTreeState=clean"
  go build -trimpath -ldflags "$LDF" -o "$OUT/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
}

build_kwok() {
  # kwok's go.mod has no replace directives, so a plain `go install mod@version` works.
  GOBIN=$OUT go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  kwok_stages "$OUT/.."
}

kwok_stages() { # dir: writes dir/stages.yaml
  # kwok itself ships no Stage objects (kwokctl normally generates them): node initialize + lease heartbeat,
  # and the fast pod stages (ready, complete, delete), from the module's kustomize/stage folder.
  local D f out=$1/stages.yaml
  D=$(mod_dir "sigs.k8s.io/kwok@$KWOK_VERSION")/kustomize/stage
  [ -d "$D" ] || die "no $D"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ -f "$D/$f" ] || die "no $D/$f"
    echo "---"; cat "$D/$f"
  done > "$out.tmp"
  mv "$out.tmp" "$out"
}

# The linters' modules have no replace directives, so `go install mod@version` builds exactly what upstream
# pins in its go.mod/go.sum; the version they print comes from the module's build info. golangci-lint's docs
# discourage `go install` (the binary then depends on the local Go); here the module proxy is the only
# source, so it is built pinned with GOTOOLCHAIN=local: by a Go at least as new as the go directive of the
# code it lints (go.mod: go 1.26).
build_actionlint() {
  GOBIN=$OUT go install -trimpath -ldflags "-s -w" "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
}
# promtool's go.mod has no replace directives either; the version it prints (`promtool --version`) is set the
# way Prometheus's own release build (promu) sets it, from the module tag: v0.3XX.Y is Prometheus 3.XX.Y.
build_promtool() {
  local v=${PROMTOOL_VERSION#v0.3}
  v="3.$((10#${v%%.*})).${v#*.}"
  GOBIN=$OUT go install -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=$v" \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION"
}
# kube-score's go.mod has no replace directives either; its version variables are what its release build
# (goreleaser) sets: main.version without the tag's v.
build_kube_score() {
  GOBIN=$OUT go install -trimpath -ldflags "-s -w -X main.version=${KUBE_SCORE_VERSION#v}" \
    "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
}
build_golangci_lint() {
  GOBIN=$OUT go install -trimpath -ldflags "-s -w" \
    "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
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
    write_tools_go github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
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
fmt_s() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# What the progress lines compare with: this machine's last build of the tool, else the figures measured on
# the project's 2-core machine (the whole runtime toolchain 2951 s cold; golangci-lint 4m47s).
last_build() { # tool version
  local s
  s=$(awk -v t="$1" -v v="$2" '$1 == t && $2 == v {s = $3} END {print s}' "$CACHE/timings" 2>/dev/null)
  if [ -n "$s" ]; then echo "its last build here took $(fmt_s "$s")"; return; fi
  case $1 in
    golangci-lint) echo "cold on 2 cores: about 5 minutes" ;;
    actionlint) echo "cold on 2 cores: about a minute" ;;
    kube-score) echo "cold on 2 cores: about 2 minutes" ;;
    promtool) echo "cold on 2 cores: 17m36s (8m20s of CPU, the rest module downloads on a shared machine)" ;;
    *) echo "no earlier build here; all five runtime tools took 49 minutes cold on 2 cores" ;;
  esac
}

heartbeat() { # tool version: a line a minute while the build runs (go build itself prints nothing)
  local t0=$SECONDS since n=0
  since=$(last_build "$1" "$2")
  # short sleeps, so that what outlives the kill at the end of the build is at most a 5-second sleep
  while sleep 5; do
    n=$((n + 5))
    [ $((n % 60)) -ne 0 ] || log "$1 $2: still building, $(fmt_s $((SECONDS - t0))) so far ($since)"
  done
}

ensure() { # tool [quiet]
  local tool=$1 dir ver found
  dir=$(tool_dir "$tool"); ver=$(tool_version "$tool")
  if is_built "$tool"; then
    if [ -z "${2:-}" ] && [ "${ANKA_QUIET:-0}" != 1 ]; then
      if [ -f "$dir/reused" ]; then log "$tool $ver: reusing $(tr '\n' ' ' < "$dir/reused")(same version)"
      else log "$tool $ver: cached in $dir/bin"; fi
    fi
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
    rm -f "$dir/reused"
    if [ "$REUSE" = 1 ] && found=$(reusable "$tool") && [ -n "$found" ]; then
      local paths=()
      mapfile -t paths <<< "$found"
      link_reused "$tool" "${paths[@]}"
      is_built "$tool" || die "$tool: linked ${paths[*]} but they do not check out"
      log "$tool $ver: reusing ${paths[*]} (same version as pinned; not built)"
      if [ "$tool" = provider ]; then install_provider_plugin; fi
      exit 0
    fi
    go_env
    GOCACHE=$(tool_gocache "$tool"); export GOCACHE
    local t0=$SECONDS scratch=$CACHE/build/$tool-$ver hb
    log "$tool $ver: building from the Go module proxy ($(last_build "$tool" "$ver"); scratch module $scratch)"
    heartbeat "$tool" "$ver" 9>&- &   # without the lock's fd: it must not hold the lock
    hb=$!
    trap 'kill "$hb" 2>/dev/null || true' EXIT   # the heartbeat is this subshell's own child
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
      promtool) build_promtool ;;
      kube-score) build_kube_score ;;
      actionlint) build_actionlint ;;
      golangci-lint) build_golangci_lint ;;
    esac
    rm -rf "${dir:?}/bin"; mv "$OUT" "$dir/bin"
    is_built "$tool" || die "$tool: build finished but binaries are missing in $dir/bin"
    if [ "$tool" = provider ]; then install_provider_plugin; fi
    local s=$((SECONDS - t0))
    echo "$tool $ver $s $(date -u +%FT%TZ)" >> "$CACHE/timings"
    log "$tool $ver: built in $(fmt_s "$s") -> $dir/bin"
    if [ "${ANKA_GOCACHE_TRIM:-0}" = 1 ]; then go clean -cache; log "$tool $ver: emptied $GOCACHE (ANKA_GOCACHE_TRIM=1)"; fi
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

# The tools named by the arguments (all, lint, or single tools; none: all), in canonical order, each once.
selected() { # args...
  local a t w want=()
  for a in "$@"; do
    case $a in
      all) want+=("${TOOLS[@]}") ;;
      runtime) want+=("${RUNTIME_TOOLS[@]}") ;;
      lint) want+=("${LINT_TOOLS[@]}") ;;
      etcd|k8s|kwok|pulumi|provider|promtool|kube-score|actionlint|golangci-lint) want+=("$a") ;;
      *) die "unknown tool or subcommand $a (etcd|k8s|kwok|pulumi|provider|promtool|kube-score|runtime|all|actionlint|golangci-lint|lint|path|env|versions|dir|cache-paths|fingerprint)" ;;
    esac
  done
  [ ${#want[@]} -gt 0 ] || want=("${TOOLS[@]}")
  for t in "${TOOLS[@]}" "${LINT_TOOLS[@]}"; do
    for w in "${want[@]}"; do
      if [ "$w" = "$t" ]; then echo "$t"; break; fi
    done
  done
}

main() {
  local t t0 tools
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
      printf 'etcd %s\nk8s %s\nkwok %s\npulumi %s\nprovider %s (provider/v4 %s, sdk/v4 %s)\npromtool %s\nkube-score %s\nactionlint %s\ngolangci-lint %s\n' \
        "$ETCD_VERSION" "$K8S_VERSION" "$KWOK_VERSION" "$PULUMI_VERSION" \
        "$PROVIDER_PLUGIN_VERSION" "$PROVIDER_MODULE_VERSION" "$PROVIDER_SDK_VERSION" "$PROMTOOL_VERSION" "$KUBE_SCORE_VERSION" \
        "$ACTIONLINT_VERSION" "$GOLANGCI_LINT_VERSION" ;;
    dir) [ $# -eq 2 ] || die "usage: $0 dir TOOL"; tool_dir "$2" ;;
    cache-paths) shift; tools=$(selected "$@"); for t in $tools; do tool_dir "$t"; done ;;
    fingerprint)
      shift; tools=$(selected "$@")
      # versions and binaries (a tool that gains a binary, like k8s's kubelet, is rebuilt and re-cached)
      for t in $tools; do echo "$t $(tool_version "$t") $(tool_bins "$t")"; done | sha256sum | cut -c1-16 ;;
    -h|--help|help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0" ;;
    *)
      tools=$(selected "$@")
      t0=$SECONDS
      for t in $tools; do ensure "$t"; done
      [ "${ANKA_QUIET:-0}" = 1 ] || log "done in $((SECONDS - t0))s"
      ;;
  esac
}

# all on one line: bash has parsed it before running, so editing this file while a build runs is safe
main "$@"; exit $?
