#!/usr/bin/env bash
# Installs (or upgrades in place) the Staxa appliance on Debian/Ubuntu, as root. One command:
#   sudo bash install.sh [--binary PATH] [--no-systemd] [--skip-docker]
#   sudo bash install.sh --uninstall [--purge]
# --binary PATH   install this staxa executable (default: ./staxa beside this script, or build the checkout)
# --no-systemd    start dockerd, caddy and staxa with nohup (containers without systemd)
# --skip-docker   do not install or start Docker (it is managed elsewhere, or absent in a test container)
# --uninstall     remove the appliance; keeps /var/lib/staxa and /etc/staxa unless --purge
# Re-running upgrades the binary and units and changes nothing else (the env file is written only once).
set -euo pipefail

PREFIX=/usr/local/bin
ETC=/etc/staxa
ENV_FILE=$ETC/staxa.env
CADDY_JSON=$ETC/caddy.json
DATA_DIR=/var/lib/staxa
UNIT_DIR=/etc/systemd/system
RUN_DIR=/run/staxa
LOG_DIR=/var/log/staxa
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

BINARY=""
NO_SYSTEMD=0
SKIP_DOCKER=0
UNINSTALL=0
PURGE=0

say() { printf 'staxa-install: %s\n' "$*"; }
die() { printf 'staxa-install: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || die "--binary needs a path"; BINARY=$2; shift ;;
    --binary=*) BINARY=${1#--binary=} ;;
    --no-systemd) NO_SYSTEMD=1 ;;
    --skip-docker) SKIP_DOCKER=1 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash install.sh)"
command -v apt-get >/dev/null 2>&1 || die "this installer supports Debian and Ubuntu (apt-get not found)"

# Installs the given packages that are missing; apt-get update at most once.
APT_UPDATED=0
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "installing ${missing[*]}"
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  # policy-rc.d keeps the packages' own services (Caddy on :80 with its Caddyfile) from starting now;
  # this script starts what it needs, configured.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; made_policy=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { [ "$made_policy" = 1 ] && rm -f "$policy"; die "apt-get install failed"; }
  if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi
}

# Copies src to dest with mode when the content differs; prints "changed" if it did.
install_file() {
  local src=$1 dest=$2 mode=$3
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then return 0; fi
  install -D -m "$mode" "$src" "$dest.staxa-new"
  mv -f "$dest.staxa-new" "$dest"
  echo changed
}

# Alive = exists and is not a zombie (a container whose PID 1 does not reap leaves zombies behind).
proc_alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
pid_alive() { [ -f "$1" ] && proc_alive "$(cat "$1")"; }

