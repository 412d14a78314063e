#!/bin/sh
# Anka Build Cloud: start logic and operator modes of one etcd member.
#
# Runs as the etcd container's entrypoint under busybox sh (POSIX sh; no bash):
#   /anka/bin/busybox sh /anka/scripts/member.sh start     decide how to start, then run etcd
#   /anka/bin/busybox sh /anka/scripts/member.sh prune     scale-down Job: remove members not in the desired list
#   /anka/bin/busybox sh /anka/scripts/member.sh health    this member's health, alarms, db size (exit 1 if not ok)
#   /anka/bin/busybox sh /anka/scripts/member.sh health all   the same for every desired member
#   /anka/bin/busybox sh /anka/scripts/member.sh reclaim   maintenance window: compact, defragment each member, disarm alarms
#
# Inputs (environment; rendered by member.Settings.Env in Go, the one source of truth):
#   POD_NAME, POD_UID                  the pod's name (<statefulset>-<ordinal>) and UID, from the downward API
#   ANKA_ETCD_INITIAL_CLUSTER          desired members as name=peerURL,...
#   ANKA_ETCD_CLIENT_URLS              desired members as name=clientURL,...
#   ANKA_ETCD_LISTEN_HOST              host the listen URLs bind to (0.0.0.0 in a pod)
#   ANKA_ETCD_METRICS_PORT             port of --listen-metrics-urls (/metrics, /livez, /readyz over http); 0 = off
#   ANKA_ETCD_DATA_DIR                 etcd's data dir; its parent must be writable (the volume's mount point)
#   ANKA_ETCD_CLUSTER_TOKEN            --initial-cluster-token of a first bootstrap
#   ANKA_ETCD_TLS                      true|false: https + client-cert auth on client and peer URLs
#   ANKA_ETCD_TLS_CA_FILE, ANKA_ETCD_TLS_PEER_CA_FILE, ANKA_ETCD_TLS_SERVER_CERT_FILE, ANKA_ETCD_TLS_SERVER_KEY_FILE,
#   ANKA_ETCD_TLS_PEER_CERT_FILE, ANKA_ETCD_TLS_PEER_KEY_FILE,
#   ANKA_ETCD_TLS_CLIENT_CERT_FILE, ANKA_ETCD_TLS_CLIENT_KEY_FILE   (when ANKA_ETCD_TLS=true)
#   ANKA_ETCD_HEARTBEAT_INTERVAL_MS, ANKA_ETCD_ELECTION_TIMEOUT_MS, ANKA_ETCD_QUOTA_BACKEND_BYTES,
#   ANKA_ETCD_AUTO_COMPACTION_RETENTION, ANKA_ETCD_SNAPSHOT_COUNT, ANKA_ETCD_MAX_LEARNERS   etcd tuning flags
#   ANKA_ETCD_EXTRA_ARGS               more etcd flags, space-separated (optional)
# Optional knobs, not rendered by Settings: ANKA_ETCD_DIAL_TIMEOUT (2s), ANKA_ETCD_COMMAND_TIMEOUT (5s),
#   ANKA_ETCD_PROBE_TIMEOUT (2s),
#   ANKA_ETCD_JOIN_TIMEOUT_S (600), ANKA_ETCD_PRUNE_TIMEOUT_S (600), ANKA_ETCD_DEFRAG_TIMEOUT (300s).
# A rendered input's fallback below (${VAR:-value}) is its Go default, held equal by
# TestScriptFallbacksAreTheGoDefaults, so the script run by hand behaves as the pod does.
#
# The script never sets ETCD_* variables: etcd would read them as flags and refuse the duplicates.
# Every log line it writes starts with "anka-etcd: " and holds key=value pairs, one event per line.

set -u

log() { printf 'anka-etcd: %s\n' "$*" >&2; }
fail() {
	log "$*"
	exit 1
}

# ---------------------------------------------------------------- inputs

IC_STATIC=${ANKA_ETCD_INITIAL_CLUSTER:-}
CLIENTS_STATIC=${ANKA_ETCD_CLIENT_URLS:-}
[ -n "$IC_STATIC" ] || fail "decision=error reason=config ANKA_ETCD_INITIAL_CLUSTER is not set"
[ -n "$CLIENTS_STATIC" ] || fail "decision=error reason=config ANKA_ETCD_CLIENT_URLS is not set"
LISTEN_HOST=${ANKA_ETCD_LISTEN_HOST:-0.0.0.0}
METRICS_PORT=${ANKA_ETCD_METRICS_PORT:-2381}
DATA_DIR=${ANKA_ETCD_DATA_DIR:-/var/lib/etcd/data}
TOKEN=${ANKA_ETCD_CLUSTER_TOKEN:-anka-etcd}
TLS=${ANKA_ETCD_TLS:-false}
DIAL_TIMEOUT=${ANKA_ETCD_DIAL_TIMEOUT:-2s}
COMMAND_TIMEOUT=${ANKA_ETCD_COMMAND_TIMEOUT:-5s}
PROBE_TIMEOUT=${ANKA_ETCD_PROBE_TIMEOUT:-2s}

