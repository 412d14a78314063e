#!/usr/bin/env bash
# A local Kubernetes control plane for tests and for trying the project without AWS: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler, all built from the Go module proxy by scripts/toolchain.sh and run
# as plain processes on 127.0.0.1 only, plus KWOK simulating three worker nodes labelled like EKS managed nodes
# in three zones (no taint, so pods schedule as they would on EKS; KWOK marks them Running/Ready, nothing runs).
#
# usage: scripts/localcluster.sh start        build/reuse the tools, start (idempotent), wait for 3 Ready nodes
#        scripts/localcluster.sh stop         stop the processes (by their recorded PIDs), keep the data
#        scripts/localcluster.sh status       processes, memory, nodes
#        scripts/localcluster.sh kubeconfig   print the admin kubeconfig path ($RUN/admin.kubeconfig)
#        scripts/localcluster.sh clean|reset  stop and wipe the run dir
#
# Environment (defaults avoid the usual ports, so a real cluster or etcd on this machine is left alone):
#   ANKA_CACHE                 tool cache (see scripts/toolchain.sh)      default ~/.cache/anka-ha
#   ANKA_LOCAL_RUN             run dir (pki, data, logs, pids)             default $ANKA_CACHE/run/localcluster
#   ANKA_LOCAL_APISERVER_PORT  kube-apiserver https                        default 16443
#   ANKA_LOCAL_ETCD_PORT       etcd client                                 default 12379
#   ANKA_LOCAL_ETCD_PEER_PORT  etcd peer                                   default 12380
#   ANKA_LOCAL_KCM_PORT        kube-controller-manager https (healthz)     default 20257
#   ANKA_LOCAL_SCHEDULER_PORT  kube-scheduler https (healthz)              default 20259
#   ANKA_LOCAL_TIMEOUT         seconds to wait for each component          default 180
#   ANKA_LOCAL_NODES           kwok: three simulated nodes; real: three real kubelets with containerd
#                              (scripts/realnode.sh, started and stopped with the control plane)  default kwok
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLCHAIN=$HERE/toolchain.sh
CACHE=${ANKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anka-ha}
export ANKA_CACHE=$CACHE
RUN=${ANKA_LOCAL_RUN:-$CACHE/run/localcluster}
PKI=$RUN/pki
LOGS=$RUN/logs
PIDS=$RUN/pids
APISERVER_PORT=${ANKA_LOCAL_APISERVER_PORT:-16443}
ETCD_PORT=${ANKA_LOCAL_ETCD_PORT:-12379}
ETCD_PEER_PORT=${ANKA_LOCAL_ETCD_PEER_PORT:-12380}
KCM_PORT=${ANKA_LOCAL_KCM_PORT:-20257}
SCHEDULER_PORT=${ANKA_LOCAL_SCHEDULER_PORT:-20259}
TIMEOUT=${ANKA_LOCAL_TIMEOUT:-180}
SERVICE_CIDR=10.96.0.0/16   # the apiserver's service IP, 10.96.0.1, is in its certificate
POD_CIDR=10.244.0.0/16      # KWOK hands out pod IPs from here (nothing is routed; it is all simulated)
ZONES=(local-1a local-1b local-1c)
REGION=local-1
NODE_ANNOTATION=kwok.x-k8s.io/node=fake   # KWOK manages exactly the nodes with this annotation
STARTED=0
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)   # start order (stop_all: clients, apiserver, etcd)
NODES=${ANKA_LOCAL_NODES:-kwok}
case $NODES in
  kwok) ;;
  real) COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler) ;;   # the nodes: scripts/realnode.sh
  *) printf 'ANKA_LOCAL_NODES must be kwok or real, got %s\n' "$NODES" >&2; exit 2 ;;
esac

