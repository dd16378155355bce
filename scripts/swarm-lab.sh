#!/usr/bin/env bash
# A Docker Swarm lab on this machine, for humans (the e2e test starts its own): a manager and workers, each a dockerd
# in its own network namespace on the bridge stxsw<id> (10.215.<subnet>.0/24). The host's dockerd is not touched.
#   scripts/swarm-lab.sh up [id=dev] [subnet=0] [workers=2]    prints each node's address and DOCKER_HOST
#   scripts/swarm-lab.sh status [id] [subnet]                  docker node ls on the manager
#   scripts/swarm-lab.sh down [id]                             removes everything the lab made
# SWARM_LAB_IMAGES (comma-separated, default staxa-test/busybox:latest) are loaded into every node.
# Then: STAXA_ENGINE=swarm STAXA_DOCKER_SOCKET=/run/staxa-swarm-lab/<id>/n0/docker.sock staxa serve
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$HOME/.bun/bin:$PATH"
[[ "$(id -u)" == 0 ]] || { echo "swarm-lab: needs root (network namespaces, dockerd)" >&2; exit 1; }
exec bun "$HERE/../test/support/swarm-lab.ts" "$@"