if [ "$TLS" = true ]; then
	# etcdctl reads these; the script never passes --cacert/--cert/--key, so they cannot conflict.
	ETCDCTL_CACERT=${ANKA_ETCD_TLS_CA_FILE:?ANKA_ETCD_TLS_CA_FILE is not set}
	ETCDCTL_CERT=${ANKA_ETCD_TLS_CLIENT_CERT_FILE:?ANKA_ETCD_TLS_CLIENT_CERT_FILE is not set}
	ETCDCTL_KEY=${ANKA_ETCD_TLS_CLIENT_KEY_FILE:?ANKA_ETCD_TLS_CLIENT_KEY_FILE is not set}
	export ETCDCTL_CACERT ETCDCTL_CERT ETCDCTL_KEY
fi

ctl() { etcdctl --dial-timeout="$DIAL_TIMEOUT" --command-timeout="$COMMAND_TIMEOUT" "$@"; }
# probe: etcdctl for questions whose "no answer" is itself an answer (an unreachable endpoint costs
# the whole timeout: the client retries refused connections until its deadline).
probe() { etcdctl --dial-timeout="$PROBE_TIMEOUT" --command-timeout="$PROBE_TIMEOUT" "$@"; }

# errline OUTPUT: the last "Error: ..." line of etcdctl's output, on one line, for logs.
errline() {
	e=$(printf '%s\n' "$1" | sed -n 's/^Error: //p' | tail -n 1)
	[ -n "$e" ] || e=$(printf '%s\n' "$1" | tail -n 1)
	printf '"%s"' "$(printf '%s' "$e" | tr '\n"' ' _' | cut -c1-300)"
}

# List helpers over "name=url,name=url" strings.
lookup() { printf '%s\n' "$1" | tr ',' '\n' | sed -n "s|^$2=||p" | head -n 1; }
name_of_url() { printf '%s\n' "$1" | tr ',' '\n' | sed -n "s|^\([^=]*\)=$2\$|\1|p" | head -n 1; }
count() { printf '%s\n' "$1" | tr ',' '\n' | grep -c .; }
values() { printf '%s\n' "$1" | tr ',' '\n' | sed 's/^[^=]*=//' | paste -s -d, -; }

# others_clients NAME: client URLs of the desired members other than NAME, comma-separated.
others_clients() { printf '%s\n' "$CLIENTS_STATIC" | tr ',' '\n' | grep -v "^$1=" | sed 's/^[^=]*=//' | paste -s -d, -; }

# ---------------------------------------------------------------- cluster views

