#!/usr/bin/env bash
# Idempotent machine setup (as root, Debian 12): system packages, bun, node modules, a running Docker engine.
# Works on a fresh machine and on one where everything is already there (then it changes nothing).
#   --with-browser   also install chromium (browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_BROWSER=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) WITH_BROWSER=1 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

log() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh must run as root (sudo bash scripts/setup.sh)" >&2
  exit 1
fi

# Packages: the appliance's services (docker, caddy), the test tier's real peers
# (registry, ACME, DNS, load), and debootstrap for the installer's e2e test.
PACKAGES=(docker.io caddy git busybox-static iptables iproute2 wrk pebble dnsmasq
  docker-registry shellcheck curl ca-certificates debootstrap jq)
if [ "$WITH_BROWSER" = 1 ]; then PACKAGES+=(chromium); fi

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

# apt lists count as fresh when updated within the last 6 hours.
apt_lists_fresh() {
  local newest
  newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -360 2>/dev/null | head -n1)
  [ -n "$newest" ]
}

systemd_running() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

mapfile -t MISSING < <(missing_packages)
if [ "${#MISSING[@]}" -gt 0 ]; then
  log "installing: ${MISSING[*]}"
  if ! apt_lists_fresh; then
    apt-get update -qq
  fi
  # A stale list can name files the mirror no longer has: update once more and retry.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
  fi
else
  log "system packages present"
fi

# Debian's caddy, dnsmasq and docker-registry packages start system services with their own
# configs (:80, :53, :5000). The appliance configures its own Caddy and the tests start
# their own instances, so these system-wide ones must not hold the ports.
stop_system_service() {
  local unit=$1 pattern=$2 pid
  if systemd_running; then
    if systemctl is-active --quiet "$unit" || systemctl is-enabled --quiet "$unit" 2>/dev/null; then
      log "stopping and disabling $unit"
      systemctl disable --now "$unit" >/dev/null 2>&1 || true
    fi
  fi
  # Without systemd (or if something else started it): end only the process running
  # the package's own config, never other instances.
  for pid in $(pgrep -f -- "$pattern" 2>/dev/null || true); do
    log "stopping $unit process $pid"
    kill "$pid" 2>/dev/null || true
  done
}
# (Not when install.sh made this machine a server: then caddy.service runs Staxa's own config.)
if [ ! -f /etc/systemd/system/caddy.service.d/staxa.conf ]; then
  stop_system_service caddy.service "caddy run --environ --config /etc/caddy/Caddyfile"
fi
stop_system_service dnsmasq.service "dnsmasq -x /run/dnsmasq/dnsmasq.pid"
stop_system_service docker-registry.service "docker-registry serve /etc/docker/registry/config.yml"

# bun: from the npm package when missing or not the version the lockfile and benchmarks were made
# with. Its postinstall (which places the binary) may be skipped by npm, so run it by hand and,
# failing that, link the platform binary.
BUN_VERSION=1.4.5
bun_works() { command -v bun >/dev/null 2>&1 && [ "$(bun --version 2>/dev/null)" = "$BUN_VERSION" ]; }
if ! bun_works; then
  log "installing bun $BUN_VERSION from npm"
  npm install -g --silent "bun@$BUN_VERSION"
  NPM_ROOT=$(npm root -g)
  if ! bun_works && [ -f "$NPM_ROOT/bun/install.js" ]; then
    (cd "$NPM_ROOT/bun" && node install.js) || true
  fi
  if ! bun_works; then
    # The platform packages hold the real binary: glibc before musl, the AVX2 build before baseline.
    for cand in "$NPM_ROOT"/bun/node_modules/@oven/bun-linux-x64/bin/bun "$NPM_ROOT"/@oven/bun-linux-x64/bin/bun \
      "$NPM_ROOT"/bun/node_modules/@oven/bun-linux-x64-baseline/bin/bun "$NPM_ROOT"/@oven/bun-linux-x64-baseline/bin/bun \
      "$NPM_ROOT"/bun/node_modules/@oven/bun-linux-aarch64/bin/bun "$NPM_ROOT"/@oven/bun-linux-aarch64/bin/bun; do
      if [ -f "$cand" ] && "$cand" --version >/dev/null 2>&1; then ln -sf "$cand" /usr/local/bin/bun; break; fi
    done
  fi
  if ! bun_works; then
    # Another bun earlier on PATH still answers: run on it (benchmarks may differ) rather than not at all.
    if command -v bun >/dev/null 2>&1 && bun --version >/dev/null 2>&1; then
      log "warning: bun $(bun --version) on PATH at $(command -v bun) is not $BUN_VERSION; using it"
    else
      echo "setup.sh: bun is not usable after npm install -g bun" >&2
      exit 1
    fi
  fi
fi
log "bun $(bun --version)"

# Node modules, exactly as locked; fall back to a plain install if the lockfile is stale.
if ! bun install --frozen-lockfile >/dev/null 2>&1; then
  log "frozen install failed; running bun install"
  bun install
fi

# Build steps get the tenant posture (no NET_RAW, a pids limit) only through the staxa-runc runtime: install it
# as dockerd's default; a running dockerd without it is reloaded, or stopped and so started again below.
bash scripts/build-runtime.sh

# Docker engine: start it when it does not answer.
if ! docker info >/dev/null 2>&1; then
  if systemd_running; then
    log "starting docker.service"
    systemctl enable --now docker.service >/dev/null 2>&1 || true
  fi
  if ! docker info >/dev/null 2>&1 && ! pgrep -x dockerd >/dev/null 2>&1; then
    DOCKERD_LOG=/var/log/dockerd.log
    log "starting dockerd (log: $DOCKERD_LOG)"
    nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    disown || true
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "setup.sh: the Docker engine did not answer within 60 s; see /var/log/dockerd.log" >&2
    tail -n 30 /var/log/dockerd.log >&2 2>/dev/null || true
    exit 1
  fi
fi
if [ "$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null)" != staxa-runc ]; then
  echo "setup.sh: dockerd's default runtime is not staxa-runc (see /etc/docker/daemon.json); builds would be refused" >&2
  exit 1
fi
log "docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?') ready (build runtime staxa-runc)"
