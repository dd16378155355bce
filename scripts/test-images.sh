#!/usr/bin/env bash
# Builds the local e2e test images FROM scratch out of host binaries (nothing can be pulled here):
#   staxa-test/busybox:latest  static busybox, a non-root user `app` (10001)
#   staxa-test/node:20         the host's node + npm + corepack with their libraries and CA bundle, busybox as /bin/sh
# Idempotent: exits at once when both images exist with the current VERSION. `--force` rebuilds.
set -euo pipefail

# Bump when the image contents change, so existing machines rebuild.
VERSION=4
BUSYBOX_IMAGE=staxa-test/busybox:latest
NODE_IMAGE=staxa-test/node:20
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf 'test-images: %s\n' "$*" >&2; }

current() {
  [[ "$FORCE" == 0 ]] &&
    [[ "$(docker image inspect -f '{{index .Config.Labels "staxa.test-image.version"}}' "$1" 2>/dev/null)" == "$VERSION" ]]
}

if current "$BUSYBOX_IMAGE" && current "$NODE_IMAGE"; then
  exit 0
fi

docker info >/dev/null 2>&1 || { log "Docker engine unreachable"; exit 1; }

# A statically linked busybox runs in an image with no libc at all.
busybox_bin() {
  local b
  for b in /bin/busybox /usr/bin/busybox; do
    if [[ -x "$b" ]] && ! ldd "$b" >/dev/null 2>&1; then
      echo "$b"
      return
    fi
  done
  log "installing busybox-static"
  DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >/dev/null
  echo /bin/busybox
}

WORK="$(mktemp -d /tmp/staxa-test-images.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
BUSYBOX="$(busybox_bin)"

# $1 rootfs: busybox in /bin with every applet linked beside it, /usr/bin/env for shebangs.
add_busybox() {
  local root="$1" applet
  mkdir -p "$root/bin" "$root/usr/bin"
  cp "$BUSYBOX" "$root/bin/busybox"
  while read -r applet; do
    [[ -z "$applet" || "$applet" == busybox ]] && continue
    ln -sf busybox "$root/bin/$applet"
  done < <("$BUSYBOX" --list)
  ln -sf /bin/busybox "$root/usr/bin/env"
}

# $1 rootfs, then "name:uid:home" entries: /etc/passwd and /etc/group, homes owned by their user.
add_users() {
  local root="$1" entry name uid home
  shift
  mkdir -p "$root/etc" "$root/root" "$root/tmp"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  for entry in "$@"; do
    IFS=: read -r name uid home <<<"$entry"
    printf '%s:x:%s:%s:%s:%s:/bin/sh\n' "$name" "$uid" "$uid" "$name" "$home" >>"$root/etc/passwd"
    printf '%s:x:%s:\n' "$name" "$uid" >>"$root/etc/group"
    mkdir -p "$root$home"
    chown "$uid:$uid" "$root$home"
  done
  printf 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >>"$root/etc/passwd"
  printf 'nogroup:x:65534:\n' >>"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
}

# $1 image, $2 rootfs dir, $3 Dockerfile tail (after FROM/ADD). ADD of a tar keeps links, modes and owners.
build_image() {
  local image="$1" root="$2" tail="$3" ctx previous
  ctx="$(dirname "$root")"
  tar -C "$root" --numeric-owner -cf "$ctx/rootfs.tar" .
  printf 'FROM scratch\nADD rootfs.tar /\nLABEL staxa.test-image=1 staxa.test-image.version=%s\n%s\n' "$VERSION" "$tail" >"$ctx/Dockerfile"
  log "building $image"
  previous="$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
  docker build -q -t "$image" "$ctx" >/dev/null
  # An older version left untagged would pile up on every VERSION bump; one still used by a container stays.
  if [[ -n "$previous" && "$previous" != "$(docker image inspect -f '{{.Id}}' "$image")" ]]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
  fi
}

