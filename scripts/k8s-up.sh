#!/usr/bin/env bash
# Start a real etcd + kube-apiserver on 127.0.0.1, the way controller-runtime's envtest does
# (no controller-manager, scheduler or kubelet). Idempotent: when both already run and the
# API server is ready, it only prints where it is. Both processes are detached (setsid), so
# the caller returns; stop them with scripts/k8s-down.sh.
#
# Writes (under $SHOAL_K8S_STATE, default <repo>/.state/k8s):
#   kubeconfig          admin user (client cert, group system:masters), certs embedded
#   env                 export KUBECONFIG=…, SHOAL_K8S_PORT=…, SHOAL_ETCD_PORT=… (for . or make include)
#   pki/                CA, serving cert, admin client cert, service-account key pair
#   etcd/               etcd data (wiped at every start unless SHOAL_K8S_KEEP_DATA=1)
#   etcd.log, kube-apiserver.log, etcd.pid, kube-apiserver.pid
# Env:
#   SHOAL_K8S_PORT, SHOAL_ETCD_PORT   fixed ports (must be free); default: the previous run's
#                                     ports if free, else free ones (SHOAL_ETCD_PEER_PORT too)
#   SHOAL_K8S_TIMEOUT                 seconds to wait for /readyz (default 120)
#   SHOAL_K8S_KEEP_DATA=1             keep etcd data from the previous run
#   SHOAL_K8S_ADVERTISE_ADDRESS       override --advertise-address (default: unset, the
#                                     API server picks the default-route address)
#   SHOAL_K8S_APISERVER_ARGS          extra kube-apiserver flags (word-split)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${SHOAL_TOOLS_BIN:-$ROOT/.tools/bin}
STATE=${SHOAL_K8S_STATE:-$ROOT/.state/k8s}
PKI=$STATE/pki
TIMEOUT=${SHOAL_K8S_TIMEOUT:-120}