stop_pidfile() {
  local f=$1 pid
  if pid_alive "$f"; then
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do proc_alive "$pid" || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

uninstall() {
  say "removing the appliance"
  if [ -d /run/systemd/system ]; then
    systemctl disable --now staxa.service staxa-resolver.service staxa-registry.service >/dev/null 2>&1 || true
    rm -f "$UNIT_DIR/staxa.service" "$UNIT_DIR/staxa-resolver.service" "$UNIT_DIR/staxa-registry.service"
    if [ -f "$UNIT_DIR/caddy.service.d/staxa.conf" ]; then
      rm -f "$UNIT_DIR/caddy.service.d/staxa.conf"
      rmdir "$UNIT_DIR/caddy.service.d" 2>/dev/null || true
      systemctl daemon-reload
      systemctl disable --now caddy.service >/dev/null 2>&1 || true
    else
      systemctl daemon-reload
    fi
  fi
  stop_pidfile "$RUN_DIR/staxa.pid"
  stop_pidfile "$RUN_DIR/staxa-resolver.pid"
  stop_pidfile "$RUN_DIR/staxa-registry.pid"
  stop_pidfile "$RUN_DIR/caddy.pid"
  rm -f "$PREFIX/staxa"
  rm -rf /usr/local/share/doc/staxa
  if [ "$PURGE" = 1 ]; then
    say "purging $DATA_DIR, $ETC and $LOG_DIR"
    rm -rf "$DATA_DIR" "$ETC" "$LOG_DIR"
  else
    say "kept $DATA_DIR and $ETC (use --uninstall --purge to delete them)"
  fi
  say "Docker and Caddy packages are left installed"
}

if [ "$UNINSTALL" = 1 ]; then uninstall; exit 0; fi
if [ "$NO_SYSTEMD" = 0 ] && [ ! -d /run/systemd/system ]; then
  die "systemd is not running here; use --no-systemd"
fi

# 1. Packages: Caddy (routes + TLS), git (clones), iptables (tenant isolation), Docker unless skipped.
PKGS=(caddy git iptables iproute2 ca-certificates curl)
if [ "$SKIP_DOCKER" = 0 ]; then PKGS+=(docker.io jq); fi
ensure_packages "${PKGS[@]}"
# Build steps get the tenant posture (no NET_RAW, a pids limit) only through the staxa-runc runtime, dockerd's
# default from now on; a running dockerd without it is reloaded, or stopped and so started again in step 5.
if [ "$SKIP_DOCKER" = 0 ]; then
  [ -f "$HERE/scripts/build-runtime.sh" ] || die "$HERE/scripts/build-runtime.sh is missing"
  bash "$HERE/scripts/build-runtime.sh"
fi

# 2. The binary: --binary, a release's ./staxa beside this script, or a build of this checkout.
if [ -z "$BINARY" ] && [ -x "$HERE/staxa" ] && [ -f "$HERE/staxa" ]; then BINARY=$HERE/staxa; fi
if [ -z "$BINARY" ]; then
  if [ ! -f "$HERE/package.json" ] || [ ! -f "$HERE/src/main.ts" ]; then die "no binary: pass --binary PATH (or run from a checkout)"; fi
  if ! command -v bun >/dev/null 2>&1; then
    command -v npm >/dev/null 2>&1 || die "building from a checkout needs bun (or npm to install it); or pass --binary PATH"
    say "installing bun from npm"
    npm install -g --silent bun@1.4.5
  fi
  say "building the binary from $HERE"
  (cd "$HERE" && { bun install --frozen-lockfile >/dev/null 2>&1 || bun install >/dev/null; } && bun run build >/dev/null)
  BINARY=$HERE/dist/staxa
fi
[ -f "$BINARY" ] || die "binary $BINARY does not exist"
"$BINARY" version >/dev/null 2>&1 || die "$BINARY does not run (wrong architecture?)"
BIN_CHANGED=$(install_file "$BINARY" "$PREFIX/staxa" 0755)
if [ -f "$HERE/README.md" ]; then install_file "$HERE/README.md" /usr/local/share/doc/staxa/README.md 0644 >/dev/null; fi

# 3. Settings: written once, with generated secrets; never rewritten (a re-run keeps your edits).
install -d -m 0755 "$ETC"
if [ ! -f "$ENV_FILE" ]; then
  PUBLIC_IP=$(ip -4 route get 1.1.1.1 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "src") { print $(i + 1); exit }}' || true)
  secret() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40; }
  umask 077
  cat >"$ENV_FILE.staxa-new" <<ENV
# Staxa settings (see \`staxa --help\` for all of them). Written once by install.sh; edit freely.
STAXA_DATA_DIR=$DATA_DIR
STAXA_PORT=8080
STAXA_BASE_DOMAIN=staxa.localhost
STAXA_PUBLIC_IP=${PUBLIC_IP:-127.0.0.1}
STAXA_CADDY_ADMIN_URL=http://127.0.0.1:2019
STAXA_MANAGE_CADDY=0
STAXA_ACME_EMAIL=
STAXA_METRICS_TOKEN=$(secret)
STAXA_GITHUB_WEBHOOK_SECRET=$(secret)
STAXA_BACKUP_CRON=0 3 * * *
STAXA_BACKUP_KEEP=7
# Tenant networks get subnets of this pool, never Docker's default pools (they hold ~30 networks). Choose a private
# range nothing on your network uses; blocks a host route overlaps are skipped. /27: 29 containers per tenant.
STAXA_TENANT_SUBNET_POOL=10.224.0.0/12
STAXA_TENANT_SUBNET_PREFIX=27
ENV
  chmod 600 "$ENV_FILE.staxa-new"
  mv "$ENV_FILE.staxa-new" "$ENV_FILE"
  umask 022
  say "wrote $ENV_FILE (set STAXA_BASE_DOMAIN and STAXA_ACME_EMAIL there)"