build_busybox() {
  local root="$WORK/busybox/rootfs"
  mkdir -p "$root/www"
  add_busybox "$root"
  add_users "$root" app:10001:/home/app
  build_image "$BUSYBOX_IMAGE" "$root" 'ENV PATH=/bin:/usr/bin
CMD ["sh"]'
  # Debian's busybox 1.35 wget segfaults on -T: tests wrap it in `timeout N wget` instead.
  docker run --rm "$BUSYBOX_IMAGE" sh -c 'id app && timeout 2 wget -qO- http://localhost:1/ 2>&1 | grep -q refused' >/dev/null
}

# Copies host file $1 into rootfs $2 at the same path, resolving links (ldd prints symlink names).
copy_host_file() {
  mkdir -p "$2$(dirname "$1")"
  cp -L "$1" "$2$1"
}

# The host's corepack (Debian's and NodeSource's nodejs ship it), else the npm package of that name from the registry.
host_corepack() {
  local dir=/usr/lib/node_modules/corepack
  if [[ ! -f "$dir/dist/corepack.js" ]]; then
    log "installing corepack from the npm registry"
    npm install --silent --no-save --prefix "$WORK/corepack" corepack >/dev/null
    dir="$WORK/corepack/node_modules/corepack"
  fi
  echo "$dir"
}

build_node() {
  local root="$WORK/node/rootfs" node npm_dir corepack_dir lib registry
  node="$(readlink -f "$(command -v node)")"
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  corepack_dir="$(host_corepack)"
  add_busybox "$root"
  add_users "$root" node:1000:/home/node app:10001:/home/app
  mkdir -p "$root/app" "$root/usr/local/bin" "$root/usr/lib/node_modules" "$root/usr/etc"
  chown 1000:1000 "$root/app"
  cp "$node" "$root/usr/bin/node"
  # Every library node links against, plus the dynamic loader (the "/lib64/ld-linux…" line).
  while read -r lib; do
    copy_host_file "$lib" "$root"
  done < <(ldd "$node" | grep -oE '/[^ ]+' | sort -u)
  cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
  printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/node_modules/npm/bin/npm-cli.js "$@"\n' >"$root/usr/bin/npm"
  printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/node_modules/npm/bin/npx-cli.js "$@"\n' >"$root/usr/bin/npx"
  # corepack, as node:20 has it: generated Dockerfiles run yarn and pnpm through it.
  cp -a "$corepack_dir" "$root/usr/lib/node_modules/corepack"
  printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/node_modules/corepack/dist/corepack.js "$@"\n' >"$root/usr/bin/corepack"
  chmod 755 "$root/usr/bin/npm" "$root/usr/bin/npx" "$root/usr/bin/corepack"
  copy_host_file /etc/ssl/certs/ca-certificates.crt "$root"
  # The registry the host uses (a mirror, when configured), never the host's tokens.
  registry="$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)"
  printf 'registry=%s\ncafile=/etc/ssl/certs/ca-certificates.crt\nfund=false\naudit=false\nupdate-notifier=false\n' "$registry" >"$root/usr/etc/npmrc"
  # corepack fetches yarn and pnpm from that registry too. COREPACK_INTEGRITY_KEYS=0: the registry reachable here serves
  # no package signatures, which corepack otherwise requires (the tarball's sha512 is still checked against its metadata).
  build_image "$NODE_IMAGE" "$root" "ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt NPM_CONFIG_GLOBALCONFIG=/usr/etc/npmrc COREPACK_NPM_REGISTRY=${registry%/} COREPACK_INTEGRITY_KEYS=0
WORKDIR /app
CMD [\"node\"]"
  docker run --rm "$NODE_IMAGE" node -e 'process.exit(require("https") ? 0 : 1)' >/dev/null
  docker run --rm "$NODE_IMAGE" npm --version >/dev/null
  docker run --rm "$NODE_IMAGE" corepack --version >/dev/null
}

current "$BUSYBOX_IMAGE" || build_busybox
current "$NODE_IMAGE" || build_node
log "ready: $BUSYBOX_IMAGE $NODE_IMAGE"
