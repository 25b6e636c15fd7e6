#!/usr/bin/env bash
# Build the real Kubernetes test tools from the Go module proxy into .tools/bin:
#   kube-apiserver, kubectl  (tools/k8s:  k8s.io/kubernetes + staging twins v0.X.Y)
#   etcd                     (tools/etcd: go.etcd.io/etcd/server/v3)
#   helm                     (tools/helm: helm.sh/helm/v3)
# The versions are pinned by the committed wrapper modules tools/*/go.mod + go.sum
# (see docs/k8s-test-env.md). A binary is rebuilt only when its version stamp
# (.tools/bin/.<name>.version) differs from what the wrapper pins.
#
# Usage: scripts/k8s-tools.sh [all|kube-apiserver|kubectl|etcd|helm]...   (default: all)
#        scripts/k8s-tools.sh pin     re-derive the wrapper go.mod/go.sum files from
#                                     K8S_VERSION / ETCD_VERSION / HELM_VERSION (env)
# Env:   SHOAL_TOOLS_BIN    where binaries go            (default <repo>/.tools/bin)
#        SHOAL_TOOLS_CACHE  version-keyed binary cache shared by clones on this machine
#                           (default ${XDG_CACHE_HOME:-$HOME/.cache}/shoal/tools; empty = off)
#        SHOAL_TOOLS_FORCE=1  rebuild even if the stamp matches
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${SHOAL_TOOLS_BIN:-$ROOT/.tools/bin}
CACHE=${SHOAL_TOOLS_CACHE-${XDG_CACHE_HOME:-$HOME/.cache}/shoal/tools}
GO=${GO:-}
if [ -z "$GO" ]; then
  if command -v go >/dev/null 2>&1; then GO=$(command -v go)
  elif [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go
  else echo "k8s-tools: no Go toolchain found (need go >= 1.24; set GO=/path/to/go)" >&2; exit 1; fi
fi
export GOTOOLCHAIN=local      # never fetch another Go: fail loudly instead
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
NICE=(nice -n "${SHOAL_BUILD_NICE:-10}")

log() { printf 'k8s-tools: %s\n' "$*" >&2; }

# version of module $2 as resolved in wrapper dir $1 (from go.mod; no network)
modver() { (cd "$ROOT/tools/$1" && "$GO" list -m -f '{{.Version}}' "$2"); }
# short hash of the wrapper's pins, so a re-pinned go.sum triggers a rebuild
pinhash() { cat "$ROOT/tools/$1/go.mod" "$ROOT/tools/$1/go.sum" | sha256sum | cut -c1-12; }

# install <name> <stamp> <build-fn>: skip if .tools/bin has that stamp, else take it from
# the shared cache, else build it there. Writes BIN/<name> and BIN/.<name>.version.
install_tool() {
  local name=$1 stamp=$2 buildfn=$3
  local out=$BIN/$name sfile=$BIN/.$name.version
  mkdir -p "$BIN"
  if [ -z "${SHOAL_TOOLS_FORCE:-}" ] && [ -x "$out" ] && [ "$(cat "$sfile" 2>/dev/null)" = "$stamp" ]; then
    log "$name up to date ($stamp)"; return 0
  fi
  local key=${stamp// /_} cdir=""
  if [ -n "$CACHE" ]; then
    cdir=$CACHE/$name-$key
    if [ -z "${SHOAL_TOOLS_FORCE:-}" ] && [ -x "$cdir/$name" ]; then
      log "$name: copying from cache $cdir"
      cp -f "$cdir/$name" "$out.tmp" && mv -f "$out.tmp" "$out"
      printf '%s\n' "$stamp" >"$sfile"
      return 0
    fi
  fi
  log "building $name ($stamp) ..."
  local t0=$SECONDS
  rm -f "$sfile"
  "$buildfn" "$out.tmp"
  mv -f "$out.tmp" "$out"
  printf '%s\n' "$stamp" >"$sfile"
  log "built $name in $((SECONDS - t0))s, $(du -h "$out" | cut -f1)"
  if [ -n "$cdir" ]; then
    if mkdir -p "$cdir" && cp -f "$out" "$cdir/$name.tmp"; then mv -f "$cdir/$name.tmp" "$cdir/$name"; fi
    # keep the 3 newest builds of this tool (other clones/branches may pin other versions)
    # shellcheck disable=SC2012  # our own directory names: no odd characters
    ls -1dt "$CACHE/$name"-* 2>/dev/null | tail -n +4 | while read -r old; do rm -rf "$old"; done
  fi
}

# ---------------------------------------------------------------- kubernetes
k8s_ldflags() {
  local v; v=$(modver k8s k8s.io/kubernetes)            # v1.34.4
  local minor; minor=$(cut -d. -f2 <<<"${v#v}")
  # buildDate = the tag's publication time (reproducible), as the proxy reports it
  local date; date=$(cd "$ROOT/tools/k8s" && "$GO" list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    [ -n "$date" ] && ldf+=" -X $p.buildDate=$date"
  done
  printf '%s' "$ldf"
}
build_k8s_cmd() { # <cmd> <out>
  (cd "$ROOT/tools/k8s" && CGO_ENABLED=0 "${NICE[@]}" "$GO" build -trimpath \
    -ldflags "$(k8s_ldflags)" -o "$2" "k8s.io/kubernetes/cmd/$1")
}
build_kube_apiserver() { build_k8s_cmd kube-apiserver "$1"; }
build_kubectl() { build_k8s_cmd kubectl "$1"; }

# ---------------------------------------------------------------- etcd
build_etcd() {
  # etcd's version is a constant in api/v3/version; its build script only stamps GitSHA,
  # which we don't know (etcd --version prints "Git SHA: Not provided").
  (cd "$ROOT/tools/etcd" && CGO_ENABLED=0 "${NICE[@]}" "$GO" build -trimpath \
    -ldflags "-s -w" -o "$1" go.etcd.io/etcd/server/v3)
}

# ---------------------------------------------------------------- helm
build_helm() {
  local v kv maj min
  v=$(modver helm helm.sh/helm/v3)
  # like helm's Makefile: the default .Capabilities.KubeVersion follows its client-go (v0.34.2 -> 1.34)
  kv=$(modver helm k8s.io/client-go); kv=${kv#v}
  maj=$(( $(cut -d. -f1 <<<"$kv") + 1 )); min=$(cut -d. -f2 <<<"$kv")
  local ldf="-s -w -X helm.sh/helm/v3/internal/version.version=$v"
  ldf+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ldf+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$maj -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$min"
  ldf+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$maj -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$min"
  (cd "$ROOT/tools/helm" && CGO_ENABLED=0 "${NICE[@]}" "$GO" build -trimpath \
    -ldflags "$ldf" -o "$1" helm.sh/helm/v3/cmd/helm)
}

tool() {
  local gov; gov=$("$GO" env GOVERSION)
  case $1 in
    kube-apiserver) install_tool kube-apiserver "$(modver k8s k8s.io/kubernetes) $gov $(pinhash k8s)" build_kube_apiserver ;;
    kubectl)        install_tool kubectl "$(modver k8s k8s.io/kubernetes) $gov $(pinhash k8s)" build_kubectl ;;
    etcd)           install_tool etcd "$(modver etcd go.etcd.io/etcd/server/v3) $gov $(pinhash etcd)" build_etcd ;;
    helm)           install_tool helm "$(modver helm helm.sh/helm/v3) $gov $(pinhash helm)" build_helm ;;
    *) echo "k8s-tools: unknown tool '$1'" >&2; exit 2 ;;
  esac
}