fi
install -d -m 0700 "$DATA_DIR"
install -d -m 0755 "$LOG_DIR"

# 4. Caddy's base: admin API on loopback only; the appliance pushes everything else.
CADDY_TMP=$(mktemp)
printf '{"admin":{"listen":"127.0.0.1:2019"}}\n' >"$CADDY_TMP"
CADDY_CHANGED=$(install_file "$CADDY_TMP" "$CADDY_JSON" 0644)
rm -f "$CADDY_TMP"

env_value() { sed -n "s/^$1=//p" "$ENV_FILE" | tail -n1; }
PORT=$(env_value STAXA_PORT); PORT=${PORT:-8080}
STAXA_DATA=$(env_value STAXA_DATA_DIR); STAXA_DATA=${STAXA_DATA:-$DATA_DIR}
# The cluster registry (swarm engine, STAXA_CLUSTER_REGISTRY_ADDR set): `staxa registry` runs Debian's docker-registry;
# the package's own service (an open registry on :5000) stays off.
REGISTRY_ADDR=$(env_value STAXA_CLUSTER_REGISTRY_ADDR)
if [ -n "$REGISTRY_ADDR" ]; then
  ensure_packages docker-registry
  if [ -d /run/systemd/system ]; then systemctl disable --now docker-registry.service >/dev/null 2>&1 || true; fi
fi

# 5. Services.
if [ "$NO_SYSTEMD" = 0 ]; then
  UNIT_CHANGED=$(install_file "$HERE/systemd/staxa.service" "$UNIT_DIR/staxa.service" 0644)
  # The route resolver: Caddy asks it where each host goes; it keeps serving while staxa.service is down.
  RESOLVER_UNIT_CHANGED=$(install_file "$HERE/systemd/staxa-resolver.service" "$UNIT_DIR/staxa-resolver.service" 0644)
  REGISTRY_UNIT_CHANGED=$(install_file "$HERE/systemd/staxa-registry.service" "$UNIT_DIR/staxa-registry.service" 0644)
  DROPIN_CHANGED=$(install_file "$HERE/systemd/caddy-staxa.conf" "$UNIT_DIR/caddy.service.d/staxa.conf" 0644)
  if [ -n "$UNIT_CHANGED$RESOLVER_UNIT_CHANGED$REGISTRY_UNIT_CHANGED$DROPIN_CHANGED" ]; then systemctl daemon-reload; fi
  if [ "$SKIP_DOCKER" = 0 ]; then systemctl enable --now docker.service >/dev/null; fi
  systemctl enable caddy.service staxa-resolver.service staxa.service >/dev/null 2>&1
  if [ -n "$BIN_CHANGED$RESOLVER_UNIT_CHANGED" ]; then systemctl restart staxa-resolver.service; else systemctl start staxa-resolver.service; fi
  if [ -n "$REGISTRY_ADDR" ]; then
    systemctl enable staxa-registry.service >/dev/null 2>&1
    if [ -n "$BIN_CHANGED$REGISTRY_UNIT_CHANGED" ]; then systemctl restart staxa-registry.service; else systemctl start staxa-registry.service; fi
  else
    systemctl disable --now staxa-registry.service >/dev/null 2>&1 || true
  fi
  if [ -n "$DROPIN_CHANGED$CADDY_CHANGED" ]; then systemctl restart caddy.service; else systemctl start caddy.service; fi
  if [ -n "$BIN_CHANGED$UNIT_CHANGED" ]; then systemctl restart staxa.service; else systemctl start staxa.service; fi
