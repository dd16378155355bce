#!/usr/bin/env bash
# Builds local stand-ins for the official base and service images the template catalog needs (nothing can be pulled here):
#   staxa-test/node-full:20   staxa-test/node:20 plus the host's whole glibc (librt, libresolv, nss…): native addons such as
#                             rollup's (Vite) load libraries node itself does not, and node:20-slim has them all
#   staxa-test/bun:1          the host's bun binary with its libraries and CA bundle, on staxa-test/busybox
#   staxa-test/caddy:2        the host's caddy on staxa-test/busybox: serves generated static/SPA images (caddy:2-alpine)
#   staxa-test/go-runtime:1   FROM scratch: CA bundle, /etc/passwd, /tmp (gcr.io/distroless/static-debian12)
#   staxa-test/python:3       Debian 12 python3 + pip + FastAPI/uvicorn/Flask/Django/gunicorn; pip accepts already-satisfied
#                             requirements offline (no PyPI here)
#   staxa-test/go:1           Debian 12 golang-go, GOPROXY=off (no module proxy is reachable)
#   staxa-test/postgres:15    Debian 12 PostgreSQL with an entrypoint like the official image's (initdb, POSTGRES_* env)
#   staxa-test/redis:7        Debian 12 redis-server on /data, protected mode off whatever the command (the official
#                             image is built so), reachable from the tenant's other containers
# Needs scripts/test-images.sh's busybox image and staxa-test/debian:12 (imported from the install test's cached
# debootstrap tarball, /var/cache/staxa-test/debian-12-rootfs.tar, built here the same way when missing).
# Idempotent: exits at once when every image exists with the current VERSION. `--force` rebuilds.
set -euo pipefail

# Bump when the image contents change, so existing machines rebuild.
VERSION=6
LABEL=staxa.template-image.version
BUSYBOX_IMAGE=staxa-test/busybox:latest
DEBIAN_IMAGE=staxa-test/debian:12
CACHE=/var/cache/staxa-test
ROOTFS_TAR="$CACHE/debian-12-rootfs.tar"
IMAGES=(staxa-test/node-full:20 staxa-test/bun:1 staxa-test/caddy:2 staxa-test/go-runtime:1 staxa-test/python:3 staxa-test/go:1 staxa-test/postgres:15 staxa-test/redis:7)
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf 'template-images: %s\n' "$*" >&2; }

current() {
  [[ "$FORCE" == 0 ]] &&
    [[ "$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null)" == "$VERSION" ]]
}

all_current() {
  local image
  for image in "${IMAGES[@]}"; do current "$image" || return 1; done
}

all_current && exit 0
docker info >/dev/null 2>&1 || { log "Docker engine unreachable"; exit 1; }
bash "$HERE/test-images.sh"

WORK="$(mktemp -d /tmp/staxa-template-images.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# The Debian mirror this machine's apt uses (the only one reachable here), as the install test finds it.
debian_mirror() {
  local m
  m="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -oE '(^URIs:[[:space:]]*|^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)[^[:space:]]+/debian([[:space:]]|$)' |
    grep -oE '[^[:space:]]+/debian' | head -n1 || true)"
  echo "${m:-http://deb.debian.org/debian}"
}

# staxa-test/debian:12, shared with test/e2e/install.test.ts: same cached tarball, same debootstrap.
ensure_debian() {
  docker image inspect "$DEBIAN_IMAGE" >/dev/null 2>&1 && return
  if [[ ! -f "$ROOTFS_TAR" ]]; then
    log "debootstrapping Debian 12 into $CACHE"
    mkdir -p "$CACHE"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$WORK/debian-root" "$(debian_mirror)" >/dev/null
    tar -C "$WORK/debian-root" -cf "$ROOTFS_TAR.tmp.$$" .
    mv "$ROOTFS_TAR.tmp.$$" "$ROOTFS_TAR"
    rm -rf "$WORK/debian-root"
  fi
  docker import "$ROOTFS_TAR" "$DEBIAN_IMAGE" >/dev/null
}

# $1 image, $2 context dir holding a Dockerfile. The classic builder keeps layers as the apt steps' cache.
build() {
  local image="$1" ctx="$2" previous
  printf '\nLABEL staxa.test-image=1 %s=%s\n' "$LABEL" "$VERSION" >>"$ctx/Dockerfile"
  log "building $image"
  previous="$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
  DOCKER_BUILDKIT=0 docker build -q -t "$image" "$ctx" >/dev/null
  if [[ -n "$previous" && "$previous" != "$(docker image inspect -f '{{.Id}}' "$image")" ]]; then
    docker rmi --no-prune "$previous" >/dev/null 2>&1 || true
  fi
}

