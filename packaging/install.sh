#!/usr/bin/env bash
# Installs netaccel from this checkout's build, or removes it (packaging/README.md).
#
#   packaging/install.sh install     (what `make install` runs after `make setup`)
#   packaging/install.sh uninstall   (what `make uninstall` runs)
#
# Environment:
#   DESTDIR           staging root for packagers; empty (default) installs into this system
#   PREFIX            default /usr: programs in $PREFIX/bin, the build in $PREFIX/lib/netaccel
#   SYSTEMD_UNIT_DIR  default /lib/systemd/system
#   SYSUSERS_DIR      default /usr/lib/sysusers.d
#   NODE              the node the wrappers run, default: `command -v node` (Node.js >= 20.19)
#   NPM               default npm
#
# Installs the built workspace (package manifests, libs/*/dist, apps/*/dist and the production
# node_modules from `npm ci --omit=dev`), bpf/dist (the programs' TypeScript bindings),
# bpf/build/**/*.bpf.o, one wrapper per program, the
# three systemd units, a sysusers.d entry, the example configurations (as documentation, and
# into /etc/netaccel where a file is absent: an operator's configuration is never replaced).
# Only a real install (no DESTDIR) creates the user netaccel and reloads systemd.
# Idempotent: a second run replaces the build and keeps node_modules while the manifests match.
set -euo pipefail

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
action=${1:-}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr}
SYSTEMD_UNIT_DIR=${SYSTEMD_UNIT_DIR:-/lib/systemd/system}
SYSUSERS_DIR=${SYSUSERS_DIR:-/usr/lib/sysusers.d}
NPM=${NPM:-npm}

DAEMONS=(ebpf-loader lb-controller bgp-announcer craq-scheduler sidecar-offload)
APPS=(ebpf-loader lb-controller bgp-announcer craq-scheduler sidecar-offload cli)
EXAMPLES=(ebpf-loader.yaml lb-controller.yaml bgp-announcer.yaml craq-scheduler.yaml sidecar-offload.yaml services.yaml)
USER_NAME=netaccel

