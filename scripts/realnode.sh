#!/usr/bin/env bash
# Real worker nodes for the local control plane (scripts/localcluster.sh started with ANKA_LOCAL_NODES=real):
# the workload's containers really run, so what only a container runtime can refuse (a probe on the wrong
# port, a Secret mode a non-root user cannot read, a write under a read-only root, peers that cannot resolve
# each other) fails here rather than on AWS.
#
# One machine, three nodes, one per zone local-1a/b/c, each with its own
#   containerd  Debian's 1.6 with its own config, root, state and socket; CRI with restrict_oom_score_adj
#               (this machine forbids lowering oom_score_adj) and the sandbox image anka.local/pause:standin;
#   CNI         Debian's containernetworking-plugins: a bridge anka-br-<i> (gateway 10.244.<i>.1/24,
#               host-local addresses) in the host's network namespace, so pods of all nodes reach each other;
#   kubelet     built by scripts/toolchain.sh k8s (same version as the API server), failCgroupV1: false (the
#               machine mounts cgroup v1), its own cgroup root /anka-<node> (three kubelets must not clean up
#               each other's pod cgroups), root dir and pod log dir; its node IP is its bridge's gateway, its
#               API open to certificates of the cluster CA only;
# and, for all of them, one kube-proxy (iptables) and CoreDNS (built here from the Go module proxy) on the
# three gateways serving cluster.local from the API server. Images are built by scripts/realimages.sh and
# imported into every containerd (nothing is pulled).
#
# Processes are started detached with their PID and binary recorded in $RUN/realnode/pids, and stopped only by
# those PIDs after checking the PID still runs that binary. Node names: real-local-1a/b/c. Only one set of real
# nodes per machine (bridges, iptables chains and the host's DNS port are machine-wide): `start` refuses if
# another run dir's nodes are up.
#
# usage: scripts/realnode.sh build     CoreDNS and the images (cached under $ANKA_CACHE)
#        scripts/realnode.sh start     build, start (idempotent: reuses what runs), wait for 3 Ready nodes
#        scripts/realnode.sh stop      kill the pods' containers, stop kubelets, kube-proxy, CoreDNS, containerd
#        scripts/realnode.sh status    processes and nodes
#        scripts/realnode.sh clean     stop, remove the bridges, kube-proxy's rules and the run dir's node state
#
# Environment: ANKA_CACHE, ANKA_LOCAL_RUN (as scripts/localcluster.sh: the control plane's run dir, whose
# admin kubeconfig and CA this uses), ANKA_LOCAL_TIMEOUT.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${ANKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anka-ha}
export ANKA_CACHE=$CACHE
CPRUN=${ANKA_LOCAL_RUN:-$CACHE/run/localcluster}   # the control plane's run dir
RUN=$CPRUN/realnode
PIDS=$RUN/pids
LOGS=$RUN/logs
TIMEOUT=${ANKA_LOCAL_TIMEOUT:-180}
OWNER=$CACHE/run/realnode.owner      # which run dir's nodes hold the machine-wide resources
ZONES=(local-1a local-1b local-1c)
REGION=local-1
COREDNS_VERSION=v1.14.7              # github.com/coredns/coredns; uses k8s.io/client-go v0.35.4, as the toolchain
CLUSTER_CIDR=10.244.0.0/16           # pods (node i: 10.244.<i+1>.0/24); what localcluster.sh gives KWOK too
KUBELET_PORT_BASE=21250              # node i: kubelet 21250+2i, healthz 21251+2i (127.0.0.1)
PROXY_HEALTH_PORT=21290
PROXY_METRICS_PORT=21291
COREDNS_HEALTH_PORT=21292
SANDBOX_IMAGE=anka.local/pause:standin
DEVICE_PLUGIN_SOCK=/var/lib/kubelet/device-plugins/kubelet.sock   # one per machine, whatever --root-dir says
STARTED=0

