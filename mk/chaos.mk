# Fault injection under QoS 1 load (e2e/src/chaos). Included by the main Makefile (-include mk/*.mk).
#
#   make chaos                                    every fault 10 times (a few minutes)
#   make chaos CHAOS_ROUNDS=2 CHAOS_FAULTS=Redis  fewer rounds, faults whose name contains a word
#
# The CI version is the integration test e2e/test/chaos.int.test.ts (2 rounds, short traffic).

CHAOS_ROOT   := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
CHAOS_ROUNDS ?= 10
CHAOS_FAULTS ?=

.PHONY: chaos

chaos: tools build ## Repeat every fault (proxy SIGKILL, R3 leader kill, Redis restart, rolling restart, scale-out) under QoS 1 load
	cd $(CHAOS_ROOT) && CHAOS_ROUNDS=$(CHAOS_ROUNDS) CHAOS_FAULTS='$(CHAOS_FAULTS)' node e2e/dist/chaos/main.js
