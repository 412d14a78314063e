#!/bin/sh
# etcd disk check: is WAL fdatasync fast enough on this volume? (etcd's hardware guide: the 99th
# percentile of fdatasync should stay below 10 ms.) The same verdict as diskcheck.Check in Go.
#
# Usage: check.sh DIR            runs fio in DIR (on the volume to test), then judges its output
#        FIO_JSON=FILE check.sh  judges a saved fio JSON output instead
# Env:   ANKA_DISKCHECK_THRESHOLD_MS  p99 limit in milliseconds (default 10)
# Needs: sh and awk (busybox is enough), and fio when it runs the test.
# Prints one line "etcd-disk-check: result=pass|fail dir=... p99_ns=... p999_ns=... mean_ns=...
# max_ns=... syncs=... write_iops=... threshold_ms=...", then the verdict sentence; exits 0 (pass),
# 1 (fail) or 2 (no usable fio output).

set -u
threshold=${ANKA_DISKCHECK_THRESHOLD_MS:-10}
json=${FIO_JSON:-}
if [ -z "$json" ]; then
	dir=${1:?usage: check.sh DIR}
	mkdir -p "$dir" || exit 2
	json="$dir/etcd-disk-check.json"
	# fio comes with the image: nothing is installed here (anka:etcd.diskCheck.image).
	command -v fio >/dev/null 2>&1 ||
		{ echo "etcd-disk-check: result=error reason=no-fio: the image has no fio on PATH; anka:etcd.diskCheck.image must name an image that contains fio" >&2; exit 2; }
	fio --rw=write --ioengine=sync --fdatasync=1 --directory="$dir" --size=22m --bs=2300 --name=etcd-disk-check --output-format=json >"$json" ||
		{ echo "etcd-disk-check: result=error reason=fio-failed dir=$dir" >&2; exit 2; }
	rm -f "$dir"/etcd-disk-check.*.*
fi

# fio prints its JSON one "key" : value per line; awk tracks the path of nested objects.
awk -v threshold_ms="$threshold" '
	function fmt_ms(ns,   s) { s = sprintf("%.1f", ns / 1000000); sub(/\.0$/, "", s); return s "ms" }
	function unq(v) { sub(/,$/, "", v); gsub(/^"|"$/, "", v); return v }
	{
		line = $0
		sub(/^[ \t]+/, "", line)
		sub(/[ \t\r]+$/, "", line)
	}
	line ~ /^"[^"]*" : [{[]$/ { k = line; sub(/^"/, "", k); sub(/" : .$/, "", k); path[++depth] = k; next }
	line == "{" || line == "[" { d = depth; path[++depth] = (d == 0) ? "" : "[]"; next }
	line ~ /^[]}]/ { if (depth > 0) depth--; next }
	line ~ /^"[^"]*" : / {
		k = line; sub(/^"/, "", k); sub(/" : .*$/, "", k)
		v = line; sub(/^"[^"]*" : /, "", v); v = unq(v)
		p = ""
		for (i = 2; i <= depth; i++) p = p "/" path[i] # path[1] is the top-level object
		p = p "/" k
		if (!(p in seen)) { seen[p] = 1; val[p] = v }
	}
	END {
		job = "/jobs/[]"
		s = job "/sync/lat_ns"
		if (!((s "/N") in val) || val[s "/N"] + 0 == 0) {
			print "etcd-disk-check: result=error reason=no-fdatasync-latencies (jobs[0].sync.lat_ns; run fio with --fdatasync=1)"
			exit 2
		}
		dir = val["/global options/directory"]
		if (dir == "") dir = val[job "/job options/directory"]
		p99 = val[s "/percentile/99.000000"]; p999 = val[s "/percentile/99.900000"]
		if (p99 == "") { print "etcd-disk-check: result=error reason=no-p99"; exit 2 }
		limit = threshold_ms * 1000000
		result = (p99 + 0 >= limit) ? "fail" : "pass"
		printf "etcd-disk-check: result=%s dir=%s p99_ns=%s p999_ns=%s mean_ns=%.0f max_ns=%s syncs=%s write_iops=%.0f threshold_ms=%s\n",
			result, dir, p99, p999, val[s "/mean"], val[s "/max"], val[s "/N"], val[job "/write/iops"], threshold_ms
		if (result == "fail") {
			printf "etcd disk check failed: fdatasync p99 is %s on %s, above etcd'"'"'s %s guideline; use gp3 with provisioned IOPS or io2 (anka:storage.etcd.type)\n",
				fmt_ms(p99), dir, fmt_ms(limit)
			exit 1
		}
		printf "etcd disk check passed: fdatasync p99 is %s on %s, below etcd'"'"'s %s guideline\n", fmt_ms(p99), dir, fmt_ms(limit)
	}' "$json"
