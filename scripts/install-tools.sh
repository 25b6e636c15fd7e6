#!/usr/bin/env bash
# Installs what `make up` and `make test` need, idempotently, and does nothing slow when it is all there:
#   - Debian packages redis-server, mosquitto, mosquitto-clients (apt-get update only when one is missing);
#   - nats-server (pinned) built with `go install` into .tools/bin;
#   - node_modules via `npm ci` when missing or older than package-lock.json.
# The Debian redis-server and mosquitto packages ship system services listening on 6379 and 1883; the fleet
# and the tests start their own processes on those ports, so the system services are kept stopped.
set -euo pipefail

readonly NATS_SERVER_VERSION="v2.12.3"
readonly APT_PACKAGES=(redis-server mosquitto mosquitto-clients)

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly repo
readonly tools_bin="${repo}/.tools/bin"

log() { printf 'install-tools: %s\n' "$*"; }

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

missing_apt_packages() {
  local pkg status
  for pkg in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "${pkg}" 2>/dev/null || true)"
    [[ "${status}" == "installed" ]] || printf '%s\n' "${pkg}"
  done
}

# Stops a Debian service of ours if it runs (found by its pid file), without touching any other process
# that may be listening on the same port (a developer's fleet, another test run).
stop_system_service() {
  local name="$1" pidfile="$2" pid
  [[ -r "${pidfile}" ]] || return 0
  pid="$(cat "${pidfile}" 2>/dev/null || true)"
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 0
  kill -0 "${pid}" 2>/dev/null || return 0
  log "stopping the system ${name} service (pid ${pid}); Shoal starts its own"
  as_root service "${name}" stop >/dev/null 2>&1 || as_root kill "${pid}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "${pid}" 2>/dev/null || return 0
    sleep 0.1
  done
  as_root kill -9 "${pid}" 2>/dev/null || true
}

disable_system_service() {
  local name="$1"
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    as_root systemctl disable --now "${name}" >/dev/null 2>&1 || true
  elif command -v update-rc.d >/dev/null 2>&1; then
    as_root update-rc.d "${name}" disable >/dev/null 2>&1 || true
  fi
}

install_apt_packages() {
  local missing
  missing="$(missing_apt_packages)"
  if [[ -n "${missing}" ]]; then
    # shellcheck disable=SC2086 # one package per word
    log "installing Debian packages: $(echo ${missing})"
    # Keep the package scripts from starting services while installing (the Docker convention); an
    # existing policy is left as it is.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e "${policy}" ]]; then
      printf '#!/bin/sh\nexit 101\n' | as_root tee "${policy}" >/dev/null
      as_root chmod 755 "${policy}"
      created_policy=1
    fi
    local rc=0
    {
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        # shellcheck disable=SC2086
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing}
    } || rc=$?
    if [[ "${created_policy}" -eq 1 ]]; then as_root rm -f "${policy}"; fi
    [[ "${rc}" -eq 0 ]] || { log "apt-get failed (${rc})"; exit "${rc}"; }
    disable_system_service redis-server
    disable_system_service mosquitto
  fi
  stop_system_service redis-server /run/redis/redis-server.pid
  stop_system_service mosquitto /run/mosquitto/mosquitto.pid
}

install_nats_server() {
  local current=""
  if [[ -x "${tools_bin}/nats-server" ]]; then
    current="$("${tools_bin}/nats-server" --version 2>/dev/null || true)"
  fi
  if [[ "${current}" == *"${NATS_SERVER_VERSION}"* ]]; then
    return 0
  fi
  if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
    export PATH="/usr/local/go/bin:${PATH}"
  fi
  command -v go >/dev/null 2>&1 || { log "go is required to build nats-server (install Go 1.24+)"; exit 1; }
  log "building nats-server ${NATS_SERVER_VERSION} into .tools/bin (go install)"
  mkdir -p "${tools_bin}"
  GOBIN="${tools_bin}" CGO_ENABLED=0 GOTOOLCHAIN=local \
    go install "github.com/nats-io/nats-server/v2@${NATS_SERVER_VERSION}"
  "${tools_bin}/nats-server" --version
}

install_node_modules() {
  # npm writes node_modules/.package-lock.json on every install: it is the date of the tree.
  local marker="${repo}/node_modules/.package-lock.json"
  if [[ -d "${repo}/node_modules" && -e "${marker}" && ! "${repo}/package-lock.json" -nt "${marker}" ]]; then
    return 0
  fi
  log "npm ci"
  (cd "${repo}" && npm ci --no-audit --no-fund)
}

install_apt_packages
install_nats_server
install_node_modules
