# netaccel — the two commands are `make lab` and `make test`; both set the machine up first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NAME ?=
export NX_DAEMON := false
export NX_NO_CLOUD := true

.PHONY: help setup build lab test test-unit check depcheck bench clean

help:
	@echo "make lab     set up this machine and run the netaccel demonstration (root)"
	@echo "make test    set up this machine and run every test: checks, unit, BPF, namespaces (root)"
	@echo "make bench   run the benchmarks (NAME=<name> for one); results in bench/results/"
	@echo "make setup   only install packages and build"

setup:
	@scripts/setup.sh

build: setup

lab: setup
	@node --import tsx scripts/demo.ts

# Static checks first, then one test-runner invocation for every layer, so the run ends with
# the runner's summary.
check:
	@echo "check: generated code is current"; npm run -s gen:check -w @netaccel/rpc
	@echo "check: types"; npx tsc -p tsconfig.json
	@echo "check: lint"; npx eslint . --max-warnings 0
	@$(MAKE) -s depcheck

depcheck:
	@echo "check: dependency rules"; npx depcruise --config .dependency-cruiser.cjs $(wildcard libs apps bench test scripts bpf) --output-type err

test: setup check
	@node scripts/test.mjs --layer all

test-unit:
	@node scripts/test.mjs --layer unit

bench: setup
	@node --import tsx bench/run.ts $(NAME)

clean:
	rm -rf libs/*/dist apps/*/dist bpf/build .nx/cache
