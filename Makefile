# netaccel — the two commands are `make lab` and `make test`; both set the machine up first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NAME ?=
export NX_DAEMON := false
export NX_NO_CLOUD := true

.PHONY: help setup build lab test test-unit coverage check depcheck bench clean install uninstall fresh-check

help:
	@echo "make lab     set up this machine and run every lab scenario: the thesis (BGP/ECMP router, reflector, 3 XDP balancers, 6 backends), then Paxos with the Electrode offloads, NetCRAQ (etcd, a 3-node XDP chain, the scheduler) and the gRPC sidecar (root; ARGS=--keep runs the thesis alone and leaves it up, ARGS='--scenario paxos' one scenario)"
	@echo "make test    set up this machine and run every test: checks, unit, BPF, namespaces (root)"
	@echo "make coverage  the unit layer with a v8 coverage report (coverage/index.html)"
	@echo "make bench   run the benchmarks (NAME=<name> for one; ARGS=--strict fails on a missed goal); results in bench/results/"
	@echo "make setup   only install packages and build"
	@echo "make fresh-check  run the set-up, make check and the unit tests on a fresh Debian 12 root (root; slow; before closing a change to the set-up)"
	@echo "make install install the build, systemd units and example configs (DESTDIR, PREFIX=/usr); make uninstall removes them"

setup:
	@scripts/setup.sh

build: setup

# ARGS: options of `netaccel lab` (--keep, --quick, --json, --scenario); every scenario unless
# ARGS names one or keeps the (thesis) lab up
lab: setup
	@node apps/cli/dist/main.js lab $(if $(filter --scenario% --keep,$(ARGS)),,--scenario all) $(ARGS)

# Static checks first, then one `vitest run` for every layer (unit, then bpf, then ns), so the
# run ends with vitest's one summary.
check:
	@echo "check: generated code is current"; npm run -s gen:check -w @netaccel/rpc
	@echo "check: types"; npx tsc -p tsconfig.json
	@echo "check: lint"; npx eslint . --max-warnings 0
	@$(MAKE) -s depcheck

depcheck:
	@echo "check: dependency rules"; npx depcruise --config .dependency-cruiser.cjs $(wildcard libs apps bench test scripts bpf docker packaging) --output-type err

test: setup check
	@node scripts/test.mjs --layer all

test-unit:
	@node scripts/test.mjs --layer unit

# The unit layer with v8 coverage: text summary here, HTML in coverage/index.html.
coverage: setup
	@node scripts/test.mjs --layer unit -- --coverage

bench: setup
	@node --import tsx bench/run.ts $(NAME) $(ARGS)

# scripts/setup.sh, make check and the unit layer on a fresh Debian 12 root that holds only
# what the README asks for (Node 20, make): catches what setup.sh forgets to install.
# The host needs only the set-up's packages (mmdebstrap among them), not a build of its own.
fresh-check:
	@SETUP_SKIP_BUILD=1 scripts/setup.sh
	@scripts/fresh-check.sh $(ARGS)

# The build, the three systemd units and the example configurations (packaging/README.md);
# DESTDIR, PREFIX (default /usr) and SYSTEMD_UNIT_DIR (default /lib/systemd/system) as usual.
install: setup
	@DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SYSTEMD_UNIT_DIR='$(SYSTEMD_UNIT_DIR)' packaging/install.sh install

uninstall:
	@DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SYSTEMD_UNIT_DIR='$(SYSTEMD_UNIT_DIR)' packaging/install.sh uninstall

clean:
	rm -rf libs/*/dist apps/*/dist bpf/build .nx/cache coverage