log() { printf '[realnode %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

node_name() { echo "real-${ZONES[$1]}"; }
gateway() { echo "10.244.$(($1 + 1)).1"; }

# ------------------------------------------------------------------------------------------- processes
# shellcheck source=scripts/pids.sh
source "$HERE/pids.sh"

wait_for() { # description command...
  local desc=$1; shift
  local end=$((SECONDS + TIMEOUT)) c
  until "$@" >/dev/null 2>&1; do
    for c in "${COMPONENTS[@]}"; do
      if [ -f "$PIDS/$c.pid" ] && ! pid_of "$c" >/dev/null; then
        log "$c exited while waiting for $desc; last lines of $LOGS/$c.log:"; tail -n 30 "$LOGS/$c.log" >&2 || true
        return 1
      fi
    done
    if [ $SECONDS -ge $end ]; then log "TIMEOUT after ${TIMEOUT}s waiting for $desc"; return 1; fi
    sleep 0.5
  done
  log "$desc ready"
}

COMPONENTS=()
for i in "${!ZONES[@]}"; do COMPONENTS+=("containerd-$i" "kubelet-$i"); done
COMPONENTS+=(kube-proxy coredns)

# ------------------------------------------------------------------------------------------- build
K8S_BIN=$("$HERE/toolchain.sh" dir k8s)/bin
COREDNS_DIR=$CACHE/coredns-$COREDNS_VERSION

# CoreDNS with only the plugins used here (upstream's main imports every plugin, dozens of cloud SDKs among
# them): a scratch module whose main registers bind, health, errors, template and kubernetes, in the order of
# upstream's plugin.cfg. The binary is rebuilt when this main changes (its hash is kept beside it).
coredns_main() {
  cat <<'EOF'
// CoreDNS with the plugins the local real nodes use (see scripts/realnode.sh).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/template"
	"github.com/coredns/coredns/coremain"
)

func main() {
	// the order plugins run in, as in upstream's plugin.cfg
	dnsserver.Directives = []string{"bind", "health", "errors", "template", "kubernetes"}
	coremain.Run()
}
EOF
}

coredns_current() { # wanted hash: the built binary comes from this main
  [ -x "$COREDNS_DIR/bin/coredns" ] && [ "$(cat "$COREDNS_DIR/bin/main.go.sha256" 2>/dev/null)" = "$1" ]
}

build_coredns() {
  local want
  want=$(coredns_main | sha256sum | cut -d' ' -f1)
  coredns_current "$want" && return 0
  (
    exec 9>"$CACHE/.lock-coredns"; flock 9
    coredns_current "$want" && exit 0
    command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH
    export GOCACHE=$CACHE/gocache GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
    local t0=$SECONDS scratch=$CACHE/build/coredns-$COREDNS_VERSION
    log "coredns $COREDNS_VERSION: building (scratch module $scratch)"
    mkdir -p "$scratch" "$COREDNS_DIR"; cd "$scratch"
    coredns_main > main.go
    if [ ! -f .scratch-ready ]; then
      rm -f go.mod go.sum
      go mod init anka-toolchain/coredns >/dev/null 2>&1
      go mod edit -require="github.com/coredns/coredns@$COREDNS_VERSION"
      go mod tidy
      touch .scratch-ready
    fi
    rm -rf "$COREDNS_DIR/bin.partial"
    go build -trimpath -ldflags "-s -w" -o "$COREDNS_DIR/bin.partial/coredns" .
    echo "$want" > "$COREDNS_DIR/bin.partial/main.go.sha256"
    rm -rf "${COREDNS_DIR:?}/bin"; mv "$COREDNS_DIR/bin.partial" "$COREDNS_DIR/bin"
    log "coredns $COREDNS_VERSION: built in $((SECONDS - t0))s"
  )
}

build() {
  "$HERE/toolchain.sh" etcd k8s
  local b
  for b in kubelet kube-proxy; do [ -x "$K8S_BIN/$b" ] || die "no $K8S_BIN/$b (scripts/toolchain.sh k8s builds it)"; done
  for b in /usr/bin/containerd /usr/sbin/runc /usr/lib/cni/bridge /usr/sbin/iptables; do
    [ -x "$b" ] || die "no $b: install Debian's containerd, runc, containernetworking-plugins and iptables (scripts/deps.sh)"
  done
  build_coredns
  "$HERE/realimages.sh" build > "$RUN.images.tmp"   # "<ref> <tarball>" per image, imported by start
}

