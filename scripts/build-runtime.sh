#!/usr/bin/env bash
# Makes the Docker engine run build steps under the tenant posture: installs the staxa-runc OCI runtime wrapper
# (no CAP_NET_RAW, a pids limit for containers in Staxa's build cgroup) and makes it dockerd's default runtime in
# /etc/docker/daemon.json (the classic builder always uses the default runtime). A running dockerd without it is
# reloaded (SIGHUP: running containers are untouched); one that still lacks it after that is stopped, and the
# caller (setup.sh, install.sh) starts it again as it always does. Idempotent; needs root and jq.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WRAPPER=/usr/local/lib/staxa/staxa-runc
DAEMON_JSON=/etc/docker/daemon.json
RUNTIME=staxa-runc

log() { printf 'build-runtime: %s\n' "$*" >&2; }

if ! cmp -s "$HERE/staxa-runc" "$WRAPPER" 2>/dev/null; then
  install -D -m 0755 "$HERE/staxa-runc" "$WRAPPER.new"
  mv -f "$WRAPPER.new" "$WRAPPER"
  log "installed $WRAPPER"
fi

# Merge into the operator's daemon.json (their other settings stay); write only when something changes.
want=$(jq -n --arg p "$WRAPPER" --arg r "$RUNTIME" '{runtimes: {($r): {path: $p}}, "default-runtime": $r}')
current='{}'
if [ -s "$DAEMON_JSON" ]; then current=$(cat "$DAEMON_JSON"); fi
merged=$(jq --argjson w "$want" '. * $w' <<<"$current")
if [ "$(jq -S . <<<"$current")" != "$(jq -S . <<<"$merged")" ]; then
  install -d -m 0755 "$(dirname "$DAEMON_JSON")"
  printf '%s\n' "$merged" >"$DAEMON_JSON.new"
  mv -f "$DAEMON_JSON.new" "$DAEMON_JSON"
  log "set default-runtime $RUNTIME in $DAEMON_JSON"
fi

default_runtime() { docker info --format '{{.DefaultRuntime}}' 2>/dev/null || true; }
docker info >/dev/null 2>&1 || exit 0 # not running: it reads daemon.json when the caller starts it
[ "$(default_runtime)" = "$RUNTIME" ] && exit 0

systemd_running() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
pid=$(pgrep -x dockerd | head -n1 || true)
log "dockerd runs without $RUNTIME: reloading its configuration"
if systemd_running && systemctl is-active --quiet docker.service; then
  systemctl reload docker.service
elif [ -n "$pid" ]; then
  kill -HUP "$pid"
fi
for _ in $(seq 1 20); do
  [ "$(default_runtime)" = "$RUNTIME" ] && exit 0
  sleep 0.5
done

log "the reload did not take; stopping dockerd so that it starts with $DAEMON_JSON"
if systemd_running && systemctl is-active --quiet docker.service; then
  systemctl stop docker.service
elif [ -n "$pid" ]; then
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
fi