# $1 image, then a command run in it: an image failing its smoke check is removed, so no later run trusts it.
verify() {
  local image="$1"
  shift
  if ! docker run --rm "$image" "$@" >/dev/null; then
    docker rmi "$image" >/dev/null 2>&1 || true
    log "$image failed its check: $*"
    exit 1
  fi
}

# Copies host binary $1 to $3 (default: same path) in rootfs $2 with every library it links and the loader.
copy_binary() {
  local bin="$1" root="$2" dest="${3:-$1}" lib
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$bin" "$root$dest"
  while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done < <(ldd "$bin" | grep -oE '/[^ ]+' | sort -u)
}

# Every shared library of the host's libc6 package into rootfs $1, as any glibc distribution image has them.
add_glibc() {
  local lib
  while read -r lib; do
    mkdir -p "$1$(dirname "$lib")"
    cp -L "$lib" "$1$lib"
  done < <(dpkg -L libc6 | grep -E '^(/usr)?/lib[^/]*/([^/]+/)?[^/]+\.so[.0-9]*$')
}

add_ca_bundle() {
  mkdir -p "$1/etc/ssl/certs"
  cp -L /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"
}

build_node_full() {
  local ctx="$WORK/node-full"
  mkdir -p "$ctx/rootfs"
  add_glibc "$ctx/rootfs"
  printf 'FROM staxa-test/node:20\nCOPY rootfs/ /\n' >"$ctx/Dockerfile"
  build staxa-test/node-full:20 "$ctx"
  verify staxa-test/node-full:20 sh -c 'ls /lib/*/librt.so.1 /usr/lib/*/librt.so.1 2>/dev/null | grep -q . && node --version'
}

build_bun() {
  local ctx="$WORK/bun" registry
  mkdir -p "$ctx/rootfs/usr/local/bin"
  copy_binary "$(readlink -f "$(command -v bun)")" "$ctx/rootfs" /usr/local/bin/bun
  add_glibc "$ctx/rootfs"
  ln -s bun "$ctx/rootfs/usr/local/bin/bunx"
  add_ca_bundle "$ctx/rootfs"
  # The registry the host uses (a mirror, when configured), never the host's tokens.
  registry="$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)"
  cat >"$ctx/Dockerfile" <<EOF
FROM $BUSYBOX_IMAGE
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin BUN_CONFIG_REGISTRY=$registry NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
WORKDIR /home/bun/app
CMD ["bun"]
EOF
  build staxa-test/bun:1 "$ctx"
  verify staxa-test/bun:1 bun --version
}

build_caddy() {
  local ctx="$WORK/caddy"
  mkdir -p "$ctx/rootfs/etc/caddy" "$ctx/rootfs/srv"
  copy_binary "$(readlink -f "$(command -v caddy)")" "$ctx/rootfs" /usr/bin/caddy
  printf ':80 {\n\troot * /srv\n\tfile_server\n}\n' >"$ctx/rootfs/etc/caddy/Caddyfile"
  cat >"$ctx/Dockerfile" <<EOF
FROM $BUSYBOX_IMAGE
COPY rootfs/ /
ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data
EXPOSE 80
WORKDIR /srv
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
EOF
  build staxa-test/caddy:2 "$ctx"
  verify staxa-test/caddy:2 caddy version
}

build_go_runtime() {
  local ctx="$WORK/go-runtime"
  mkdir -p "$ctx/rootfs/etc" "$ctx/rootfs/tmp"
  chmod 1777 "$ctx/rootfs/tmp"
  add_ca_bundle "$ctx/rootfs"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$ctx/rootfs/etc/group"
  printf 'FROM scratch\nCOPY rootfs/ /\nENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n' >"$ctx/Dockerfile"
  build staxa-test/go-runtime:1 "$ctx"
}

# $1 context dir, $2 shell step run before the install (or "true"), then Debian packages (no recommends).
apt_dockerfile() {
  local ctx="$1" pre="$2"
  shift 2
  mkdir -p "$ctx"
  cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN ["sh", "-c", "$pre && apt-get update -qq && apt-get install -y -qq --no-install-recommends $* >/dev/null && rm -rf /var/lib/apt/lists/*"]
EOF
}

