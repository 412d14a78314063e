#!/usr/bin/env bash
# The test command (README, .ci/run): formatting, vet, then every test with
# the real programs required rather than skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANKA_REQUIRE_NGINX=1 ANKA_REQUIRE_ETCD=1 ANKA_INTEGRATION=1
scripts/lint.sh
go test -count=1 -timeout 20m ./... "$@"
