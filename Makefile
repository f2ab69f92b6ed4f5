# DINFRA: one entry point for set-up, the dev stack, tests and the demo.
# Every target installs what it needs; caches live in $(DINFRA_CACHE) (default ~/.cache/dinfra).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SCRIPTS := scripts
VENV := .venv
PYTEST := $(VENV)/bin/python -m pytest
CARGO_ENV := source $(SCRIPTS)/lib.sh &&

.PHONY: help setup collection wasm weights bench dev-up dev-down dev-status test test-chain test-unit lint sanity test-integration molecule build demo clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: ## Install Debian packages, the Python venv (ansible 12, ansible-core 2.19), the dev chain's npm packages and Kubo
	$(SCRIPTS)/setup-system.sh
	$(SCRIPTS)/setup-python.sh
	$(SCRIPTS)/setup-chopsticks.sh
	$(SCRIPTS)/setup-kubo.sh

collection: setup ## Make this checkout the dinfra.chain collection for Ansible (.dev/collections)
	$(SCRIPTS)/setup-collection.sh

wasm: setup ## Build the runtime to wasm
	$(SCRIPTS)/build-runtime.sh

weights: setup ## Re-measure the pallets' weights and rewrite their weights.rs
	$(CARGO_ENV) cd chain && $$CARGO build --release --locked -p dinfra-benchmarks && \
	  DINFRA_BENCH_DATE=$$(date -u +%F) $$CARGO_TARGET_DIR/release/dinfra-benchmarks --out $$DINFRA_CACHE/bench-results && \
	  for p in providers subscriptions; do \
	    python3 benchmarks/gen_weights.py $$DINFRA_CACHE/bench-results/pallet_dinfra_$$p.json pallets/$$p/src/weights.rs; \
	  done

bench: wasm collection ## Benchmark the Chain Reactor on the dev stack (started and stopped here if not up); BENCH_ARGS=--help for options
	$(SCRIPTS)/with-dev-stack.sh $(VENV)/bin/python bench/reactor_bench.py $(BENCH_ARGS)

dev-up: wasm ## Build what is missing and start the local dev stack in the background; endpoints go to .dev/env
	$(SCRIPTS)/dev-stack.sh up

dev-down: ## Stop the local dev stack
	$(SCRIPTS)/dev-stack.sh down

dev-status: ## Show which dev stack services run
	$(SCRIPTS)/dev-stack.sh status

test: setup test-chain test-unit lint sanity test-integration ## Run every test: Rust, Python unit, lint, sanity, then integration on the dev stack

test-chain: setup ## Rust: pallet unit and benchmark tests, runner tests, the parachain shape's compile check
	$(CARGO_ENV) cd chain && $$CARGO test --locked --workspace --features runtime-benchmarks
	$(SCRIPTS)/check-parachain.sh

test-unit: collection ## Python unit tests (no services)
	$(PYTEST) tests/unit

lint: collection ## ansible-lint (production profile), yamllint, and .gitlab-ci.yml against GitLab's CI schema
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.dev/collections $(VENV)/bin/ansible-lint --strict
	$(VENV)/bin/yamllint -s -c .yamllint .
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml

sanity: setup ## ansible-test sanity on the supported ansible-core (2.19)
	$(SCRIPTS)/sanity.sh

test-integration: wasm collection ## Python tests against a real dev stack (started and stopped here)
	$(SCRIPTS)/with-dev-stack.sh $(PYTEST) --durations=25 tests/integration

molecule: wasm collection ## The molecule scenarios (extensions/molecule) against the dev stack's CloudStack simulator
	$(SCRIPTS)/with-dev-stack.sh $(PYTEST) tests/integration/cloudstack/test_molecule_scenarios.py

build: setup ## Build the collection tarball into build/
	mkdir -p build
	$(VENV)/bin/ansible-galaxy collection build --force --output-path build

demo: wasm collection ## The main job on the local dev stack (started and stopped here, or left running if it was up)
	$(SCRIPTS)/with-dev-stack.sh $(VENV)/bin/python $(SCRIPTS)/demo.py

clean: dev-down ## Stop the dev stack and remove local state (.dev); caches outside the repo are kept
	rm -rf .dev
