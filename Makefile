# Shoal. `make up` runs a local fleet in the foreground; `make test` runs every test. Both install what
# they need first (scripts/install-tools.sh: Debian packages, nats-server in .tools/bin, npm ci).
# Other target files live in mk/*.mk (included at the end), so this file rarely needs editing.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# nats-server, kube-apiserver, etcd, kubectl and helm are built into .tools/bin; Go may live in /usr/local/go.
export PATH := $(CURDIR)/.tools/bin:$(PATH):/usr/local/go/bin

TEST_REPORTS := .state/test
NPM := npm --silent

.PHONY: help tools build lint test test-unit test-int up clean

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F ':.*## ' '{ printf "  %-14s %s\n", $$1, $$2 }'

tools: ## Install redis-server, mosquitto, nats-server (.tools/bin) and node_modules, when missing
	@bash scripts/install-tools.sh

build: ## Compile every workspace (tsc -b)
	$(NPM) run build

lint: ## Type-check every file (tests included) and lint with eslint (type-aware rules, module boundaries)
	$(NPM) run lint

test-unit: ## Unit tests (jest project `unit`)
	$(NPM) run test:unit

test-int: tools build ## Integration tests against real nats-server and redis-server (jest project `integration`)
	$(NPM) run test:int -- --passWithNoTests

# Every step runs even when an earlier one failed, so one run reports everything; the closing line is
# `N passed, N failed` and the exit status is non-zero on any failure (lint included).
test: tools build ## Everything CI runs: lint, unit, integration and control-plane (real API server) tests
	@mkdir -p $(TEST_REPORTS) && rm -f $(TEST_REPORTS)/*.json
	@lint=0; unit=0; int=0; k8s=0; \
	$(NPM) run lint || lint=$$?; \
	$(NPM) run test:unit -- --json --outputFile=$(TEST_REPORTS)/unit.json || unit=$$?; \
	$(NPM) run test:int -- --passWithNoTests --json --outputFile=$(TEST_REPORTS)/integration.json || int=$$?; \
	$(MAKE) --no-print-directory e2e-k8s E2E_K8S_ARGS="--json --outputFile=$(TEST_REPORTS)/k8s.json" || k8s=$$?; \
	node scripts/jest-summary.mjs --step lint=$$lint --step unit=$$unit --step integration=$$int --step k8s=$$k8s \
	  $(TEST_REPORTS)/unit.json $(TEST_REPORTS)/integration.json $(TEST_REPORTS)/k8s.json

up: tools build ## Run a local fleet in the foreground (Redis, shards, proxies; settings: README.md)
	node e2e/dist/up.js

clean: ## Remove build outputs and test reports (keeps .tools/ and the fleet state in .state/fleet)
	rm -rf proxy/dist operator/dist e2e/dist coverage $(TEST_REPORTS)
	find . -name '*.tsbuildinfo' -not -path './node_modules/*' -delete

-include mk/*.mk