# view_cluster ENDPOINTS CONSISTENCY: asks the endpoints for the member list (one etcdctl call; its
# client fails over between endpoints, so unreachable ones cost nothing while one answers).
# Sets VIEW_CLUSTER (hex cluster ID), VIEW_FROM (the endpoints asked) and VIEW, one line per member:
#   <hex id> <name|-> <peerURLs|-> <clientURLs|-> <isLearner>
# (no client URLs = the member has never started). Returns 1 when no endpoint answered.
view_cluster() {
	VIEW="" VIEW_CLUSTER="" VIEW_FROM="" VIEW_ERR=""
	[ -n "$1" ] || return 1
	raw=$(probe --endpoints="$1" member list -w json --consistency="$2" 2>&1)
	json=$(printf '%s\n' "$raw" | grep '^{"header"' | head -n 1)
	if [ -z "$json" ]; then
		VIEW_ERR=$(errline "$raw")
		return 1
	fi
	{
		# IDs are decimal uint64 in the JSON (etcdctl's --hex JSON drops isLearner); awk holds
		# numbers as doubles, so it passes them on as text and printf (64-bit) makes them hex.
		VIEW_CLUSTER=$(printf '%x' "$(printf '%s' "$json" | sed -n 's/.*"cluster_id":\([0-9]*\).*/\1/p')")
		VIEW=$(printf '%s\n' "$json" | awk '
			function field(obj, key,   i, rest) {
				i = index(obj, "\"" key "\":\"")
				if (i == 0) return ""
				rest = substr(obj, i + length(key) + 4)
				return substr(rest, 1, index(rest, "\"") - 1)
			}
			function urls(obj, key,   i, rest) {
				i = index(obj, "\"" key "\":[\"")
				if (i == 0) return "-"
				rest = substr(obj, i + length(key) + 5)
				rest = substr(rest, 1, index(rest, "\"]") - 1)
				gsub(/","/, ",", rest)
				return rest
			}
			{
				s = $0
				i = index(s, "\"members\":[")
				if (i == 0) exit
				s = substr(s, i + 11)
				while ((i = index(s, "{\"ID\":")) > 0) {
					s = substr(s, i + 6)
					match(s, /^[0-9]+/)
					id = substr(s, 1, RLENGTH)
					j = index(s, "{\"ID\":")
					obj = (j > 0) ? substr(s, 1, j - 1) : s
					name = field(obj, "name"); if (name == "") name = "-"
					learner = (index(obj, "\"isLearner\":true") > 0) ? "true" : "false"
					print id, name, urls(obj, "peerURLs"), urls(obj, "clientURLs"), learner
					s = (j > 0) ? substr(s, j) : ""
				}
			}' | while read -r id rest; do printf '%x %s\n' "$id" "$rest"; done)
		VIEW_FROM=$1
	}
}

# view_entry URL NAME: the VIEW line of the member with peer URL URL or name NAME.
view_entry() {
	printf '%s\n' "$VIEW" | awk -v u="$1" -v n="$2" '
		NF == 5 {
			split($3, p, ",")
			for (k in p) if (p[k] == u) { print; exit }
			if ($2 == n) { print; exit }
		}'
}

# listed ID: whether VIEW has a member with this hex ID.
listed() { printf '%s\n' "$VIEW" | awk -v id="$1" '$1 == id { found = 1 } END { exit !found }'; }

# healthy_endpoint ENDPOINTS: prints the first endpoint whose linearizable health check passes
# (so the cluster has a quorum); returns 1 if none.
healthy_endpoint() {
	for ep in $(printf '%s' "$1" | tr ',' ' '); do
		if probe --endpoints="$ep" endpoint health >/dev/null 2>&1; then
			printf '%s\n' "$ep"
			return 0
		fi
	done
	return 1
}

# member_change ENDPOINTS ARGS...: `etcdctl member ARGS` through the healthy members of ENDPOINTS in
# turn, until one accepts (its output in out). A member judges a membership change by its own view
# of its peers (etcd v3.6.16 etcdserver/server.go, mayAddMember and mayRemoveMember: the peers it
# has been connected to for the last 5 s), and that view can stay wrong while the cluster is
# healthy: a failed pipeline write marks a peer inactive, and only a new stream connection marks it
# active again (etcdserver/api/rafthttp, pipeline.go and stream.go; etcd-io/etcd#14523). The
# real-pods test saw etcd-0 refuse a learner add so for minutes after etcd-1's pod came back on a
# new address, while etcd-1 was connected to both. So "unhealthy cluster" is one member's view and
# the next member is asked; any other error ends the try (the caller lists the members again).
member_change() {
	mc_eps=$1
	shift
	out="no healthy member answered"
	for mc_ep in $(printf '%s' "$mc_eps" | tr ',' ' '); do
		probe --endpoints="$mc_ep" endpoint health >/dev/null 2>&1 || continue
		out=$(ctl --endpoints="$mc_ep" member "$@" 2>&1) && return 0
		case $out in
		*"unhealthy cluster"*) log "member-change=refused endpoint=$mc_ep change=$1 error=$(errline "$out")" ;;
		*) return 1 ;;
		esac
	done
	return 1
}

# view_ic: an --initial-cluster string for the members in VIEW. Members that never started have no
# name in etcd; they get the name the static list gives their peer URL (this member gets $ME).
view_ic() {
	printf '%s\n' "$VIEW" | while read -r id name peers _; do
		[ -n "$id" ] || continue
		for u in $(printf '%s' "$peers" | tr ',' ' '); do
			n=$name
			[ "$u" = "$MY_PEER" ] && n=$ME
			[ "$n" = - ] && n=$(name_of_url "$IC_STATIC" "$u")
			[ -n "$n" ] || n=member-$id
			printf '%s=%s\n' "$n" "$u"
		done
	done | paste -s -d, -
}

# ---------------------------------------------------------------- the data dir