# ------------------------------------------------------------------------------------------- configuration
gen_node_pki() { # client certificates for the kubelets (system:node:<name>) and kube-proxy, from the cluster CA
  local pki=$CPRUN/pki n i
  [ -f "$pki/ca.key" ] || die "no $pki/ca.key: start the control plane first (ANKA_LOCAL_NODES=real scripts/localcluster.sh start)"
  mkdir -p "$RUN/pki"
  sign() { # name subject
    [ -f "$RUN/pki/$1.crt" ] && return 0
    openssl req -newkey rsa:2048 -nodes -keyout "$RUN/pki/$1.key" -out "$RUN/pki/$1.csr" -subj "$2" 2>/dev/null
    openssl x509 -req -in "$RUN/pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
      -CAserial "$RUN/pki/ca.srl" -out "$RUN/pki/$1.crt" -days 3650 \
      -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n') 2>/dev/null
    rm -f "$RUN/pki/$1.csr"; chmod 600 "$RUN/pki/$1.key"
  }
  for i in "${!ZONES[@]}"; do
    n=$(node_name "$i")
    sign "$n" "/O=system:nodes/CN=system:node:$n"
    kubeconfig "$n" > "$RUN/$n.kubeconfig"
  done
  sign kube-proxy "/CN=system:kube-proxy"   # bound to system:node-proxier by the default RBAC
  kubeconfig kube-proxy > "$RUN/kube-proxy.kubeconfig"
}

kubeconfig() { # name: a kubeconfig with the certificate of $RUN/pki/<name>, the API server of admin.kubeconfig
  local server
  server=$(awk '/server:/ {print $2; exit}' "$CPRUN/admin.kubeconfig")
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: anka-local
  cluster: {server: "$server", certificate-authority-data: $(base64 -w0 < "$CPRUN/pki/ca.crt")}
users:
- name: $1
  user: {client-certificate-data: $(base64 -w0 < "$RUN/pki/$1.crt"), client-key-data: $(base64 -w0 < "$RUN/pki/$1.key")}
contexts:
- name: anka-local
  context: {cluster: anka-local, user: $1}
current-context: anka-local
EOF
}

containerd_config() { # i
  local d=$RUN/node-$1
  cat <<EOF
version = 2
root = "$d/containerd/root"
state = "$d/containerd/state"
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  level = "warn"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$SANDBOX_IMAGE"
  # this machine forbids lowering oom_score_adj, even as root: without the clamp runc fails every sandbox
  # with "can't get final child's PID from pipe" (the kubelet asks -998)
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
EOF
}

cni_config() { # i: a bridge on the host per node; no masquerade (nothing leaves the machine), hairpin for
  # a pod reaching itself through a Service
  cat <<EOF
{
  "cniVersion": "0.4.0",
  "name": "anka-$1",
  "plugins": [
    {"type": "bridge", "bridge": "anka-br-$1", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$RUN/node-$1/ipam",
              "ranges": [[{"subnet": "10.244.$(($1 + 1)).0/24", "gateway": "$(gateway "$1")"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "loopback"}
  ]
}
EOF
}

# The kubelets share this machine's disk with everything else on it, so its
# fullness says nothing about the test: a run here failed when the host
# reached 95% and image garbage collection removed the imported stand-ins,
# the sandbox's pause image among them ("failed to pull
# anka.local/pause:standin": it exists only as an import). So image GC is
# off (imageGCHighThresholdPercent 100; KubeletConfiguration: "to disable
# image garbage collection, set to 100") and eviction waits for the last GiB.
kubelet_config() { # i
  local d=$RUN/node-$1
  cat <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# the machine mounts cgroup v1 (KEP-5573: kubelet 1.35 refuses it unless told)
failCgroupV1: false
cgroupDriver: cgroupfs
# three kubelets on one machine: each owns its own cgroup tree, or each would remove the others' pod cgroups
cgroupRoot: /anka-$(node_name "$1")
cgroupsPerQOS: true
containerRuntimeEndpoint: unix://$d/containerd.sock
podLogsDir: $d/pods-logs
# the node's address is its bridge's gateway (the kubelet refuses a loopback node IP), which the pods can
# reach too: only clients with a certificate of the cluster CA get in (the API server for logs/exec)
address: $(gateway "$1")
port: $((KUBELET_PORT_BASE + 2 * $1))
healthzBindAddress: 127.0.0.1
healthzPort: $((KUBELET_PORT_BASE + 2 * $1 + 1))
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $CPRUN/pki/ca.crt}
authorization: {mode: AlwaysAllow}
clusterDomain: cluster.local
clusterDNS: ["$(gateway "$1")"]
resolvConf: ""
failSwapOn: false
serializeImagePulls: false
registerNode: true
nodeStatusUpdateFrequency: 10s
evictionHard: {memory.available: 200Mi, nodefs.available: 1Gi, imagefs.available: 1Gi}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 60
EOF
}

corefile() {
  local binds="" i
  for i in "${!ZONES[@]}"; do binds+=" $(gateway "$i")"; done
  cat <<EOF
# the reverse zones too, as EKS's CoreDNS serves them: etcd checks a peer's client certificate against the
# name its address resolves to (a pod IP -> <pod>.<headless service>...), and refuses the peer otherwise
cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
    bind$binds
    errors
    health 127.0.0.1:$COREDNS_HEALTH_PORT
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $CPRUN/admin.kubeconfig anka-local
        pods insecure
    }
}
.:53 {
    bind$binds
    errors
    # nothing outside the cluster resolves here (the workload needs nothing else)
    template ANY ANY {
        rcode NXDOMAIN
    }
}
EOF
}

