# The few verbs a user needs. `make local` and `make test` are the README's
# two commands.
SHELL := /bin/bash
STACK ?= dev

.PHONY: test deps local local-destroy bench-local integration preview up lint golden toolchain

## test: installs what is missing (scripts/deps.sh), then gofmt, go vet and every test (unit, mock, golden,
## real nginx, real etcd, real engine); a skipped test fails it (scripts/test.sh)
test:
	scripts/test.sh

## deps: Debian packages and pinned tools the tests need (cached by version; make test runs it itself)
deps:
	scripts/deps.sh

## local: the real Pulumi engine deploys the workload onto a local control plane
local:
	scripts/run-local.sh

local-destroy:
	scripts/run-local.sh destroy

## bench-local: wall times of preview and up against the local control plane
bench-local:
	scripts/bench-local.sh

## integration: only the real-engine tests against a throw-away local control plane (KWOK nodes, and real
## nodes where the containers run: tests/realpods, root only)
integration:
	ANKA_INTEGRATION=1 go test -count=1 -v ./tests/integration/ ./tests/realpods/

## preview / up: against AWS, for STACK=dev|prod (needs AWS credentials and a Pulumi backend)
preview:
	pulumi preview --stack $(STACK) --diff

up:
	pulumi up --stack $(STACK)

## lint: gofmt, go vet, then shellcheck on every shell script, actionlint on the workflows, golangci-lint
lint:
	scripts/lint.sh
	scripts/linttools.sh run

## golden: rewrite every golden file after a reviewed change: the stacks' tests/testdata/*.json, etcd's
## member env (components/etcd/member/testdata) and nginx.conf (components/edge/nginxconf/testdata)
GOLDEN_PACKAGES := ./tests ./components/etcd/member ./components/edge/nginxconf
golden:
	go test $(GOLDEN_PACKAGES) -count=1 -run 'Golden' -update

## toolchain: the runtime tools and the linters, reused or built (scripts/toolchain.sh)
toolchain:
	scripts/toolchain.sh all lint