# ---------------------------------------------------------------- pin
# Re-derive the wrapper modules. The staging replace list comes from the go.mod the proxy
# serves for the exact k8s tag (every `k8s.io/X => ./staging/...` becomes `k8s.io/X => k8s.io/X v0.Y.Z`).
pin() {
  local K=${K8S_VERSION:-$(modver k8s k8s.io/kubernetes)} E=${ETCD_VERSION:-$(modver etcd go.etcd.io/etcd/server/v3)}
  local H=${HELM_VERSION:-$(modver helm helm.sh/helm/v3)}
  K=v${K#v}; E=v${E#v}; H=v${H#v}
  local S=v0.${K#v1.}
  log "pinning k8s $K (staging $S), etcd $E, helm $H"
  local d=$ROOT/tools/k8s kmod m
  mkdir -p "$d"
  kmod=$(cd "$d" && "$GO" mod download -json "k8s.io/kubernetes@$K" | jq -r .GoMod)
  local kgo; kgo=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$kmod")
  local kgodebug; kgodebug=$(sed -n 's/^godebug \(.*\)$/\1/p' "$kmod")
  {
    echo "// Wrapper module: pins kube-apiserver + kubectl. Generated by scripts/k8s-tools.sh pin."
    echo "module shoal.dev/tools/k8s"; echo
    echo "go $kgo"; echo
    [ -n "$kgodebug" ] && { echo "godebug $kgodebug"; echo; }
    echo "replace ("
    # shellcheck disable=SC2013  # module paths have no spaces
    for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$kmod"); do
      printf '\t%s => %s %s\n' "$m" "$m" "$S"
    done
    echo ")"
  } >"$d/go.mod"
  rm -f "$d/go.sum"
  (cd "$d" && GOFLAGS=-mod=mod "$GO" get "k8s.io/kubernetes@$K" \
     && GOFLAGS=-mod=mod "$GO" get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K" "k8s.io/kubernetes/cmd/kubectl@$K")

  # go 1.21 here: `go get` raises it to what the tool's module needs (no newer GODEBUG defaults)
  d=$ROOT/tools/etcd; mkdir -p "$d"
  printf '// Wrapper module: pins etcd. Generated by scripts/k8s-tools.sh pin.\nmodule shoal.dev/tools/etcd\n\ngo 1.21\n' >"$d/go.mod"; rm -f "$d/go.sum"
  (cd "$d" && GOFLAGS=-mod=mod "$GO" get -tool "go.etcd.io/etcd/server/v3@$E")

  d=$ROOT/tools/helm; mkdir -p "$d"
  printf '// Wrapper module: pins helm. Generated by scripts/k8s-tools.sh pin.\nmodule shoal.dev/tools/helm\n\ngo 1.21\n' >"$d/go.mod"; rm -f "$d/go.sum"
  (cd "$d" && GOFLAGS=-mod=mod "$GO" get -tool "helm.sh/helm/v3/cmd/helm@$H")
  for d in k8s etcd helm; do (cd "$ROOT/tools/$d" && GOFLAGS=-mod=mod "$GO" mod tidy); done
  log "done; commit tools/*/go.mod and go.sum"
}

main() {
  [ $# -gt 0 ] || set -- all
  local t
  for t in "$@"; do
    case $t in
      all)  tool etcd; tool kube-apiserver; tool kubectl; tool helm ;;
      pin)  pin ;;
      -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
      *)    tool "$t" ;;
    esac
  done
}
main "$@"
