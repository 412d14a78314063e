#!/bin/sh
# Anka Build Cloud: etcd backup, run by the backup CronJob (aws-cli image, with busybox, etcdctl and
# etcdutl copied into the tools dir by init containers):
#   /anka/bin/busybox sh /anka/scripts/backup.sh
#
# 1. picks a healthy member among ANKA_ETCD_ENDPOINTS (linearizable health check: it has a quorum),
# 2. etcdctl snapshot save from that member,
# 3. etcdutl snapshot status to verify the file (revision, keys, hash),
# 4. aws s3 cp to s3://$ANKA_BACKUP_BUCKET/$ANKA_BACKUP_PREFIX/<UTC timestamp>.db with server-side encryption.
#
# Inputs (rendered by member.Backup.Env in Go):
#   ANKA_ETCD_ENDPOINTS         client URLs, comma-separated
#   ANKA_ETCD_TLS               true|false; when true: ANKA_ETCD_TLS_CA_FILE, ANKA_ETCD_TLS_CLIENT_CERT_FILE,
#                               ANKA_ETCD_TLS_CLIENT_KEY_FILE
#   ANKA_BACKUP_BUCKET          S3 bucket
#   ANKA_BACKUP_PREFIX          key prefix
#   ANKA_BACKUP_SSE             aws:kms or AES256
#   ANKA_BACKUP_SSE_KMS_KEY_ID  KMS key for aws:kms (optional: the bucket's default key)
#   ANKA_BACKUP_WORK_DIR        scratch dir for the snapshot file (an emptyDir)
#   HOME, TMPDIR                the aws CLI's home and temp dir, below ANKA_BACKUP_WORK_DIR: the root filesystem
#                               is read-only, and with IRSA the CLI caches the assumed role's credentials under
#                               $HOME/.aws/cli/cache and fails when it cannot (aws/aws-cli#7376); created here,
#                               removed at exit when they are below the work dir
# A fallback below (${VAR:-value}) is the Go default of the same setting, held equal by
# TestScriptFallbacksAreTheGoDefaults.
# Every log line starts with "anka-etcd-backup: ".

set -u

log() { printf 'anka-etcd-backup: %s\n' "$*" >&2; }
fail() {
	log "result=failed $*"
	exit 1
}

ENDPOINTS=${ANKA_ETCD_ENDPOINTS:-}
BUCKET=${ANKA_BACKUP_BUCKET:-}
PREFIX=${ANKA_BACKUP_PREFIX:-etcd-snapshots}
SSE=${ANKA_BACKUP_SSE:-aws:kms}
WORK=${ANKA_BACKUP_WORK_DIR:-/backup}
HOME=${HOME:-$WORK/home} TMPDIR=${TMPDIR:-$WORK/tmp}
export HOME TMPDIR
[ -n "$ENDPOINTS" ] || fail "reason=config ANKA_ETCD_ENDPOINTS is not set"
[ -n "$BUCKET" ] || fail "reason=config ANKA_BACKUP_BUCKET is not set"
case $SSE in aws:kms | AES256) ;; *) fail "reason=config ANKA_BACKUP_SSE must be aws:kms or AES256, got $SSE" ;; esac

if [ "${ANKA_ETCD_TLS:-false}" = true ]; then
	ETCDCTL_CACERT=${ANKA_ETCD_TLS_CA_FILE:?ANKA_ETCD_TLS_CA_FILE is not set}
	ETCDCTL_CERT=${ANKA_ETCD_TLS_CLIENT_CERT_FILE:?ANKA_ETCD_TLS_CLIENT_CERT_FILE is not set}
	ETCDCTL_KEY=${ANKA_ETCD_TLS_CLIENT_KEY_FILE:?ANKA_ETCD_TLS_CLIENT_KEY_FILE is not set}
	export ETCDCTL_CACERT ETCDCTL_CERT ETCDCTL_KEY
fi

ep=""
for e in $(printf '%s' "$ENDPOINTS" | tr ',' ' '); do
	if etcdctl --dial-timeout=3s --command-timeout=10s --endpoints="$e" endpoint health >/dev/null 2>&1; then
		ep=$e
		break
	fi
	log "endpoint=unhealthy url=$e"
done
[ -n "$ep" ] || fail "reason=no-healthy-member endpoints=$ENDPOINTS"

ts=$(date -u +%Y%m%dT%H%M%SZ)
file="$WORK/etcd-$ts.db"
mkdir -p "$WORK" "$HOME" "$TMPDIR"
rm -f "$file" "$file.part"
cleanup() {
	rm -f "$file" "$file.part"
	# the CLI's home and temp dir (cached credentials): removed only when they are below the work dir
	[ -n "${WORK%/}" ] || return 0
	for d in "$HOME" "$TMPDIR"; do
		case $d in */.. | */../*) ;; "${WORK%/}"/?*) rm -rf "$d" ;; esac
	done
}
trap cleanup EXIT

out=$(etcdctl --dial-timeout=3s --command-timeout=600s --endpoints="$ep" snapshot save "$file" 2>&1) ||
	fail "step=snapshot-save endpoint=$ep error=\"$(printf '%s\n' "$out" | tail -n 1 | tr '"' _)\""

status=$(etcdutl snapshot status "$file" -w json 2>&1) ||
	fail "step=verify file=$file error=\"$(printf '%s\n' "$status" | tail -n 1 | tr '"' _)\""
status=$(printf '%s\n' "$status" | grep '^{' | tail -n 1)
num() { printf '%s' "$status" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
revision=$(num revision) keys=$(num totalKey) size=$(num totalSize) hash=$(num hash)
# A snapshot of a cluster nobody has written to yet has revision 0 and no
# keys, and is a valid backup; what must be there is a readable status.
if [ -z "$hash" ] || [ -z "$revision" ] || [ "${size:-0}" -le 0 ]; then
	fail "step=verify file=$file reason=unreadable-status status=$status"
fi

key="$ts.db"
[ -z "$PREFIX" ] || key="${PREFIX%/}/$key"
dest="s3://$BUCKET/$key"
set -- s3 cp "$file" "$dest" --sse "$SSE" --only-show-errors \
	--metadata "etcd-revision=$revision,etcd-keys=$keys,etcd-hash=$hash,etcd-endpoint=$ep"
if [ "$SSE" = aws:kms ] && [ -n "${ANKA_BACKUP_SSE_KMS_KEY_ID:-}" ]; then
	set -- "$@" --sse-kms-key-id "$ANKA_BACKUP_SSE_KMS_KEY_ID"
fi
out=$(aws "$@" 2>&1) || fail "step=upload dest=$dest error=\"$(printf '%s\n' "$out" | tail -n 1 | tr '"' _)\""

log "result=ok dest=$dest endpoint=$ep revision=$revision keys=$keys size=$size hash=$hash sse=$SSE"
