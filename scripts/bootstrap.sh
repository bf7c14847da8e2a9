#!/usr/bin/env bash
# Installs everything monk needs on this machine, idempotently: Node 24 + pnpm into .tools/, host
# components through apt, workspace dependencies, a build, a running Docker engine and the local images.
# Source it (it exports PATH) or run it. Steps: MONK_BOOTSTRAP_SKIP_BUILD=1 skips the build.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NODE_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
export PATH="$repo/.tools/bin:$PATH"
node_version=24.21.0
pnpm_version=10.34.9

log() { printf '\033[2m[bootstrap]\033[0m %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_toolchain() {
  if [ -x "$repo/.tools/bin/node" ] && [ "$("$repo/.tools/bin/node" --version)" = "v$node_version" ] \
    && [ -x "$repo/.tools/bin/pnpm" ] && [ "$("$repo/.tools/bin/pnpm" --version)" = "$pnpm_version" ]; then
    return
  fi
  log "installing node $node_version and pnpm $pnpm_version into .tools/"
  mkdir -p "$repo/.tools"
  npm install -g --no-fund --no-audit --prefix "$repo/.tools" "node@$node_version" "pnpm@$pnpm_version" >&2
}

ensure_host_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd || missing+=(busybox-static)
  command -v wg >/dev/null || missing+=(wireguard-tools)
  command -v wireguard-go >/dev/null || missing+=(wireguard-go)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v nsenter >/dev/null || missing+=(util-linux)
  # The mesh's integration tests and bench: packet capture, ping and throughput inside network namespaces.
  command -v tcpdump >/dev/null || missing+=(tcpdump)
  command -v ping >/dev/null || missing+=(iputils-ping)
  command -v iperf3 >/dev/null || missing+=(iperf3)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} through apt"
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

ensure_dependencies() {
  log "installing workspace dependencies"
  (cd "$repo" && pnpm install --frozen-lockfile --prefer-offline --reporter=silent >&2)
}

build() {
  [ "${MONK_BOOTSTRAP_SKIP_BUILD:-0}" = 1 ] && return
  log "building"
  (cd "$repo" && pnpm exec turbo run build --output-logs=errors-only >&2)
}

ensure_docker() {
  if docker version >/dev/null 2>&1; then return; fi
  log "starting dockerd"
  as_root mkdir -p /var/log
  # setsid: the engine outlives this script, as a system service would.
  as_root setsid dockerd >/var/log/monk-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    docker version >/dev/null 2>&1 && return
    sleep 0.5
  done
  log "dockerd did not answer within 60 s; see /var/log/monk-dockerd.log"
  tail -20 /var/log/monk-dockerd.log >&2 || true
  exit 1
}

ensure_images() {
  "$repo/scripts/build-images.sh"
}

ensure_toolchain
ensure_host_packages
ensure_dependencies
build
ensure_docker
ensure_images
