#!/usr/bin/env bash
# Stop the kube-apiserver and etcd started by scripts/k8s-up.sh (by their pid files only).
# Safe when nothing runs. Usage: scripts/k8s-down.sh [--purge] [--quiet]
#   --purge  also remove the state directory (etcd data, certificates, kubeconfig, logs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${SHOAL_TOOLS_BIN:-$ROOT/.tools/bin}
STATE=${SHOAL_K8S_STATE:-$ROOT/.state/k8s}
purge=; quiet=
for a in "$@"; do
  case $a in
    --purge) purge=1 ;;
    --quiet|-q) quiet=1 ;;
    *) echo "usage: $0 [--purge] [--quiet]" >&2; exit 2 ;;
  esac
done
[ -n "${SHOAL_K8S_PURGE:-}" ] && purge=1
log() { [ -n "$quiet" ] || printf 'k8s-down: %s\n' "$*" >&2; }

if [ -d "$STATE" ] && [ -z "${SHOAL_K8S_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
  exec 9>"$STATE/.lock"; flock 9
fi

stop() { # <name>: TERM, wait up to 15 s, then KILL; only if the pid still runs our binary
  local f=$STATE/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  if [[ $pid =~ ^[0-9]+$ ]] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$BIN/$1" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$BIN/$1" ] || break   # gone (or a zombie)
      sleep 0.25
    done
    if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$BIN/$1" ]; then
      log "$1 ($pid) ignored SIGTERM; killing"; kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped $1 ($pid)"
  fi
  rm -f "$f"
}

stop kube-apiserver   # first, so it doesn't log etcd errors on its way out
stop etcd
if [ -n "$purge" ]; then
  rm -rf "$STATE"; log "removed $STATE"
fi
exit 0