build_python() {
  local ctx="$WORK/python"
  apt_dockerfile "$ctx" true python3 python3-pip python-is-python3 python3-fastapi python3-uvicorn python3-flask python3-django gunicorn
  # Debian marks its Python "externally managed": allow pip into it, as the official image's pip is. PIP_NO_DEPS:
  # Debian's fastapi 0.92 declares starlette<0.26 but Debian ships (and patched it for) 0.26.1; pip would go to PyPI.
  # Debian installs no uvicorn console script; pip on the official image does.
  cat >>"$ctx/Dockerfile" <<'EOF'
RUN ["sh", "-c", "printf '#!/bin/sh\\nexec python3 -m uvicorn \"$@\"\\n' >/usr/local/bin/uvicorn && chmod 755 /usr/local/bin/uvicorn"]
ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_NO_DEPS=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
CMD ["python3"]
EOF
  build staxa-test/python:3 "$ctx"
  verify staxa-test/python:3 sh -c 'printf "fastapi\nuvicorn\nflask\ndjango\ngunicorn\n" >/tmp/r.txt && pip install --no-cache-dir -r /tmp/r.txt && uvicorn --version && gunicorn --version'
}

build_go() {
  local ctx="$WORK/go"
  apt_dockerfile "$ctx" true golang-go ca-certificates
  cat >>"$ctx/Dockerfile" <<'EOF'
ENV GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
WORKDIR /go
CMD ["go", "version"]
EOF
  build staxa-test/go:1 "$ctx"
  verify staxa-test/go:1 go version
}

# The official image's basics: as root, own PGDATA and drop to postgres; initdb once with POSTGRES_USER/PASSWORD/DB;
# password (scram) auth over TCP, trust on the local socket; then postgres listening on every address.
postgres_entrypoint() {
  cat <<'EOF'
#!/bin/bash
set -euo pipefail
: "${PGDATA:=/var/lib/postgresql/data}" "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
if [[ "${1:-}" == postgres && "$(id -u)" == 0 ]]; then
  mkdir -p "$PGDATA"
  # chmod before chown: root keeps no FOWNER capability here, so it may only change modes of what it owns.
  if [[ "$(stat -c %U "$PGDATA")" != postgres ]]; then
    chmod 700 "$PGDATA"
    chown postgres:postgres "$PGDATA"
  fi
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [[ "${1:-}" == postgres && ! -s "$PGDATA/PG_VERSION" ]]; then
  if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
    echo "error: POSTGRES_PASSWORD is not set; the database would be open to anyone who reaches it" >&2
    exit 1
  fi
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k /var/run/postgresql" -w start >/dev/null
  if [[ "$POSTGRES_DB" != postgres ]]; then
    psql -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$POSTGRES_USER" -d postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi
if [[ "${1:-}" == postgres ]]; then
  shift
  exec postgres -D "$PGDATA" -c listen_addresses='*' -k /var/run/postgresql "$@"
fi
exec "$@"
EOF
}

build_postgres() {
  local ctx="$WORK/postgres"
  # As the official image: no cluster at install time, the entrypoint creates one in PGDATA on first start.
  apt_dockerfile "$ctx" "mkdir -p /etc/postgresql-common/createcluster.d && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/staxa.conf" postgresql-15
  postgres_entrypoint >"$ctx/docker-entrypoint.sh"
  cat >>"$ctx/Dockerfile" <<'EOF'
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN ["sh", "-c", "chmod 755 /usr/local/bin/docker-entrypoint.sh && mkdir -p /var/run/postgresql /var/lib/postgresql/data && chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql && chmod 2777 /var/run/postgresql"]
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PGDATA=/var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
  build staxa-test/postgres:15 "$ctx"
  verify staxa-test/postgres:15 pg_ctl --version
}

build_redis() {
  local ctx="$WORK/redis"
  apt_dockerfile "$ctx" true redis-server
  cat >>"$ctx/Dockerfile" <<'EOF'
RUN ["sh", "-c", "mkdir -p /data && chown redis:redis /data && printf '#!/bin/sh\\nexec /usr/bin/redis-server \"$@\" --protected-mode no\\n' >/usr/local/bin/redis-server && chmod 755 /usr/local/bin/redis-server"]
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no", "--dir", "/data"]
EOF
  build staxa-test/redis:7 "$ctx"
  verify staxa-test/redis:7 redis-server --version
}

current staxa-test/node-full:20 || build_node_full
current staxa-test/bun:1 || build_bun
current staxa-test/caddy:2 || build_caddy
current staxa-test/go-runtime:1 || build_go_runtime
ensure_debian
current staxa-test/python:3 || build_python
current staxa-test/go:1 || build_go
current staxa-test/postgres:15 || build_postgres
current staxa-test/redis:7 || build_redis
log "ready: ${IMAGES[*]}"
