#!/usr/bin/env bash
# The test command (`make test`, README; .ci/run and the GitHub test job run it too):
#   1. scripts/deps.sh: installs what is missing (Debian packages, the pinned tools), 0.4 s when nothing is;
#   2. scripts/lint.sh: gofmt and go vet;
#   3. every test, with the real programs required rather than skipped (ANKA_REQUIRE_*, ANKA_INTEGRATION=1),
#      and any skipped test left fails the run unless it matches ANKA_ALLOW_SKIP (default: the one opt-in
#      test that benchmarks this machine's own disk), so nothing a run claims to prove is skipped silently.
#
# Logs: one temporary directory per run ($ANKA_TEST_LOGS, else mktemp -d): go-test.json (every test's output)
# and what failing tests keep there (etcd members' and the control plane's logs). Removed when the run
# passes, kept and printed when it fails. Arguments go to `go test` (e.g. -run TestX ./components/etcd/...).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS

log() { printf '[test %s] %s\n' "$(date +%T)" "$*"; }   # stdout, in order with the tests' output

scripts/deps.sh

LOGS=${ANKA_TEST_LOGS:-}
if [ -z "$LOGS" ]; then
  LOGS=$(mktemp -d "${TMPDIR:-/tmp}/anka-test.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the path is fixed
  trap "rc=\$?; if [ \$rc -eq 0 ]; then rm -rf '$LOGS'; else echo '[test] logs kept in $LOGS'; fi; exit \$rc" EXIT
fi
mkdir -p "$LOGS"
export ANKA_TEST_LOGS=$LOGS
export ANKA_REQUIRE_NGINX=1 ANKA_REQUIRE_ETCD=1 ANKA_REQUIRE_PROMTOOL=1 ANKA_REQUIRE_KUBELINT=1 ANKA_INTEGRATION=1
ALLOW_SKIP=${ANKA_ALLOW_SKIP:-^TestCheckScriptOnThisDisk$}

scripts/lint.sh

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
# -json: the skips are in the stream (plain `go test` hides them); the console shows the package lines (and
# build errors) as they come, then every failed test's own output.
set +e
go test -json -count=1 -timeout 20m "${args[@]}" 2>&1 | tee "$LOGS/go-test.json" |
  jq -R -j --unbuffered 'fromjson? // {Action: "output", Output: (. + "\n")}
    | select((.Action == "output" and .Test == null) or .Action == "build-output") | .Output' |
  grep -v -E '^(=== RUN|PASS$|--- PASS)'
rc=${PIPESTATUS[0]}
set -e

# every failed test's output, in the order the tests ran
jq -R -j -n '[inputs | fromjson? | select(.Test != null)] as $ev
  | ($ev | map(select(.Action == "fail")) | map(.Package + " " + .Test)) as $failed
  | $ev[] | select(.Action == "output" and ((.Package + " " + .Test) as $k | $failed | index($k)))
  | .Output' "$LOGS/go-test.json" | grep -v '^=== ' > "$LOGS/failed.txt" || true
if [ -s "$LOGS/failed.txt" ]; then
  log "output of the failed tests:"
  cat "$LOGS/failed.txt"
fi

# each skipped test that is not allowed, with the reason it gave (its own output lines)
jq -R -r -n --arg allow "$ALLOW_SKIP" '[inputs | fromjson? | select(.Test != null)] as $ev
  | $ev[] | select(.Action == "skip" and (.Test | test($allow) | not)) as $s
  | ([$ev[] | select(.Action == "output" and .Package == $s.Package and .Test == $s.Test)
      | .Output | select(test("^\\s*(===|---)") | not) | gsub("^\\s+|\\s+$"; "")] | join(" ")) as $why
  | $s.Package + " " + $s.Test + ": " + $why' "$LOGS/go-test.json" > "$LOGS/skipped.txt"
if [ "$rc" -eq 0 ] && [ -s "$LOGS/skipped.txt" ]; then
  log "these tests skipped (full output in $LOGS/go-test.json): make them run, or name them in ANKA_ALLOW_SKIP"
  sed 's/^/  /' "$LOGS/skipped.txt"
  rc=1
fi
log "$([ "$rc" -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - t0))s"
exit "$rc"