log() { printf 'k8s-up: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# pid from a pid file if that process is alive and runs the expected binary
live_pid() { # <name>
  local f=$STATE/$1.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$BIN/$1" ] || return 1
  echo "$pid"
}

curl_k8s() { # <path> [curl args]
  local p=$1; shift
  curl -sS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "$@" "https://127.0.0.1:$SHOAL_K8S_PORT$p"
}

port_free() { # <port>
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
free_port() {
  local p
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
  else
    for _ in $(seq 1 200); do
      p=$(( 20000 + RANDOM % 30000 ))
      port_free "$p" && { echo "$p"; return; }
    done
    die "no free port found"
  fi
}

# one k8s-up/k8s-down at a time per state directory
mkdir -p "$STATE"
if [ -z "${SHOAL_K8S_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
  exec 9>"$STATE/.lock"; flock 9; export SHOAL_K8S_LOCKED=1
fi

# ---------------------------------------------------------------- already up?
# ports asked for by the caller, and those of the previous run (from the env file)
req_api=${SHOAL_K8S_PORT:-}; req_etcd=${SHOAL_ETCD_PORT:-}; req_peer=${SHOAL_ETCD_PEER_PORT:-}
envval() { [ -f "$STATE/env" ] || return 0; sed -n "s/^\(export \)\{0,1\}$1=//p" "$STATE/env" | tail -n1; }
prev_api=$(envval SHOAL_K8S_PORT); prev_etcd=$(envval SHOAL_ETCD_PORT); prev_peer=$(envval SHOAL_ETCD_PEER_PORT)

if api=$(live_pid kube-apiserver) && etcd=$(live_pid etcd) \
   && { [ -z "$req_api" ] || [ "$req_api" = "$prev_api" ]; } \
   && [ "$(SHOAL_K8S_PORT=$prev_api curl_k8s /readyz 2>/dev/null)" = ok ]; then
  log "already up: https://127.0.0.1:$prev_api (pids etcd $etcd, kube-apiserver $api); KUBECONFIG=$STATE/kubeconfig"
  exit 0
fi
# half up, not ready, or asked for another port: start over
"$ROOT/scripts/k8s-down.sh" --quiet || true

# ---------------------------------------------------------------- binaries
[ -n "${SHOAL_K8S_TOOLS_DONE:-}" ] || "$ROOT/scripts/k8s-tools.sh" etcd kube-apiserver
command -v openssl >/dev/null || die "openssl is needed to make the certificates"
command -v curl >/dev/null || die "curl is needed to probe the API server"

# ---------------------------------------------------------------- ports
pick() { # <requested> <previous>: requested must be free; previous is reused if free
  if [ -n "$1" ]; then port_free "$1" || die "port $1 is in use"; echo "$1"
  elif [ -n "$2" ] && port_free "$2"; then echo "$2"
  else free_port; fi
}
API_PORT=$(pick "$req_api" "$prev_api")
ETCD_PORT=$(pick "$req_etcd" "$prev_etcd")
PEER_PORT=$(pick "$req_peer" "$prev_peer")
while [ "$ETCD_PORT" = "$API_PORT" ]; do ETCD_PORT=$(free_port); done
while [ "$PEER_PORT" = "$API_PORT" ] || [ "$PEER_PORT" = "$ETCD_PORT" ]; do PEER_PORT=$(free_port); done

# ---------------------------------------------------------------- certificates
mkpki() {
  local d=$PKI; rm -rf "$d"; mkdir -p "$d"; chmod 700 "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=shoal-test-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  # serving cert for 127.0.0.1/localhost and the in-cluster names of the kubernetes Service
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$d/apiserver.key" -out "$d/apiserver.csr" 2>/dev/null
  printf '%s\n' \
    "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
    "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" >"$d/apiserver.ext"
  openssl x509 -req -in "$d/apiserver.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 3650 -extfile "$d/apiserver.ext" -out "$d/apiserver.crt" 2>/dev/null
  # admin client cert: user "admin" in group system:masters (cluster-admin, like envtest's default user)
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=admin" \
    -keyout "$d/admin.key" -out "$d/admin.csr" 2>/dev/null
  printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature,keyEncipherment" >"$d/admin.ext"
  openssl x509 -req -in "$d/admin.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 3650 -extfile "$d/admin.ext" -out "$d/admin.crt" 2>/dev/null
  # service-account token signing key pair
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  rm -f "$d"/*.csr "$d"/*.ext "$d"/*.srl
  chmod 600 "$d"/*.key
}
if ! [ -s "$PKI/sa.pub" ] || ! openssl x509 -checkend 86400 -noout -in "$PKI/admin.crt" >/dev/null 2>&1 \
   || ! openssl x509 -checkend 86400 -noout -in "$PKI/apiserver.crt" >/dev/null 2>&1; then
  log "generating certificates in $PKI"
  mkpki
fi

# ---------------------------------------------------------------- etcd
[ -n "${SHOAL_K8S_KEEP_DATA:-}" ] || rm -rf "$STATE/etcd"
mkdir -p "$STATE/etcd"; chmod 700 "$STATE/etcd"
ETCD_URL=http://127.0.0.1:$ETCD_PORT
PEER_URL=http://127.0.0.1:$PEER_PORT
t0=$(date +%s.%N)
etcd_args=(
  --name=shoal-test --data-dir="$STATE/etcd"
  --listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL"
  --listen-peer-urls="$PEER_URL" --initial-advertise-peer-urls="$PEER_URL"
  --initial-cluster="shoal-test=$PEER_URL" --initial-cluster-state=new
  --unsafe-no-fsync=true --log-level=warn
)
setsid "$BIN/etcd" "${etcd_args[@]}" </dev/null >"$STATE/etcd.log" 2>&1 9>&- &
echo $! >"$STATE/etcd.pid"

ok=
for _ in $(seq 1 100); do
  if curl -sf --max-time 2 "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'; then ok=1; break; fi
  live_pid etcd >/dev/null || break
  sleep 0.2
done
if [ -z "$ok" ]; then
  log "etcd did not become healthy on $ETCD_URL; last lines of $STATE/etcd.log:"
  tail -n 30 "$STATE/etcd.log" >&2 || true
  "$ROOT/scripts/k8s-down.sh" --quiet || true
  exit 1
fi

# ---------------------------------------------------------------- kube-apiserver
SHOAL_K8S_PORT=$API_PORT   # for curl_k8s
api_args=(
  --etcd-servers="$ETCD_URL"
  --bind-address=127.0.0.1 --secure-port="$API_PORT"
  --cert-dir="$STATE/apiserver-certs"
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key"
  --client-ca-file="$PKI/ca.crt"
  --authorization-mode=RBAC
  --service-account-issuer="https://127.0.0.1:$API_PORT/"
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key"
  --service-cluster-ip-range=10.0.0.0/24
  --disable-admission-plugins=ServiceAccount
  --allow-privileged=true
)
if [ -n "${SHOAL_K8S_ADVERTISE_ADDRESS:-}" ]; then
  api_args+=(--advertise-address="$SHOAL_K8S_ADVERTISE_ADDRESS")
elif ! awk 'NR>1 && $2=="00000000" {f=1} END {exit !f}' /proc/net/route 2>/dev/null; then
  # no default route: the API server can't pick an address by itself; give it a local one
  addr=$(ip -4 -o addr show scope global 2>/dev/null | awk '{split($4,a,"/"); print a[1]; exit}')
  if [ -n "$addr" ]; then
    api_args+=(--advertise-address="$addr")
  else
    # loopback only: the kubernetes Service endpoints can't be reconciled; don't try
    api_args+=(--advertise-address=127.0.0.1 --endpoint-reconciler-type=none)
  fi
fi
# shellcheck disable=SC2206
[ -z "${SHOAL_K8S_APISERVER_ARGS:-}" ] || api_args+=($SHOAL_K8S_APISERVER_ARGS)

setsid "$BIN/kube-apiserver" "${api_args[@]}" </dev/null >"$STATE/kube-apiserver.log" 2>&1 9>&- &
echo $! >"$STATE/kube-apiserver.pid"

# ---------------------------------------------------------------- kubeconfig + env
b64() { base64 -w0 <"$1"; }
umask 077
cat >"$STATE/kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: shoal-test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(b64 "$PKI/admin.crt")
    client-key-data: $(b64 "$PKI/admin.key")
contexts:
- name: shoal-test
  context:
    cluster: shoal-test
    user: admin
    namespace: default
current-context: shoal-test
EOF
mv -f "$STATE/kubeconfig.tmp" "$STATE/kubeconfig"
cat >"$STATE/env" <<EOF
export KUBECONFIG=$STATE/kubeconfig
export SHOAL_K8S_PORT=$API_PORT
export SHOAL_ETCD_PORT=$ETCD_PORT
export SHOAL_ETCD_PEER_PORT=$PEER_PORT
EOF
umask 022

# ---------------------------------------------------------------- wait for /readyz
deadline=$(( $(date +%s) + TIMEOUT ))
ready=
while [ "$(date +%s)" -lt "$deadline" ]; do
  if [ "$(curl_k8s /readyz 2>/dev/null)" = ok ]; then ready=1; break; fi
  live_pid kube-apiserver >/dev/null || { log "kube-apiserver exited"; break; }
  sleep 0.25
done
if [ -z "$ready" ]; then
  log "kube-apiserver not ready after ${TIMEOUT}s (or it exited); last lines of $STATE/kube-apiserver.log:"
  tail -n 40 "$STATE/kube-apiserver.log" >&2 || true
  log "/readyz?verbose says:"; curl_k8s '/readyz?verbose' 2>&1 | grep -v '\[+\]' | tail -n 20 >&2 || true
  "$ROOT/scripts/k8s-down.sh" --quiet || true
  exit 1
fi
t1=$(date +%s.%N)
log "up in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')s: https://127.0.0.1:$API_PORT (etcd $ETCD_URL)"
log "export KUBECONFIG=$STATE/kubeconfig    # or: . $STATE/env"