has_wal() {
	for w in "$DATA_DIR"/member/wal/*.wal; do
		[ -f "$w" ] && return 0
	done
	return 1
}

# data_ids: reads the member ID and cluster ID this data dir belongs to, read-only, from the metadata
# record that starts every WAL segment (etcd's wal/walpb format: 8-byte little-endian frame length,
# then a walpb.Record; the first record is the CRC record, the second the metadata record whose data
# is etcdserverpb.Metadata{NodeID=1, ClusterID=2}). Sets DATA_MEMBER_ID, DATA_CLUSTER_ID (hex).
data_ids() {
	DATA_MEMBER_ID="" DATA_CLUSTER_ID=""
	f=""
	for w in "$DATA_DIR"/member/wal/*.wal; do
		if [ -f "$w" ]; then
			f=$w
			break
		fi
	done
	[ -n "$f" ] || return 1
	BYTES=$(od -A n -t u1 -v -N 256 "$f" | tr -s ' \n' '  ')
	POS=0
	_frame || return 1
	POS=$((POS + FRAME_LEN)) # skip the CRC record
	_frame || return 1
	end=$((POS + FRAME_LEN))
	rtype="" dlen=""
	while [ $POS -lt $end ]; do
		_byte || return 1
		case $B in
		8) _varint || return 1; rtype=$V ;;
		16) _varint || return 1 ;;
		26) _varint || return 1; dlen=$V; break ;;
		*) return 1 ;;
		esac
	done
	[ "$rtype" = 1 ] && [ -n "$dlen" ] || return 1
	dend=$((POS + dlen))
	while [ $POS -lt $dend ]; do
		_byte || return 1
		case $B in
		8) _varint || return 1; DATA_MEMBER_ID=$(printf '%x' "$V") ;;
		16) _varint || return 1; DATA_CLUSTER_ID=$(printf '%x' "$V") ;;
		*) return 1 ;;
		esac
	done
	[ -n "$DATA_MEMBER_ID" ] && [ -n "$DATA_CLUSTER_ID" ]
}
_byte() {
	# shellcheck disable=SC2086
	set -- $BYTES
	[ $# -gt $POS ] || return 1
	shift $POS
	B=$1
	POS=$((POS + 1))
}
_varint() {
	V=0 _s=0
	while :; do
		_byte || return 1
		V=$((V | ((B & 127) << _s)))
		[ "$B" -lt 128 ] && return 0
		_s=$((_s + 7))
		[ $_s -le 63 ] || return 1
	done
}
_frame() { # FRAME_LEN = record length + padding; POS moves past the 8-byte length field
	# shellcheck disable=SC2086
	set -- $BYTES
	[ $# -ge $((POS + 8)) ] || return 1
	shift $POS
	FRAME_LEN=$(($1 | ($2 << 8) | ($3 << 16) | ($4 << 24) | ($5 << 32) | ($6 << 40) | ($7 << 48)))
	[ $(($8 & 128)) -ne 0 ] && FRAME_LEN=$((FRAME_LEN + ($8 & 7)))
	POS=$((POS + 8))
}

# move_aside REASON: renames the data dir (never deletes it) and prints the new path.
move_aside() {
	to="$DATA_DIR.$1-$(date -u +%Y%m%dT%H%M%SZ)"
	mv "$DATA_DIR" "$to" || fail "decision=error reason=cannot-move-data-dir member=$ME data_dir=$DATA_DIR to=$to"
	rm -f "$DATA_DIR.pod-uid"
	printf '%s\n' "$to"
}

# ---------------------------------------------------------------- running etcd

# idle DECISION DETAILS: stays up without etcd (so the pod does not crash-loop) until terminated.
idle() {
	trap 'kill $! 2>/dev/null; exit 0' TERM INT
	log "decision=$1 member=$ME $2"
	while :; do
		sleep 3600 &
		wait $!
	done
}

# run_etcd STATE INITIAL_CLUSTER: runs etcd in the background, promotes this member if it is a learner,
# forwards SIGTERM/SIGINT to etcd and exits with etcd's status.
run_etcd() {
	state=$1 ic=$2
	peer_port=${MY_PEER##*:} client_port=${MY_CLIENT##*:}
	set -- --name "$ME" --data-dir "$DATA_DIR" \
		--listen-peer-urls "${MY_PEER%%://*}://$LISTEN_HOST:$peer_port" \
		--initial-advertise-peer-urls "$MY_PEER" \
		--listen-client-urls "${MY_CLIENT%%://*}://$LISTEN_HOST:$client_port" \
		--advertise-client-urls "$MY_CLIENT" \
		--initial-cluster "$ic" \
		--initial-cluster-state "$state" \
		--initial-cluster-token "$TOKEN" \
		--heartbeat-interval "${ANKA_ETCD_HEARTBEAT_INTERVAL_MS:-250}" \
		--election-timeout "${ANKA_ETCD_ELECTION_TIMEOUT_MS:-2500}" \
		--quota-backend-bytes "${ANKA_ETCD_QUOTA_BACKEND_BYTES:-8589934592}" \
		--auto-compaction-mode periodic \
		--auto-compaction-retention "${ANKA_ETCD_AUTO_COMPACTION_RETENTION:-1h}" \
		--snapshot-count "${ANKA_ETCD_SNAPSHOT_COUNT:-10000}" \
		--max-learners "${ANKA_ETCD_MAX_LEARNERS:-1}"
	if [ "$METRICS_PORT" != 0 ]; then
		set -- "$@" --listen-metrics-urls "http://$LISTEN_HOST:$METRICS_PORT"
	fi
	if [ "$TLS" = true ]; then
		# Peers trust only the peer CA; etcd dials its own client URL (the JSON gateway) with the
		# client certificate, since the server certificate is serverAuth only.
		set -- "$@" --client-cert-auth --trusted-ca-file "$ANKA_ETCD_TLS_CA_FILE" \
			--cert-file "$ANKA_ETCD_TLS_SERVER_CERT_FILE" --key-file "$ANKA_ETCD_TLS_SERVER_KEY_FILE" \
			--client-cert-file "$ANKA_ETCD_TLS_CLIENT_CERT_FILE" --client-key-file "$ANKA_ETCD_TLS_CLIENT_KEY_FILE" \
			--peer-client-cert-auth --peer-trusted-ca-file "${ANKA_ETCD_TLS_PEER_CA_FILE:?ANKA_ETCD_TLS_PEER_CA_FILE is not set}" \
			--peer-cert-file "$ANKA_ETCD_TLS_PEER_CERT_FILE" --peer-key-file "$ANKA_ETCD_TLS_PEER_KEY_FILE"
	fi
	# shellcheck disable=SC2086
	set -- "$@" ${ANKA_ETCD_EXTRA_ARGS:-}

	mkdir -p "$(dirname "$DATA_DIR")"
	printf '%s\n' "${POD_UID:-}" >"$DATA_DIR.pod-uid" 2>/dev/null ||
		log "warning=cannot-write-marker file=$DATA_DIR.pod-uid"
	log "exec=etcd member=$ME initial_cluster_state=$state initial_cluster=$ic data_dir=$DATA_DIR"

	ETCD_PID=""
	trap 'log "signal=TERM member=$ME forwarding-to=etcd pid=$ETCD_PID"; [ -n "$ETCD_PID" ] || exit 143; kill -TERM $ETCD_PID 2>/dev/null' TERM
	trap '[ -n "$ETCD_PID" ] || exit 130; kill -INT $ETCD_PID 2>/dev/null' INT
	etcd "$@" &
	ETCD_PID=$!
	(
		trap - TERM INT
		ensure_voter
	) &
	HELPER_PID=$!
	while :; do
		wait "$ETCD_PID"
		rc=$?
		kill -0 "$ETCD_PID" 2>/dev/null || break
	done
	kill $HELPER_PID 2>/dev/null
	log "etcd-exited member=$ME status=$rc"
	exit "$rc"
}

# ensure_voter: runs beside etcd; if this member is a learner, promotes it once it has caught up
# (etcd itself refuses the promotion until the learner is in sync with the leader).
ensure_voter() {
	delay=1 tries=0
	while [ $tries -lt 720 ]; do
		tries=$((tries + 1))
		sleep $delay
		[ $tries -lt 30 ] || delay=5
		view_cluster "$OTHERS" l || continue
		entry=$(view_entry "$MY_PEER" "$ME")
		[ -n "$entry" ] || continue
		# shellcheck disable=SC2086
		set -- $entry
		[ "$5" = true ] || return 0
		if out=$(ctl --endpoints="$VIEW_FROM" member promote "$1" 2>&1); then
			log "decision=promoted member=$ME id=$1"
			return 0
		fi
		[ $((tries % 5)) -eq 1 ] && log "promote=wait member=$ME id=$1 error=$(errline "$out")"
	done
	log "promote=gave-up member=$ME"
}

# ---------------------------------------------------------------- start

backoff() {
	sleep $DELAY
	[ $DELAY -ge 5 ] || DELAY=$((DELAY + 1))
}

# join_cluster REASON: joins the live cluster as a learner (removing a stale entry of this member
# first), then runs etcd as "existing"; etcd is promoted by ensure_voter.
join_cluster() {
	started=$(date +%s)
	DELAY=1
	while :; do
		[ $(($(date +%s) - started)) -lt "${ANKA_ETCD_JOIN_TIMEOUT_S:-600}" ] ||
			fail "decision=error reason=join-timeout member=$ME after_s=${ANKA_ETCD_JOIN_TIMEOUT_S:-600}"
		if ! view_cluster "$OTHERS" l; then
			log "join=wait member=$ME reason=no-member-list error=$VIEW_ERR"
			backoff
			continue
		fi
		if ! healthy_endpoint "$OTHERS" >/dev/null; then
			log "join=wait member=$ME reason=cluster-unhealthy"
			backoff
			continue
		fi
		entry=$(view_entry "$MY_PEER" "$ME")
		if [ -n "$entry" ]; then
			# shellcheck disable=SC2086
			set -- $entry
			if [ "$4" = - ] && [ "$5" = true ]; then
				log "decision=join-unstarted-learner member=$ME id=$1 reason=$REASON cluster_id=$VIEW_CLUSTER"
				run_etcd existing "$(view_ic)"
			fi
			if ! member_change "$OTHERS" remove "$1"; then
				log "join=wait member=$ME reason=remove-stale-failed id=$1 error=$(errline "$out")"
				backoff
				continue
			fi
			log "decision=removed-stale member=$ME id=$1 name=$2 cluster_id=$VIEW_CLUSTER"
			continue
		fi
		if ! member_change "$OTHERS" add "$ME" --learner --peer-urls="$MY_PEER"; then
			log "join=wait member=$ME reason=member-add-failed error=$(errline "$out")"
			backoff
			continue
		fi
		id=$(printf '%s\n' "$out" | sed -n 's/^Member *\([0-9a-f]*\) added.*/\1/p')
		ic=$(printf '%s\n' "$out" | sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p')
		[ -n "$ic" ] || fail "decision=error reason=unparsable-member-add-output member=$ME output=$(errline "$out")"
		log "decision=added-learner member=$ME id=$id reason=$REASON cluster_id=$VIEW_CLUSTER"
		run_etcd existing "$ic"
	done
}

mode_start() {
	ME=${POD_NAME:-}
	[ -n "$ME" ] || fail "decision=error reason=config POD_NAME is not set"
	ORD=${ME##*-}
	case $ORD in '' | *[!0-9]*) fail "decision=error reason=config member=$ME POD_NAME has no ordinal suffix" ;; esac
	N=$(count "$IC_STATIC")
	MY_PEER=$(lookup "$IC_STATIC" "$ME")
	MY_CLIENT=$(lookup "$CLIENTS_STATIC" "$ME")
	if [ -z "$MY_PEER" ] || [ -z "$MY_CLIENT" ]; then
		[ "$ORD" -ge "$N" ] ||
			fail "decision=error reason=config member=$ME is missing from ANKA_ETCD_INITIAL_CLUSTER or ANKA_ETCD_CLIENT_URLS"
		idle not-desired "ordinal=$ORD desired_members=$N note=waiting-for-the-statefulset-to-remove-this-pod"
	fi
	OTHERS=$(others_clients "$ME")

	if has_wal; then
		if ! data_ids; then
			log "decision=start-existing-data member=$ME data_dir=$DATA_DIR warning=cannot-read-ids-from-wal"
			run_etcd existing "$IC_STATIC"
		fi
		if ! view_cluster "$OTHERS" s; then
			log "decision=start-existing-data member=$ME id=$DATA_MEMBER_ID cluster_id=$DATA_CLUSTER_ID live=unreachable"
			run_etcd existing "$IC_STATIC"
		fi
		if [ "$VIEW_CLUSTER" != "$DATA_CLUSTER_ID" ]; then
			log "decision=refuse-foreign-data member=$ME data_dir=$DATA_DIR data_cluster_id=$DATA_CLUSTER_ID data_member_id=$DATA_MEMBER_ID live_cluster_id=$VIEW_CLUSTER live_endpoints=$VIEW_FROM"
			log "recovery member=$ME: the data dir belongs to another cluster and is left untouched. To let this member rejoin cluster $VIEW_CLUSTER with a fresh copy: mv $DATA_DIR $DATA_DIR.foreign-\$(date -u +%Y%m%dT%H%M%SZ) && rm -f $DATA_DIR.pod-uid, then restart the pod (a stale entry of $ME in 'etcdctl member list' is removed on rejoin; by hand: etcdctl --endpoints=$VIEW_FROM member remove <id>)"
			exit 2
		fi
		# Absent from a serializable view (which may lag): confirm with a linearizable one before acting.
		if listed "$DATA_MEMBER_ID" || ! view_cluster "$OTHERS" l || listed "$DATA_MEMBER_ID"; then
			log "decision=start-existing-data member=$ME id=$DATA_MEMBER_ID cluster_id=$DATA_CLUSTER_ID"
			run_etcd existing "$IC_STATIC"
		fi
		if [ -n "${POD_UID:-}" ] && [ "$(cat "$DATA_DIR.pod-uid" 2>/dev/null)" = "$POD_UID" ]; then
			idle removed-while-running "id=$DATA_MEMBER_ID cluster_id=$DATA_CLUSTER_ID note=this-pod-was-removed-from-the-cluster-(scale-down);waiting-for-the-statefulset;delete-the-pod-to-rejoin"
		fi
		aside=$(move_aside removed)
		log "decision=data-aside member=$ME reason=member-removed-from-cluster id=$DATA_MEMBER_ID cluster_id=$DATA_CLUSTER_ID moved_to=$aside"
		REASON=removed
		join_cluster
	fi

	if [ -e "$DATA_DIR" ] && [ -n "$(ls -A "$DATA_DIR" 2>/dev/null)" ]; then
		aside=$(move_aside incomplete)
		log "decision=data-aside member=$ME reason=no-wal moved_to=$aside"
	fi

	if ! view_cluster "$OTHERS" s; then
		log "decision=bootstrap-new member=$ME reason=no-data-and-no-cluster-reachable"
		run_etcd new "$IC_STATIC"
	fi
	entry=$(view_entry "$MY_PEER" "$ME")
	if [ -n "$entry" ]; then
		# shellcheck disable=SC2086
		set -- $entry
		if [ "$4" = - ] && [ "$5" = false ]; then
			# A voting member that never started: an initial member whose peers are waiting for it.
			live_peers=$(printf '%s\n' "$VIEW" | awk '{ print $3 }' | tr ',' '\n' | sort | paste -s -d, -)
			static_peers=$(values "$IC_STATIC" | tr ',' '\n' | sort | paste -s -d, -)
			if [ "$live_peers" = "$static_peers" ]; then
				log "decision=bootstrap-join-initial member=$ME id=$1 cluster_id=$VIEW_CLUSTER"
				run_etcd new "$IC_STATIC"
			fi
			log "decision=join-unstarted-member member=$ME id=$1 cluster_id=$VIEW_CLUSTER"
			run_etcd existing "$(view_ic)"
		fi
		REASON=lost-data
	else
		REASON=scale-up
	fi
	join_cluster
}

# ---------------------------------------------------------------- prune (scale-down Job)

mode_prune() {
	N=$(count "$IC_STATIC")
	ALL=$(values "$CLIENTS_STATIC")
	desired_peers=$(values "$IC_STATIC")
	# The Job runs before the StatefulSet at every change of the member count,
	# including the first deployment, when no member exists yet: if no member
	# name resolves (the headless Service publishes not-ready pods too), there
	# is nothing to prune.
	if [ "${ANKA_ETCD_PRUNE_SKIP_IF_NO_MEMBERS:-false}" = true ]; then
		resolves=false
		for u in $(printf '%s\n' "$ALL" | tr ',' ' '); do
			h=${u#*://}
			h=${h%%:*}
			if nslookup "$h" >/dev/null 2>&1; then
				resolves=true
				break
			fi
		done
		if [ "$resolves" = false ]; then
			log "decision=prune-skipped reason=no-member-resolves desired_members=$N"
			return 0
		fi
	fi
	started=$(date +%s)
	DELAY=1
	while :; do
		[ $(($(date +%s) - started)) -lt "${ANKA_ETCD_PRUNE_TIMEOUT_S:-600}" ] ||
			fail "decision=error reason=prune-timeout desired_members=$N"
		if ! view_cluster "$ALL" l; then
			log "prune=wait reason=no-member-list error=$VIEW_ERR"
			backoff
			continue
		fi
		# Members whose peer URL is not in the desired list, highest ordinal first (nameless ones first).
		cand=$(printf '%s\n' "$VIEW" | awk -v want="$desired_peers" '
			BEGIN { n = split(want, w, ","); for (i = 1; i <= n; i++) keep[w[i]] = 1 }
			NF == 5 {
				split($3, p, ","); if (p[1] in keep) next
				o = 1000000; if (match($2, /-[0-9]+$/)) o = substr($2, RSTART + 1) + 0
				print o, $0
			}' | sort -k1,1nr | head -n 1 | cut -d' ' -f2-)
		if [ -z "$cand" ]; then
			log "decision=prune-done desired_members=$N cluster_id=$VIEW_CLUSTER"
			return 0
		fi
		# shellcheck disable=SC2086
		set -- $cand
		cid=$1 cname=$2 cclient=$4
		# Every voting member that stays must be healthy, so the removal keeps a quorum with margin.
		unhealthy="" first="" healthy=""
		stay=$(printf '%s\n' "$VIEW" | awk -v want="$desired_peers" '
			BEGIN { n = split(want, w, ","); for (i = 1; i <= n; i++) keep[w[i]] = 1 }
			NF == 5 && $5 == "false" { split($3, p, ","); if (p[1] in keep) print $1, $2, $4 }')
		while read -r sid sname sclient; do
			[ -n "$sid" ] || continue
			c=${sclient%%,*}
			if [ "$c" = - ] || ! ctl --endpoints="$c" endpoint health >/dev/null 2>&1; then
				unhealthy="$unhealthy $sname"
			else
				healthy="$healthy,$c"
				[ -n "$first" ] || first="$sid $c"
			fi
		done <<EOF
$stay
EOF
		if [ -n "$unhealthy" ] || [ -z "$first" ]; then
			log "prune=wait reason=cluster-unhealthy unhealthy=${unhealthy# } candidate=$cname"
			backoff
			continue
		fi
		tid=${first%% *} tep=${first#* }
		leader=$(ctl --endpoints="$tep" endpoint status -w fields 2>/dev/null | sed -n 's/^"Leader" : \([0-9]*\)$/\1/p')
		if [ -n "$leader" ] && [ "$(printf '%x' "$leader")" = "$cid" ]; then
			if ! out=$(ctl --endpoints="${cclient%%,*}" move-leader "$tid" 2>&1); then
				log "prune=wait reason=move-leader-failed candidate=$cname error=$(errline "$out")"
				backoff
				continue
			fi
			log "prune=moved-leader from=$cname id=$cid to=$tid"
		fi
		if ! member_change "${healthy#,}" remove "$cid"; then
			log "prune=wait reason=member-remove-failed candidate=$cname error=$(errline "$out")"
			backoff
			continue
		fi
		log "decision=pruned member=$cname id=$cid desired_members=$N cluster_id=$VIEW_CLUSTER"
		DELAY=1
		sleep 1
	done
}

# ---------------------------------------------------------------- health and reclaim

# health_of ENDPOINT NAME: one line about one member; returns 1 if it is not healthy.
health_of() {
	st=$(ctl --endpoints="$1" endpoint status -w fields 2>&1)
	if ! printf '%s\n' "$st" | grep -q '^"DBSize"'; then
		log "health=unreachable member=$2 endpoint=$1 error=$(errline "$st")"
		return 1
	fi
	fld() { printf '%s\n' "$st" | sed -n "s/^\"$1\" : \"*\([^\"]*\)\"*\$/\1/p"; }
	alarms=$(ctl --endpoints="$1" alarm list 2>/dev/null | sed -n 's/.*alarm:\([A-Z]*\).*/\1/p' | sort -u | paste -s -d, -)
	detail="member=$2 endpoint=$1 db_size=$(fld DBSize) db_size_in_use=$(fld DBSizeInUse) quota=$(fld DBSizeQuota) revision=$(fld Revision) raft_index=$(fld RaftIndex) learner=$(fld IsLearner) leader=$(printf '%x' "$(fld Leader)")"
	if [ -n "$alarms" ]; then
		log "health=alarm alarms=$alarms $detail fix=\"in a maintenance window: member.sh reclaim (compacts, defragments each member, disarms); raise anka:etcd.quotaBackendBytes if the data really grew\""
		return 1
	fi
	if ! out=$(ctl --endpoints="$1" endpoint health 2>&1); then
		log "health=unhealthy $detail error=$(errline "$out")"
		return 1
	fi
	log "health=ok $detail"
}

mode_health() {
	rc=0
	name=${POD_NAME:-}
	own=$(lookup "$CLIENTS_STATIC" "$name")
	if [ "${1:-}" != all ] && [ -n "$name" ] && [ -n "$own" ]; then
		health_of "$own" "$name" || rc=1
		return $rc
	fi
	for pair in $(printf '%s' "$CLIENTS_STATIC" | tr ',' ' '); do
		health_of "${pair#*=}" "${pair%%=*}" || rc=1
	done
	return $rc
}

mode_reclaim() {
	ALL=$(values "$CLIENTS_STATIC")
	rev=""
	for ep in $(printf '%s' "$ALL" | tr ',' ' '); do
		rev=$(ctl --endpoints="$ep" endpoint status -w fields 2>/dev/null | sed -n 's/^"Revision" : \([0-9]*\)$/\1/p')
		[ -n "$rev" ] && break
	done
	[ -n "$rev" ] || fail "reclaim=error reason=no-member-answers"
	log "reclaim=start revision=$rev warning=defragmentation-blocks-each-member-while-it-runs;use-a-maintenance-window"
	if ! out=$(ctl --endpoints="$ALL" compact "$rev" --physical 2>&1) &&
		! printf '%s' "$out" | grep -q 'required revision has been compacted'; then
		fail "reclaim=error step=compact revision=$rev error=$(errline "$out")"
	fi
	log "reclaim=compacted revision=$rev"
	for pair in $(printf '%s' "$CLIENTS_STATIC" | tr ',' ' '); do
		out=$(etcdctl --dial-timeout="$DIAL_TIMEOUT" --command-timeout="${ANKA_ETCD_DEFRAG_TIMEOUT:-300s}" \
			--endpoints="${pair#*=}" defrag 2>&1) ||
			fail "reclaim=error step=defrag member=${pair%%=*} error=$(errline "$out")"
		log "reclaim=defragmented member=${pair%%=*}"
	done
	out=$(ctl --endpoints="$ALL" alarm disarm 2>&1) || fail "reclaim=error step=disarm error=$(errline "$out")"
	log "reclaim=disarmed"
	mode_health all
}

# ---------------------------------------------------------------- main

# As PID 1 of a container the shell ignores SIGTERM unless it has a handler: exit on it while no
# etcd runs (run_etcd and idle install their own).
trap 'log "signal=TERM mode=${mode:-} exiting"; exit 143' TERM
trap 'exit 130' INT
mode=${1:-start}
[ $# -gt 0 ] && shift
case $mode in
start) mode_start ;;
prune) mode_prune ;;
health) mode_health "$@" ;;
reclaim) mode_reclaim ;;
*) fail "decision=error reason=usage mode=$mode usage=member.sh [start|prune|health [all]|reclaim]" ;;
esac
