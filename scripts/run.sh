#!/usr/bin/env bash
# README command 1: set the machine up, build the binary, run the appliance in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bun run build

export STAXA_DATA_DIR=${STAXA_DATA_DIR:-/var/lib/staxa}
export STAXA_BASE_DOMAIN=${STAXA_BASE_DOMAIN:-staxa.localhost}
export STAXA_MANAGE_CADDY=auto
mkdir -p "$STAXA_DATA_DIR"

cat >&2 <<MSG
staxa: data in $STAXA_DATA_DIR, tenants under *.$STAXA_BASE_DOMAIN, API on :${STAXA_PORT:-8080}
staxa: create an API key in another shell with:
  STAXA_DATA_DIR=$STAXA_DATA_DIR dist/staxa admin create-key --email you@example.com
MSG
exec dist/staxa serve