cgroup_root() { # i: create /anka-<node> in every v1 hierarchy (cpuset needs its cpus/mems filled in)
  local c r
  r=/anka-$(node_name "$1")
  for c in /sys/fs/cgroup/*/; do
    case $c in */unified/) continue ;; esac
    mkdir -p "$c${r#/}"
  done
  if [ -d /sys/fs/cgroup/cpuset ]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus > "/sys/fs/cgroup/cpuset${r}/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems > "/sys/fs/cgroup/cpuset${r}/cpuset.mems"
  fi
}

bridge() { # i: the node's bridge with its gateway address, before any pod (CoreDNS binds to it)
  local b=anka-br-$1 gw
  gw=$(gateway "$1")
  ip link show "$b" >/dev/null 2>&1 || ip link add "$b" type bridge
  # (not `ip | grep -q`: with pipefail, grep's early exit can fail the pipeline)
  case $(ip -4 -o addr show dev "$b") in *" $gw/24 "*) ;; *) ip addr add "$gw/24" dev "$b" ;; esac
  ip link set "$b" up
}

ctr_() { local i=$1; shift; ctr --address "$RUN/node-$i/containerd.sock" --namespace k8s.io "$@"; }

import_images() { # i: every image of scripts/realimages.sh that this containerd lacks
  local ref tar have
  have=$(ctr_ "$1" images ls -q 2>/dev/null || true)
  while read -r ref tar; do
    if ! grep -qx "$ref" <<<"$have" || [ "$tar" -nt "$RUN/node-$1/imported-$(basename "$(dirname "$tar")")" ]; then
      ctr_ "$1" images import --no-unpack=false "$tar" >/dev/null
      touch "$RUN/node-$1/imported-$(basename "$(dirname "$tar")")"
      log "node $(node_name "$1"): imported $ref"
    fi
  done < "$RUN.images"
}

SINCE=1970-01-01T00:00:00Z   # start's time: a node counts as Ready only with a heartbeat since (not a stale status)
ready_nodes() {
  "$K8S_BIN/kubectl" --kubeconfig "$CPRUN/admin.kubeconfig" --request-timeout=10s get nodes -l anka.io/real-node=true \
    -o jsonpath='{range .items[*]}{range .status.conditions[?(@.type=="Ready")]}{.status} {.lastHeartbeatTime}{"\n"}{end}{end}' 2>/dev/null |
    awk -v since="$SINCE" '$1 == "True" && $2 >= since {n++} END {print n + 0}'
}
all_ready() { [ "$(ready_nodes)" -ge "${#ZONES[@]}" ]; }
all_running() { local c; for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null || return 1; done; }

