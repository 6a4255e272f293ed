#!/usr/bin/env bash
# Puts Compose v2 (the `docker compose` CLI plugin) in a private plugin folder, from Debian's
# archive, so that docker/compose-lab.ns.test.ts can run the lab with Compose v2 as well as with
# Debian 12's docker-compose 1.29 (v1). Debian 12 packages no Compose v2 and this machine reaches
# no registry but Debian's and npm's; Debian 13 (trixie) packages Compose v2 as `docker-compose`
# (a Go program needing only libc6 >= 2.34, which Debian 12 has). Installing that package would
# replace v1, so the plugin is unpacked into a folder of its own and used through DOCKER_CONFIG:
#
#   DOCKER_CONFIG=/var/cache/netaccel/compose-v2 docker compose version
#
# Nothing else on the host changes. What is downloaded is checked the way apt checks it: the
# suite's InRelease against Debian's archive keys (debian-archive-keyring, with gpgv), the
# Packages index against the InRelease's SHA-256, the .deb against the index's SHA-256.
# Idempotent: a plugin that answers `docker compose version` is kept.
#
#   docker/compose-v2/fetch.sh                 prints the folder to use as DOCKER_CONFIG
#   NETACCEL_COMPOSE_V2_DIR=<dir> ...          another folder
#   NETACCEL_DEBIAN_MIRROR=<url> ...           another Debian mirror (default deb.debian.org)
set -euo pipefail
DIR=${NETACCEL_COMPOSE_V2_DIR:-/var/cache/netaccel/compose-v2}
MIRROR=${NETACCEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
say() { printf 'compose-v2: %s\n' "$*" >&2; }
die() { printf 'compose-v2: error: %s\n' "$*" >&2; exit 1; }

plugin="$DIR/cli-plugins/docker-compose"
if [ -x "$plugin" ] && DOCKER_CONFIG="$DIR" docker compose version >/dev/null 2>&1; then
  echo "$DIR"
  exit 0
fi
for tool in curl gpgv xz dpkg-deb sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is needed (scripts/setup.sh installs it)"
done
arch=$(dpkg --print-architecture)
tmp=$(mktemp -d /tmp/netaccel-compose-v2.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
get() { curl -fsS --retry 3 --max-time 300 -o "$2" "$MIRROR/$1" || die "cannot download $MIRROR/$1"; }

# 1. The suite's InRelease, signed by Debian's archive keys (debian-archive-keyring ships them)
get "dists/$SUITE/InRelease" "$tmp/InRelease"
keyrings=()
for k in /usr/share/keyrings/debian-archive-keyring.gpg /usr/share/keyrings/debian-archive-"$SUITE"-*.gpg; do
  [ -r "$k" ] && keyrings+=(--keyring "$k")
done
[ ${#keyrings[@]} -gt 0 ] || die "no Debian archive keyring in /usr/share/keyrings (package debian-archive-keyring)"
gpgv --quiet "${keyrings[@]}" --output "$tmp/Release" "$tmp/InRelease" 2>"$tmp/gpgv.log" \
  || die "$SUITE's InRelease does not verify against Debian's archive keys: $(tr '\n' ' ' <"$tmp/gpgv.log")"

# 2. The Packages index, checked against the Release's SHA-256 list
index="main/binary-$arch/Packages.xz"
want=$(awk -v f="$index" '/^SHA256:/ { in256 = 1; next } /^[A-Za-z]/ { in256 = 0 } in256 && $3 == f { print $1 }' "$tmp/Release")
[ -n "$want" ] || die "$SUITE's Release lists no $index"
get "dists/$SUITE/$index" "$tmp/Packages.xz"
[ "$(sha256sum "$tmp/Packages.xz" | cut -d' ' -f1)" = "$want" ] || die "$index: SHA-256 differs from the signed Release"

# 3. The docker-compose package, checked against the index
xz -dc "$tmp/Packages.xz" | awk -v RS= '/(^|\n)Package: docker-compose\n/' >"$tmp/stanza"
field() { sed -n "s/^$1: //p" "$tmp/stanza" | head -n1; }
version=$(field Version); file=$(field Filename); sum=$(field SHA256)
[ -n "$file" ] && [ -n "$sum" ] || die "$SUITE has no docker-compose package for $arch"
say "Debian $SUITE's docker-compose $version ($file)"
get "$file" "$tmp/compose.deb"
[ "$(sha256sum "$tmp/compose.deb" | cut -d' ' -f1)" = "$sum" ] || die "$file: SHA-256 differs from the signed index"
dpkg-deb -x "$tmp/compose.deb" "$tmp/root"
[ -x "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" ] || die "$file holds no usr/libexec/docker/cli-plugins/docker-compose"

mkdir -p "$DIR/cli-plugins"
install -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" "$plugin.new"
mv -f "$plugin.new" "$plugin"
DOCKER_CONFIG="$DIR" docker compose version >&2 || die "the plugin in $DIR does not answer docker compose version"
echo "$DIR"
