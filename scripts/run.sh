#!/usr/bin/env bash
# README command 1: set the machine up, build the binary, run the appliance in the foreground.
# Prints the dashboard URL; on the first run the appliance prints the one-time setup token right after.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bun run build

export STAXA_DATA_DIR=${STAXA_DATA_DIR:-/var/lib/staxa}
export STAXA_BASE_DOMAIN=${STAXA_BASE_DOMAIN:-staxa.localhost}
export STAXA_MANAGE_CADDY=auto
mkdir -p "$STAXA_DATA_DIR"
PORT=${STAXA_PORT:-8080}

cat >&2 <<MSG

staxa: dashboard  http://localhost:$PORT/   (first run: create the admin account there with the setup token below)
staxa: API        http://localhost:$PORT/api/v1   tenants at https://<name>.$STAXA_BASE_DOMAIN (Caddy's internal CA
       for a .localhost or IP base domain: README "Quick start" says how to trust it); data in $STAXA_DATA_DIR
staxa: an API key, from another shell in this directory:
         STAXA_DATA_DIR=$STAXA_DATA_DIR dist/staxa admin create-key --email you@example.com

MSG
exec dist/staxa serve