# ------------------------------------------------------------------------------------------- commands
start() {
  local t0=$SECONDS i n d
  mkdir -p "$RUN" "$PIDS" "$LOGS"
  exec 8>"$RUN/.lock"; flock 8
  build
  mv "$RUN.images.tmp" "$RUN.images"
  if [ -f "$OWNER" ] && [ "$(cat "$OWNER")" != "$RUN" ] && [ -d "$(cat "$OWNER")/pids" ] &&
    ANKA_LOCAL_RUN=$(dirname "$(cat "$OWNER")") "$0" status >/dev/null 2>&1; then
    die "real nodes of $(cat "$OWNER") are running (one set per machine): stop them with ANKA_LOCAL_RUN=$(dirname "$(cat "$OWNER")") $0 stop"
  fi
  echo "$RUN" > "$OWNER"
  if all_running && all_ready; then log "already running"; return 0; fi
  # a kubelet (re)started now posts its status at once: older Ready conditions are from before
  SINCE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  trap 'if [ "$STARTED" = 0 ]; then log "start failed (logs in $LOGS), stopping what it started"; stop_all; fi' EXIT
  gen_node_pki
  # pods on different bridges reach each other through the host; Services need the bridge traffic in iptables
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  for i in "${!ZONES[@]}"; do
    n=$(node_name "$i"); d=$RUN/node-$i
    mkdir -p "$d/cni" "$d/kubelet" "$d/pods-logs" "$d/ipam"
    containerd_config "$i" > "$d/containerd.toml"
    cni_config "$i" > "$d/cni/10-anka.conflist"
    kubelet_config "$i" > "$d/kubelet.yaml"
    cgroup_root "$i"
    bridge "$i"
    if ! pid_of "containerd-$i" >/dev/null; then
      # what a killed run left: dead pods' namespaces, and their addresses in host-local's store (the
      # sandboxes containerd recovers are torn down by the kubelet, which releases nothing twice)
      drop_dead_netns
      rm -rf "${d:?}/ipam"; mkdir -p "$d/ipam"
      spawn "containerd-$i" /usr/bin/containerd --config "$d/containerd.toml"
    fi
  done
  for i in "${!ZONES[@]}"; do
    wait_for "containerd-$i" ctr_ "$i" version
    import_images "$i"
  done
  # Every kubelet serves its device-plugin registry at one fixed path, not under --root-dir
  # (k8s.io/kubelet v0.35.4 pkg/apis/deviceplugin/v1beta1 DevicePluginPath); at start it empties that folder,
  # then binds (k8s.io/kubernetes v1.35.4 pkg/kubelet/cm/devicemanager/plugin/v1beta1/server.go, Start). Two
  # kubelets starting together can interleave so that one binds after the other emptied the folder and
  # before the other binds: that one gets EADDRINUSE and exits ("Failed to start ContainerManager", seen
  # once here). So they start one at a time: the socket is removed, and the next kubelet starts once this
  # one's bind has made it again.
  for i in "${!ZONES[@]}"; do
    n=$(node_name "$i"); d=$RUN/node-$i
    pid_of "kubelet-$i" >/dev/null && continue
    rm -f "$DEVICE_PLUGIN_SOCK"
    spawn "kubelet-$i" "$K8S_BIN/kubelet" --config "$d/kubelet.yaml" \
      --kubeconfig "$RUN/$n.kubeconfig" --root-dir "$d/kubelet" --hostname-override "$n" --node-ip "$(gateway "$i")" \
      --node-labels "anka.io/real-node=true,topology.kubernetes.io/zone=${ZONES[$i]},topology.kubernetes.io/region=$REGION,node.kubernetes.io/instance-type=local,eks.amazonaws.com/nodegroup=workers-${ZONES[$i]},eks.amazonaws.com/capacityType=ON_DEMAND" \
      --v 1
    wait_for "kubelet-$i's device-plugin socket" test -S "$DEVICE_PLUGIN_SOCK"
  done
  pid_of kube-proxy >/dev/null || spawn kube-proxy "$K8S_BIN/kube-proxy" --kubeconfig "$RUN/kube-proxy.kubeconfig" \
    --proxy-mode iptables --cluster-cidr "$CLUSTER_CIDR" --hostname-override "$(node_name 0)" \
    --healthz-bind-address "127.0.0.1:$PROXY_HEALTH_PORT" --metrics-bind-address "127.0.0.1:$PROXY_METRICS_PORT" \
    --conntrack-max-per-core 0 --v 1
  corefile > "$RUN/Corefile"
  pid_of coredns >/dev/null || spawn coredns "$COREDNS_DIR/bin/coredns" -conf "$RUN/Corefile"
  wait_for "CoreDNS" curl -sf --max-time 2 "http://127.0.0.1:$COREDNS_HEALTH_PORT/health"
  wait_for "kube-proxy" curl -s --max-time 2 "http://127.0.0.1:$PROXY_HEALTH_PORT/healthz"
  wait_for "${#ZONES[@]} Ready real nodes" all_ready
  STARTED=1
  "$K8S_BIN/kubectl" --kubeconfig "$CPRUN/admin.kubeconfig" get nodes -L topology.kubernetes.io/zone >&2
  log "real nodes ready in $((SECONDS - t0))s"
}

