# Real Kubernetes API server for tests (docs/k8s-test-env.md).
# Included by the main Makefile (-include mk/*.mk); also usable alone: make -f mk/k8s.mk k8s-up
#
#   make k8s-tools   build kube-apiserver, etcd, kubectl, helm into .tools/bin (cached by version)
#   make k8s-up      start etcd + kube-apiserver on 127.0.0.1; writes .state/k8s/kubeconfig
#   make k8s-down    stop them (K8S_PURGE=1 also removes .state/k8s)

K8S_ROOT       := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
K8S_BIN        ?= $(K8S_ROOT)/.tools/bin
K8S_STATE      ?= $(K8S_ROOT)/.state/k8s
K8S_KUBECONFIG ?= $(K8S_STATE)/kubeconfig
KUBECTL        ?= $(K8S_BIN)/kubectl
HELM           ?= $(K8S_BIN)/helm

.PHONY: k8s-tools k8s-up k8s-down

k8s-tools: ## Build kube-apiserver, etcd, kubectl, helm into .tools/bin (pinned in tools/*/go.mod; cached)
	@SHOAL_TOOLS_BIN=$(K8S_BIN) $(K8S_ROOT)/scripts/k8s-tools.sh all

k8s-up: k8s-tools ## Start etcd + kube-apiserver on 127.0.0.1; writes .state/k8s/kubeconfig (idempotent)
	@SHOAL_TOOLS_BIN=$(K8S_BIN) SHOAL_K8S_STATE=$(K8S_STATE) SHOAL_K8S_TOOLS_DONE=1 $(K8S_ROOT)/scripts/k8s-up.sh

k8s-down: ## Stop the API server and etcd (K8S_PURGE=1 also removes .state/k8s)
	@SHOAL_TOOLS_BIN=$(K8S_BIN) SHOAL_K8S_STATE=$(K8S_STATE) SHOAL_K8S_PURGE=$(K8S_PURGE) \
	  $(K8S_ROOT)/scripts/k8s-down.sh
