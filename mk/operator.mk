# The operator, its CRD and chart (docs/operator.md). Included by the main Makefile (-include mk/*.mk).
#
#   make operator      run the operator against $KUBECONFIG (default: the `make k8s-up` API server)
#   make crds-check    fail when charts/shoal/crds/ differs from crds/ (crds/ is the single source)
#   make crds-sync     copy crds/ into the chart
#   make helm-lint     helm lint --strict + helm template of charts/shoal
#   make e2e-k8s       control-plane e2e: a fresh API server of its own, the k8s jest project, then stop it

OPERATOR_ROOT  := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
OPERATOR_BIN   ?= $(OPERATOR_ROOT)/.tools/bin
# The e2e runs its own etcd + kube-apiserver (own state dir, ports and kubeconfig), so it starts from
# scratch and never stops an API server someone else started with `make k8s-up`.
E2E_K8S_STATE  ?= $(OPERATOR_ROOT)/.state/k8s-e2e
CHART_DIR      := $(OPERATOR_ROOT)/charts/shoal
CRD_FILES      := $(notdir $(wildcard $(OPERATOR_ROOT)/crds/*.yaml))

.PHONY: operator crds-check crds-sync helm-lint e2e-k8s

operator: build ## Run the operator against $KUBECONFIG (default .state/k8s/kubeconfig from `make k8s-up`)
	KUBECONFIG=$${KUBECONFIG:-$(OPERATOR_ROOT)/.state/k8s/kubeconfig} SHOAL_LEADER_ELECT=$${SHOAL_LEADER_ELECT:-false} \
	  node $(OPERATOR_ROOT)/operator/dist/main.js

crds-check: ## Fail when the chart's CRD copy differs from crds/ (run `make crds-sync` to fix)
	@fail=0; for f in $(CRD_FILES); do \
	  if ! diff -u "$(OPERATOR_ROOT)/crds/$$f" "$(CHART_DIR)/crds/$$f"; then \
	    echo "crds-check: charts/shoal/crds/$$f differs from crds/$$f (make crds-sync)" >&2; fail=1; fi; \
	done; \
	extra=$$(cd "$(CHART_DIR)/crds" && ls *.yaml 2>/dev/null | grep -vxF "$$(printf '%s\n' $(CRD_FILES))" || true); \
	if [ -n "$$extra" ]; then echo "crds-check: charts/shoal/crds/ has files crds/ does not: $$extra" >&2; fail=1; fi; \
	[ $$fail -eq 0 ] && echo "crds-check: charts/shoal/crds matches crds/"; exit $$fail

crds-sync: ## Copy crds/*.yaml into charts/shoal/crds/
	mkdir -p $(CHART_DIR)/crds && cp $(addprefix $(OPERATOR_ROOT)/crds/,$(CRD_FILES)) $(CHART_DIR)/crds/

helm-lint: k8s-tools crds-check ## helm lint --strict and helm template of charts/shoal
	$(OPERATOR_BIN)/helm lint --strict $(CHART_DIR)
	$(OPERATOR_BIN)/helm template shoal $(CHART_DIR) --namespace shoal-system >/dev/null
	@echo "helm-lint: ok"

e2e-k8s: tools build k8s-tools crds-check ## Control-plane e2e against a fresh API server of its own (prints its duration)
	@start=$$(date +%s); rc=0; \
	$(MAKE) --no-print-directory k8s-up K8S_STATE=$(E2E_K8S_STATE) || rc=$$?; \
	if [ $$rc -eq 0 ]; then \
	  KUBECONFIG=$(E2E_K8S_STATE)/kubeconfig SHOAL_K8S_BIN=$(OPERATOR_BIN) \
	    node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects k8s --runInBand $(E2E_K8S_ARGS) || rc=$$?; \
	fi; \
	$(MAKE) --no-print-directory k8s-down K8S_STATE=$(E2E_K8S_STATE) || true; \
	echo "e2e-k8s: $$(( $$(date +%s) - start ))s, exit $$rc"; exit $$rc