# kill_pods i: every container of that containerd, so no shim or pod process outlives the node. The kubelet
# is stopped first, so nothing restarts them.
kill_pods() {
  local i=$1 t
  pid_of "containerd-$i" >/dev/null || return 0
  for t in $(ctr_ "$i" tasks ls -q 2>/dev/null); do ctr_ "$i" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
  sleep 0.5
  for t in $(ctr_ "$i" tasks ls -q 2>/dev/null); do ctr_ "$i" tasks delete -f "$t" >/dev/null 2>&1 || true; done
}

# drop_dead_netns: the pods' network namespaces (containerd's /var/run/netns/cni-*) that no process uses any
# more. Killing the containers leaves them, with their veth on the bridge and its address: a new pod given
# the same address by host-local would share it with the dead one (ARP answers from either, connections to it
# are refused). Only one set of real nodes runs per machine and a live pod's namespace holds its sandbox
# process, so this never touches a running pod.
drop_dead_netns() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do
    if [ -z "$(ip netns pids "$ns" 2>/dev/null)" ]; then ip netns delete "$ns" 2>/dev/null || true; fi
  done
}

unmount_under() { # dir: whatever the kubelet and containerd left mounted there (secrets, rootfs, shm)
  local m
  awk -v d="$1/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

stop_all() {
  local i
  stop_group kubelet-0 kubelet-1 kubelet-2 kube-proxy coredns
  for i in "${!ZONES[@]}"; do kill_pods "$i"; done
  stop_group containerd-0 containerd-1 containerd-2
  unmount_under "$RUN"
  drop_dead_netns
}

stop() {
  mkdir -p "$RUN"
  exec 8>"$RUN/.lock"; flock 8
  stop_all
  if [ -f "$OWNER" ] && [ "$(cat "$OWNER")" = "$RUN" ]; then rm -f "$OWNER"; fi
}

status() {
  local c pid rc=0
  for c in "${COMPONENTS[@]}"; do
    if pid=$(pid_of "$c"); then
      printf '%-14s pid %-8s RSS %5d MiB\n' "$c" "$pid" $(($(awk '/^VmRSS/{print $2}' "/proc/$pid/status") / 1024))
    else
      printf '%-14s not running\n' "$c"; rc=1
    fi
  done
  [ $rc = 0 ] && "$K8S_BIN/kubectl" --kubeconfig "$CPRUN/admin.kubeconfig" get nodes -l anka.io/real-node=true -o wide 2>/dev/null
  return $rc
}

clean() {
  local i
  stop
  "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  for i in "${!ZONES[@]}"; do
    ip link del "anka-br-$i" 2>/dev/null || true
    rmdir /sys/fs/cgroup/*/"anka-$(node_name "$i")"/* /sys/fs/cgroup/*/"anka-$(node_name "$i")" 2>/dev/null || true
  done
  case $RUN in /|"$HOME"|"") die "refusing to remove $RUN" ;; esac
  rm -rf "$RUN" "$RUN.images"
  log "removed $RUN"
}

main() {
  case ${1:-} in
    build) mkdir -p "$RUN"; build; rm -f "$RUN.images.tmp" ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    clean) clean ;;
    *) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0" >&2; exit 2 ;;
  esac
}

main "$@"; exit $?
