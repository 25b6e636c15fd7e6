# Benchmarks side by side with Mosquitto and nats-server MQTT, and the connection-scale test (docs/performance.md).
# Included by the main Makefile (-include mk/*.mk).
#
#   make bench                    every scenario against the fleet, Mosquitto and nats-server MQTT (under ~10 min)
#   make bench BENCH_QUICK=1      the same with short intervals and small counts (about a minute)
#   make bench BENCH_ARGS="--only pairs-qos1,pairs-qos1-half-rate --systems shoal,nats-mqtt"
#   make bench-connections        ≥ 100,000 idle connections over 6 proxies, held 5 minutes (about 8 minutes)
#
# Results: bench/results/<date>-<scenario>.json, <date>-summary.md, <date>-summary.svg.

BENCH_ROOT  := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
BENCH_QUICK ?=
BENCH_ARGS  ?=
BENCH_CONNECTIONS_ARGS ?=

.PHONY: bench bench-connections

bench: tools build ## Fleet side by side with Mosquitto and nats-server MQTT (BENCH_QUICK=1: about a minute)
	cd $(BENCH_ROOT) && node --import tsx bench/side-by-side.ts $(if $(BENCH_QUICK),--quick) $(BENCH_ARGS)

bench-connections: tools build ## ≥ 100,000 idle MQTT connections across 6 proxies, held 5 minutes with keepalives
	cd $(BENCH_ROOT) && node --import tsx bench/connection-scale.ts $(BENCH_CONNECTIONS_ARGS)
