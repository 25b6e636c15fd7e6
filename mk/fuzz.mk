# Fuzzing of the decode and handling path (docs: proxy/src/test-support/fuzz-inputs.ts). Included by the main Makefile.
#
#   make fuzz                         1,000,000 generated inputs (stops after FUZZ_MAX_MINUTES), a random seed
#   make fuzz FUZZ_RUNS=50000 FUZZ_SEED=7
#
# The CI smoke of the same generators is the unit test proxy/src/fuzz/fuzz-smoke.test.ts.

FUZZ_ROOT         := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
FUZZ_RUNS         ?= 1000000
FUZZ_MAX_MINUTES  ?= 30
FUZZ_CONCURRENCY  ?= 64
FUZZ_SEED         ?=

.PHONY: fuzz

fuzz: ## Fuzz the proxy's decode and handling path in process (FUZZ_RUNS inputs, default 1,000,000)
	cd $(FUZZ_ROOT) && node --expose-gc --import tsx bench/fuzz.ts --runs $(FUZZ_RUNS) --max-minutes $(FUZZ_MAX_MINUTES) \
	  --concurrency $(FUZZ_CONCURRENCY) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))