else
  install -d -m 0755 "$RUN_DIR"
  if [ "$SKIP_DOCKER" = 0 ] && ! docker info >/dev/null 2>&1 && ! pid_alive "$RUN_DIR/dockerd.pid"; then
    say "starting dockerd"
    nohup dockerd >>"$LOG_DIR/dockerd.log" 2>&1 </dev/null &
    echo $! >"$RUN_DIR/dockerd.pid"
  fi
  if [ -n "$CADDY_CHANGED" ]; then stop_pidfile "$RUN_DIR/caddy.pid"; fi
  if ! pid_alive "$RUN_DIR/caddy.pid"; then
    say "starting caddy (admin on 127.0.0.1:2019)"
    nohup caddy run --resume --config "$CADDY_JSON" >>"$LOG_DIR/caddy.log" 2>&1 </dev/null &
    echo $! >"$RUN_DIR/caddy.pid"
  fi
  if [ -n "$BIN_CHANGED" ]; then stop_pidfile "$RUN_DIR/staxa-resolver.pid"; fi
  if ! pid_alive "$RUN_DIR/staxa-resolver.pid"; then
    say "starting the staxa route resolver"
    (
      while IFS= read -r line; do
        case "$line" in ''|'#'*) continue ;; esac
        export "${line%%=*}=${line#*=}"
      done <"$ENV_FILE"
      exec nohup "$PREFIX/staxa" resolver >>"$LOG_DIR/staxa-resolver.log" 2>&1 </dev/null
    ) &
    echo $! >"$RUN_DIR/staxa-resolver.pid"
  fi
  if [ -n "$BIN_CHANGED" ] || [ -z "$REGISTRY_ADDR" ]; then stop_pidfile "$RUN_DIR/staxa-registry.pid"; fi
  if [ -n "$REGISTRY_ADDR" ] && ! pid_alive "$RUN_DIR/staxa-registry.pid"; then
    say "starting the staxa cluster registry on $REGISTRY_ADDR"
    (
      while IFS= read -r line; do
        case "$line" in ''|'#'*) continue ;; esac
        export "${line%%=*}=${line#*=}"
      done <"$ENV_FILE"
      exec nohup "$PREFIX/staxa" registry >>"$LOG_DIR/staxa-registry.log" 2>&1 </dev/null
    ) &
    echo $! >"$RUN_DIR/staxa-registry.pid"
  fi
  if [ -n "$BIN_CHANGED" ]; then stop_pidfile "$RUN_DIR/staxa.pid"; fi
  if ! pid_alive "$RUN_DIR/staxa.pid"; then
    say "starting staxa"
    # The env file holds plain KEY=value lines written above (values may contain spaces, e.g. the cron).
    (
      while IFS= read -r line; do
        case "$line" in ''|'#'*) continue ;; esac
        export "${line%%=*}=${line#*=}"
      done <"$ENV_FILE"
      exec nohup "$PREFIX/staxa" serve >>"$LOG_DIR/staxa.log" 2>&1 </dev/null
    ) &
    echo $! >"$RUN_DIR/staxa.pid"
  fi
fi

# 6. Wait for the appliance, then tell the operator where it is and how to claim it.
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 || die "staxa did not answer on :$PORT within 60 s (see journalctl -u staxa or $LOG_DIR/staxa.log)"

HOST_IP=$(env_value STAXA_PUBLIC_IP)
say "staxa $("$PREFIX/staxa" version | awk '{print $2}') is up"
say "dashboard: http://${HOST_IP:-127.0.0.1}:$PORT/"
if [ -f "$STAXA_DATA/setup-token" ]; then
  say "first admin's one-time setup token: $(cat "$STAXA_DATA/setup-token")"
else
  say "an admin already exists (no setup token)"
fi
POOL=$(env_value STAXA_TENANT_SUBNET_POOL); POOL=${POOL:-10.224.0.0/12}
say "tenant networks get subnets of $POOL (STAXA_TENANT_SUBNET_POOL in $ENV_FILE)"
# A host route inside the pool (a VPN, a second interface) would be shadowed by a tenant bridge: its blocks are skipped.
OVERLAP=$({ ip -4 -o route show table all root "$POOL"; ip -4 -o route show table all match "$POOL"; } 2>/dev/null | grep -Ev '^(default|local|broadcast) | dev (br-|docker0)' | head -3 || true)
[ -z "$OVERLAP" ] || say "warning: host routes overlap $POOL; the appliance skips their blocks: $OVERLAP"
say "an API key for scripts: sudo STAXA_DATA_DIR=$STAXA_DATA staxa admin create-key --email you@example.com"