log() { printf '[localcluster %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

tool_bins() { # sets ETCD_BIN K8S_BIN KWOK_DIR from the toolchain's cache layout
  ETCD_BIN=$("$TOOLCHAIN" dir etcd)/bin
  K8S_BIN=$("$TOOLCHAIN" dir k8s)/bin
  KWOK_DIR=$("$TOOLCHAIN" dir kwok)
}
kubectl() { "$K8S_BIN/kubectl" --kubeconfig "$RUN/admin.kubeconfig" --request-timeout=10s "$@"; }

# ------------------------------------------------------------------------------------------- processes
# shellcheck source=scripts/pids.sh
source "$HERE/pids.sh"

stop_all() { # clients first, then the apiserver, then etcd
  stop_group kwok kube-scheduler kube-controller-manager
  stop_group kube-apiserver
  stop_group etcd
}

wait_for() { # description command...   (fails early if a started component has exited)
  local desc=$1; shift
  local end=$((SECONDS + TIMEOUT)) c
  until "$@" >/dev/null 2>&1; do
    for c in "${COMPONENTS[@]}"; do
      if [ -f "$PIDS/$c.pid" ] && ! pid_of "$c" >/dev/null; then
        log "$c exited while waiting for $desc; last lines of $LOGS/$c.log:"
        tail -n 20 "$LOGS/$c.log" >&2 || true
        return 1
      fi
    done
    if [ $SECONDS -ge $end ]; then
      log "TIMEOUT after ${TIMEOUT}s waiting for $desc; last log lines:"
      tail -n 20 "$LOGS"/*.log >&2 || true
      return 1
    fi
    sleep 0.25
  done
  log "$desc ready"
}

all_running() {
  local c
  for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null || return 1; done
}

ready_nodes() { # number of Ready simulated nodes
  kubectl get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{range .status.conditions[?(@.type=="Ready")]}{.status}{"\n"}{end}{end}' 2>/dev/null |
    grep -c '^True$' || true
}
three_ready() { [ "$(ready_nodes)" -ge 3 ]; }

# ------------------------------------------------------------------------------------------- recovery
# A start killed between spawning a component and recording its PID (or a PID file lost since) leaves a
# process no PID file names, which would hold its port. It is ours exactly when it runs our binary with our
# run dir on its command line (every component's flags name a file under $RUN): those are recorded and
# stopped like the others. Anything else on our ports is someone else's and is never signalled: start
# stops and says which variable moves the port.
bin_of() { # component -> the binary spawn runs for it
  case $1 in
    etcd) echo "$ETCD_BIN/etcd" ;;
    kwok) echo "$KWOK_DIR/bin/kwok" ;;
    *) echo "$K8S_BIN/$1" ;;
  esac
}

adopt_orphans() {
  local c exe p cur found=()
  for c in "${COMPONENTS[@]}"; do
    exe=$(readlink -f "$(bin_of "$c")") || continue
    for p in /proc/[0-9]*; do
      cur=$(readlink "$p/exe" 2>/dev/null) || continue
      [ "${cur% (deleted)}" = "$exe" ] || continue
      tr '\0' '\n' < "$p/cmdline" 2>/dev/null | grep -qF "$RUN/" || continue
      echo "${p#/proc/} $exe" > "$PIDS/$c.pid"
      found+=("$c")
      log "found $c (pid ${p#/proc/}) left running by an interrupted start without a PID file: stopping it"
      break
    done
  done
  [ ${#found[@]} -eq 0 ] || stop_all
}

check_ports() { # each port free, or die naming who holds it and the variable that moves ours
  local spec port var holder
  for spec in "$ETCD_PORT:ANKA_LOCAL_ETCD_PORT" "$ETCD_PEER_PORT:ANKA_LOCAL_ETCD_PEER_PORT" \
      "$APISERVER_PORT:ANKA_LOCAL_APISERVER_PORT" "$KCM_PORT:ANKA_LOCAL_KCM_PORT" "$SCHEDULER_PORT:ANKA_LOCAL_SCHEDULER_PORT"; do
    port=${spec%%:*} var=${spec#*:}
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | sed -n 's/.*users:((\(.*\))).*/\1/p' | head -n 1)
      die "127.0.0.1:$port is in use by another program${holder:+ ($holder)}, not by this cluster: stop it, or start this one on another port, e.g. $var=$((port + 10000)) $0 start"
    fi
  done
}

# ------------------------------------------------------------------------------------------- pki
gen_pki() {
  [ -f "$PKI/.complete" ] && return 0
  rm -rf "$PKI"; mkdir -p "$PKI"
  (
    cd "$PKI"
    local q=(-days 3650)
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt "${q[@]}" -subj "/CN=anka-local-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    printf '%s\n' \
      "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
      > server.ext
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=clientAuth" > client.ext
    sign() { # name subject extfile
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" "${q[@]}" -extfile "$3" 2>/dev/null
    }
    sign apiserver "/CN=kube-apiserver" server.ext
    sign apiserver-etcd-client "/CN=kube-apiserver-etcd-client" client.ext   # unused while etcd is plain http
    sign admin "/O=system:masters/CN=anka-local-admin" client.ext
    sign controller-manager "/CN=system:kube-controller-manager" client.ext
    sign scheduler "/CN=system:kube-scheduler" client.ext
    sign kwok "/O=system:masters/CN=kwok-controller" client.ext
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.csr ./*.ext ./*.srl
    chmod 600 ./*.key
    touch .complete
  )
  local n
  for n in admin controller-manager scheduler kwok; do
    # certificates embedded, so the file can be read and handed on (e.g. to a Pulumi kubernetes.Provider)
    cat > "$RUN/$n.kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: anka-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $n
  user:
    client-certificate-data: $(base64 -w0 < "$PKI/$n.crt")
    client-key-data: $(base64 -w0 < "$PKI/$n.key")
contexts:
- name: anka-local
  context: {cluster: anka-local, user: $n}
current-context: anka-local
EOF
    chmod 600 "$RUN/$n.kubeconfig.tmp"
    mv "$RUN/$n.kubeconfig.tmp" "$RUN/$n.kubeconfig"
  done
}

# ------------------------------------------------------------------------------------------- nodes
nodes_yaml() {
  local z name
  for z in "${ZONES[@]}"; do
    name=node-$z
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    ${NODE_ANNOTATION%%=*}: ${NODE_ANNOTATION#*=}
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/region: $REGION
    topology.kubernetes.io/zone: $z
    node.kubernetes.io/instance-type: m6i.2xlarge
    eks.amazonaws.com/nodegroup: workers-$z
    eks.amazonaws.com/capacityType: ON_DEMAND
status:
  allocatable: {cpu: "8", memory: 32Gi, pods: "110", ephemeral-storage: 80Gi}
  capacity: {cpu: "8", memory: 32Gi, pods: "110", ephemeral-storage: 80Gi}
EOF
  done
}

# ------------------------------------------------------------------------------------------- commands
start() {
  local t0=$SECONDS
  "$TOOLCHAIN" etcd k8s kwok
  tool_bins
  mkdir -p "$RUN"
  exec 8>"$RUN/.lock"
  flock 8   # concurrent `start`s (parallel tests) wait for the first one

  if [ "$NODES" = real ] && all_running; then
    "$HERE/realnode.sh" start
    log "already running: $RUN/admin.kubeconfig"
    echo "$RUN/admin.kubeconfig"
    return 0
  fi
  if [ "$NODES" = kwok ] && all_running && three_ready; then
    log "already running: $RUN/admin.kubeconfig"
    echo "$RUN/admin.kubeconfig"
    return 0
  fi
  stop_all   # whatever is left of an earlier run (processes only; data, certs and nodes are kept)
  mkdir -p "$PIDS"
  adopt_orphans
  check_ports
  trap 'if [ "$STARTED" = 0 ]; then log "start failed (logs in $LOGS), stopping what it started; if it fails again the same way, start over with: $0 clean && rm -rf $CACHE/local-stack && make local (wipes the local cluster and the local stack)"; stop_all; fi' EXIT
  mkdir -p "$LOGS" "$PIDS" "$RUN/etcd"
  gen_pki

  spawn etcd "$ETCD_BIN/etcd" --name anka-local --data-dir "$RUN/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "anka-local=http://127.0.0.1:$ETCD_PEER_PORT" \
    --quota-backend-bytes 2147483648 --unsafe-no-fsync --log-level warn
  wait_for etcd curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"

  spawn kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --allow-privileged=true --profiling=false \
    --kubelet-preferred-address-types InternalIP \
    --kubelet-client-certificate "$PKI/admin.crt" --kubelet-client-key "$PKI/admin.key"
  wait_for kube-apiserver kubectl get --raw /readyz

  spawn kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$RUN/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$RUN/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$RUN/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --use-service-account-credentials --leader-elect=false --profiling=false
  spawn kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$RUN/scheduler.kubeconfig" \
    --authentication-kubeconfig "$RUN/scheduler.kubeconfig" \
    --authorization-kubeconfig "$RUN/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false --profiling=false
  if [ "$NODES" = real ]; then
    wait_for kube-controller-manager curl -skf --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz"
    wait_for kube-scheduler curl -skf --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz"
    wait_for "default service account" kubectl get serviceaccount default -n default
    "$HERE/realnode.sh" start
    all_running || die "a component exited during start; see $LOGS"
    STARTED=1
    log "cluster with real nodes ready in $((SECONDS - t0))s; export KUBECONFIG=$RUN/admin.kubeconfig"
    echo "$RUN/admin.kubeconfig"
    return 0
  fi
  # no --server-address: KWOK opens no port of its own
  spawn kwok "$KWOK_DIR/bin/kwok" --kubeconfig "$RUN/kwok.kubeconfig" --config "$KWOK_DIR/stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector="$NODE_ANNOTATION" \
    --node-lease-duration-seconds=40 --cidr "$POD_CIDR" --node-ip 10.240.0.1
  wait_for kube-controller-manager curl -skf --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz"
  wait_for kube-scheduler curl -skf --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz"
  wait_for "default service account" kubectl get serviceaccount default -n default

  nodes_yaml | kubectl apply -f - >/dev/null
  wait_for "3 Ready nodes" three_ready
  all_running || die "a component exited during start; see $LOGS"
  STARTED=1
  kubectl get nodes -L topology.kubernetes.io/zone,node.kubernetes.io/instance-type >&2
  log "cluster ready in $((SECONDS - t0))s; export KUBECONFIG=$RUN/admin.kubeconfig"
  echo "$RUN/admin.kubeconfig"
}

status() {
  local c pid tot=0 rss hwm
  for c in "${COMPONENTS[@]}"; do
    if pid=$(pid_of "$c"); then
      rss=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status"); hwm=$(awk '/^VmHWM/{print $2}' "/proc/$pid/status")
      printf '%-24s pid %-8s RSS %5d MiB  peak %5d MiB\n' "$c" "$pid" $((rss / 1024)) $((hwm / 1024))
      tot=$((tot + rss))
    else
      printf '%-24s not running\n' "$c"
    fi
  done
  echo "total RSS $((tot / 1024)) MiB; run dir $RUN"
  if all_running; then
    tool_bins
    kubectl get nodes -L topology.kubernetes.io/zone || true
    return 0
  fi
  return 1
}

stop() {
  mkdir -p "$RUN"
  exec 8>"$RUN/.lock"
  flock 8
  # real nodes first (whatever ANKA_LOCAL_NODES says now): their kubelets talk to this API server
  if [ -d "$RUN/realnode/pids" ]; then "$HERE/realnode.sh" stop; fi
  stop_all
}

clean() {
  stop
  if [ -d "$RUN/realnode" ]; then "$HERE/realnode.sh" clean; fi
  case $RUN in /|"$HOME"|"") die "refusing to remove $RUN" ;; esac
  rm -rf "$RUN"
  log "removed $RUN"
}

main() {
  case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    kubeconfig) echo "$RUN/admin.kubeconfig" ;;
    clean|reset) clean ;;
    *) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0" >&2; exit 2 ;;
  esac
}

# all on one line: bash has parsed it before running, so editing this file while it runs is safe
main "$@"; exit $?
