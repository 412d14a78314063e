#!/usr/bin/env bash
# gofmt and go vet: the quick half of the linting, run by `make test` (scripts/test.sh). golangci-lint,
# actionlint and shellcheck are `make lint` (scripts/linttools.sh run), which .ci/run and GitHub run too.
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # tracked and new files (a new file is checked before it is added), minus tracked ones deleted since
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.go' | while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done)
else
  mapfile -t files < <(find . -name '*.go' -not -path './.git/*')
fi
unformatted=$(gofmt -l "${files[@]}")
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...
