# The few verbs a user needs. `make local` and `make test` are the README's
# two commands.
SHELL := /bin/bash
STACK ?= dev

.PHONY: test deps local local-destroy bench-local integration preview up lint golden toolchain

## test: everything CI runs (unit, mock, golden, real nginx, real etcd, real engine)
test:
	scripts/test.sh

## deps: Debian packages and pinned tools the tests need (cached by version)
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

## integration: only the real-engine tests against a throw-away local control plane
integration:
	ANKA_INTEGRATION=1 go test -count=1 -v ./tests/integration/

## preview / up: against AWS, for STACK=dev|prod (needs AWS credentials and a Pulumi backend)
preview:
	pulumi preview --stack $(STACK) --diff

up:
	pulumi up --stack $(STACK)

## lint: gofmt, go vet, golangci-lint (.golangci.yml) and actionlint on the workflows
lint:
	scripts/lint.sh
	scripts/linttools.sh run

## golden: rewrite tests/testdata/<stack>.json after a reviewed change
golden:
	go test ./tests -run 'TestStackGolden' -update

toolchain:
	scripts/toolchain.sh all