for v in PREFIX SYSTEMD_UNIT_DIR SYSUSERS_DIR; do
  [[ ${!v} == /* ]] || die "$v: expected an absolute path, got '${!v}'"
done
PREFIX=${PREFIX%/}
[[ -n $PREFIX ]] || die "PREFIX: expected a directory other than /"
if [[ -n $DESTDIR ]]; then
  [[ $DESTDIR == /* ]] || DESTDIR=$PWD/$DESTDIR
  DESTDIR=${DESTDIR%/}
fi

# Paths as the installed system sees them, and where this run writes them.
bindir=$PREFIX/bin
libdir=$PREFIX/lib/netaccel
docdir=$PREFIX/share/doc/netaccel
confdir=/etc/netaccel
real_install() { [[ -z $DESTDIR ]]; }
systemd_running() { [[ -d /run/systemd/system ]]; }

# The programs of an app, from its package.json `bin`: "<name> <path inside the app>" per line.
app_bins() {
  node -e '
    const bin = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).bin ?? {};
    for (const [name, path] of Object.entries(bin)) console.log(`${name} ${path.replace(/^\.\//, "")}`);
  ' "$root/apps/$1/package.json"
}

# Text of an installed file: the units and examples name /usr paths; another PREFIX rewrites them.
with_prefix() {
  if [[ $PREFIX == /usr ]]; then cat -- "$1"; else
    sed -e "s|/usr/bin/netaccel|$bindir/netaccel|g" -e "s|/usr/lib/netaccel|$libdir|g" -e "s|/usr/share/doc/netaccel|$docdir|g" -- "$1"
  fi
}

# Writes stdin to $1 with mode $2 (atomically: a running daemon never reads half a file).
put() {
  local dest=$1 mode=$2 tmp
  mkdir -p -- "$(dirname -- "$dest")"
  tmp=$(mktemp -- "$dest.XXXXXX")
  cat > "$tmp"
  chmod "$mode" -- "$tmp"
  mv -f -- "$tmp" "$dest"
}

check_build() {
  local app name path missing=()
  for app in "${APPS[@]}"; do
    while read -r name path; do
      [[ -f $root/apps/$app/$path ]] || missing+=("apps/$app/$path")
    done < <(app_bins "$app")
  done
  for d in "$root"/libs/*/; do [[ -d $d/dist ]] || missing+=("${d#"$root"/}dist"); done
  compgen -G "$root/bpf/build/*/*.bpf.o" > /dev/null || missing+=("bpf/build/*/*.bpf.o")
  [[ -d $root/bpf/dist ]] || missing+=("bpf/dist")
  ((${#missing[@]} == 0)) || die "the build is incomplete (run make setup first): ${missing[*]}"
}

# The workspace: root and workspace manifests, the lock file, every dist, production node_modules.
install_workspace() {
  local lib=$DESTDIR$libdir ws rel stamp
  mkdir -p -- "$lib"
  install -m 0644 -- "$root/package.json" "$root/package-lock.json" "$lib/"
  for ws in "$root"/libs/* "$root"/apps/*; do
    # dist is replaced whole; a workspace's own node_modules (npm ci's) stays.
    rel=${ws#"$root"/}
    rm -rf -- "${lib:?}/$rel/dist"
    mkdir -p -- "$lib/$rel"
    install -m 0644 -- "$ws/package.json" "$lib/$rel/"
    if [[ -d $ws/dist ]]; then cp -R -- "$ws/dist" "$lib/$rel/dist"; fi
  done
  # The bpf workspace: its manifest (npm ci needs every workspace of the lock file), its
  # TypeScript bindings (dist: lb-controller imports @netaccel/bpf-programs/xlb) and the
  # objects, subdirectories kept: this is ebpf-loader's installed objectDir.
  find "$lib/bpf" -name '*.bpf.o' -type f -delete 2> /dev/null || true
  rm -rf -- "${lib:?}/bpf/dist"
  mkdir -p -- "$lib/bpf"
  install -m 0644 -- "$root/bpf/package.json" "$lib/bpf/"
  cp -R -- "$root/bpf/dist" "$lib/bpf/dist"
  (cd -- "$root/bpf/build" && find . -name '*.bpf.o' -type f) | while read -r rel; do
    install -D -m 0644 -- "$root/bpf/build/$rel" "$lib/bpf/${rel#./}"
  done
  stamp=$( (cd -- "$lib" && sha256sum package-lock.json package.json bpf/package.json libs/*/package.json apps/*/package.json) | sha256sum | cut -d' ' -f1)
  if [[ -d $lib/node_modules && $(cat -- "$lib/node_modules/.netaccel-stamp" 2> /dev/null) == "$stamp" ]]; then
    say "node_modules: manifests unchanged, kept"
  else
    say "node_modules: npm ci --omit=dev in $lib"
    (cd -- "$lib" && "$NPM" ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$stamp" > "$lib/node_modules/.netaccel-stamp"
  fi
}

install_wrappers() {
  local app name path
  for app in "${APPS[@]}"; do
    while read -r name path; do
      # The build lies at ../lib/netaccel from the wrapper, so a staged tree (DESTDIR) runs too.
      put "$DESTDIR$bindir/$name" 0755 <<EOF
#!/bin/sh
# $name: netaccel's $app, installed by packaging/install.sh.
here=\$(dirname -- "\$(readlink -f -- "\$0")")
exec "$NODE" "\$here/../lib/netaccel/apps/$app/$path" "\$@"
EOF
    done < <(app_bins "$app")
  done
}

install_units_and_docs() {
  local d f
  for d in "${DAEMONS[@]}"; do
    with_prefix "$root/apps/$d/$d.service" | put "$DESTDIR$SYSTEMD_UNIT_DIR/$d.service" 0644
  done
  put "$DESTDIR$SYSUSERS_DIR/netaccel.conf" 0644 < "$root/packaging/sysusers.d/netaccel.conf"
  put "$DESTDIR$docdir/README.md" 0644 < "$root/packaging/README.md"
  for f in "${EXAMPLES[@]}"; do
    with_prefix "$root/packaging/examples/$f" | put "$DESTDIR$docdir/examples/$f" 0644
  done
}

# /etc/netaccel: 0750, files 0640 (bgp-announcer.yaml may hold TCP MD5 passwords); group
# netaccel on a real install, so that lb-controller and bgp-announcer can read theirs.
install_configs() {
  local dir=$DESTDIR$confdir f group=
  if real_install && getent group "$USER_NAME" > /dev/null; then group=$USER_NAME; fi
  if [[ ! -d $dir ]]; then
    mkdir -p -- "$dir"
    chmod 0750 -- "$dir"
    if [[ -n $group ]]; then chgrp -- "$group" "$dir"; fi
  fi
  for f in "${EXAMPLES[@]}"; do
    if [[ -e $dir/$f ]]; then
      say "$confdir/$f exists, kept (the example is in $docdir/examples/$f)"
      continue
    fi
    with_prefix "$root/packaging/examples/$f" | put "$dir/$f" 0640
    if [[ -n $group ]]; then chgrp -- "$group" "$dir/$f"; fi
    say "$confdir/$f installed from the example: edit it before starting the daemon"
  done
}

create_user() {
  if getent passwd "$USER_NAME" > /dev/null; then return; fi
  if command -v systemd-sysusers > /dev/null; then
    systemd-sysusers "$SYSUSERS_DIR/netaccel.conf"
  else
    getent group "$USER_NAME" > /dev/null || groupadd --system "$USER_NAME"
    useradd --system --gid "$USER_NAME" --no-create-home --home-dir / --shell /usr/sbin/nologin --comment 'netaccel daemons' "$USER_NAME"
  fi
  say "created the system user and group $USER_NAME"
}

do_install() {
  NODE=${NODE:-$(command -v node || true)}
  [[ $NODE == /* && -x $NODE ]] || die "NODE: expected the absolute path of node, got '$NODE'"
  case $NODE in /home/* | /root/*) say "warning: $NODE is under /home or /root, which the units hide (ProtectHome=yes)" ;; esac
  command -v "$NPM" > /dev/null || die "NPM: '$NPM' not found"
  check_build
  install_workspace
  install_wrappers
  install_units_and_docs
  if real_install; then create_user; fi
  install_configs
  if real_install && systemd_running; then systemctl daemon-reload; fi
  say "installed into ${DESTDIR:-/} (prefix $PREFIX); start with: systemctl enable --now ebpf-loader lb-controller bgp-announcer"
}

do_uninstall() {
  local app name path d units=()
  for d in "${DAEMONS[@]}"; do units+=("$d.service"); done
  if real_install && systemd_running; then systemctl disable --now "${units[@]}" || true; fi
  # Enablement links made with `systemctl enable` (the [Install] aliases among them).
  if command -v systemctl > /dev/null && [[ -d $DESTDIR/etc/systemd/system ]]; then
    systemctl --root="${DESTDIR:-/}" disable "${units[@]}" > /dev/null 2>&1 || true
  fi
  for app in "${APPS[@]}"; do
    while read -r name path; do rm -f -- "$DESTDIR$bindir/$name"; done < <(app_bins "$app")
  done
  for d in "${DAEMONS[@]}"; do rm -f -- "$DESTDIR$SYSTEMD_UNIT_DIR/$d.service"; done
  rm -f -- "$DESTDIR$SYSUSERS_DIR/netaccel.conf"
  rm -rf -- "${DESTDIR}${libdir:?}" "${DESTDIR}${docdir:?}"
  if real_install && systemd_running; then systemctl daemon-reload; fi
  say "removed from ${DESTDIR:-/}; kept: $confdir, /var/lib/netaccel and the user $USER_NAME"
}

case $action in
  install) do_install ;;
  uninstall) do_uninstall ;;
  *) die "usage: packaging/install.sh install|uninstall (DESTDIR, PREFIX, SYSTEMD_UNIT_DIR, SYSUSERS_DIR, NODE, NPM)" ;;
esac
