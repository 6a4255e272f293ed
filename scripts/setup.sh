#!/usr/bin/env bash
# Sets up this machine for netaccel, idempotently: Debian packages, bpffs, npm packages, build.
# On a machine where everything is present it only checks, and finishes in a few seconds.
#
#   scripts/setup.sh            everything
#   SETUP_SKIP_BUILD=1 ...      packages only
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s%N)
step() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# --- Debian packages -------------------------------------------------------------------------
# What each is for:
#   clang llvm libbpf-dev libbpf1 bpftool      build and load BPF programs (libbpf.so.1 via koffi)
#   libxdp1 xdp-tools                          XDP dispatcher protocol, xdp-loader for inspection
#   iproute2 iptables nftables ethtool tcpdump namespaces, veth, routes; DNAT baselines; debugging
#   bird2 frr gobgpd                           real BGP peers: upstream routers, route reflector
#   etcd-server etcd-client redis-server       real key-value stores for tests
#   wrk nghttp2-client nginx libnginx-mod-stream  load generators and baselines (nginx stream proxy)
#   protobuf-compiler libprotobuf-dev          protoc and its well-known types (google/protobuf/*.proto) for libs/rpc
#   openssl                                    TLS test certificates
#   jq make python3 procps util-linux curl     scripts; netlab (python3 pinger, sysctl, nsenter, flock, taskset)
#   gcc libc6-dev gcc-multilib                 C generators built by benchmarks; <asm/types.h> for BPF fixtures
#   chromium fonts-dejavu-core                 headless browser that renders the lab's HTML report in a test
#   systemd                                    systemd-analyze (verify, security) and systemctl --root in the
#                                              packaging tests, systemd 252 booted as PID 1 in systemd.ns.test.ts;
#                                              a booted Debian has it, a container or chroot had it only through
#                                              chromium → GTK → dconf → dbus-user-session → libpam-systemd
#                                              (found by make fresh-check)
#   docker.io docker-compose mmdebstrap        the compose lab for real (docker/compose-lab.ns.test.ts): Docker
#                                              Engine 20.10 and Compose v1 1.29; mmdebstrap builds the base
#                                              images from Debian's archive (no Docker Hub here)
#   gpgv xz-utils                              Compose v2 for the same test: docker/compose-v2/fetch.sh checks
#                                              Debian 13's signed index and unpacks its docker-compose plugin
PACKAGES=(
  clang llvm libbpf-dev libbpf1 bpftool libxdp1 xdp-tools
  iproute2 iptables nftables ethtool tcpdump
  bird2 frr gobgpd
  etcd-server etcd-client redis-server
  wrk nghttp2-client nginx libnginx-mod-stream
  protobuf-compiler libprotobuf-dev openssl jq make python3 procps util-linux curl
  gcc libc6-dev gcc-multilib libnghttp2-dev
  chromium fonts-dejavu-core
  systemd
  docker.io docker-compose mmdebstrap gpgv xz-utils
)
missing=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' 2>/dev/null | awk '$2 == "installed" { print $1 }')
for p in "${PACKAGES[@]}"; do
  grep -qxF "$p" <<<"$installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing Debian packages (${missing[*]}); run as root or install them with apt-get"
  step "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packaged daemons are started by tests in namespaces, never as system services.
  for svc in bird frr nginx redis-server etcd; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
  done
else
  step "Debian packages present"
fi

# --- kernel facilities ---------------------------------------------------------------------
[ -r /sys/kernel/btf/vmlinux ] || die "this kernel exposes no BTF (/sys/kernel/btf/vmlinux): netaccel needs CONFIG_DEBUG_INFO_BTF"
if [ "$(id -u)" = 0 ]; then
  if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
    mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf && step "mounted bpffs on /sys/fs/bpf"
  fi
fi

# --- npm packages ----------------------------------------------------------------------------
# npm ci only when package-lock.json changed since the last install (or node_modules is gone).
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
marker=node_modules/.netaccel-installed
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$lock_hash" ]; then
  step "npm packages present"
else
  step "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$marker"
fi

# --- build -----------------------------------------------------------------------------------
if [ -z "${SETUP_SKIP_BUILD:-}" ]; then
  step "building (nx, cached)"
  NX_DAEMON=false NX_NO_CLOUD=true npx nx run-many -t build --outputStyle=static --skipNxCache=false >/tmp/netaccel-build.log 2>&1 \
    || { tail -50 /tmp/netaccel-build.log >&2; die "build failed; full log: /tmp/netaccel-build.log"; }
fi

# --- the netaccel command ------------------------------------------------------------------
# `netaccel` on PATH, as the lab's hints print it: a link to this checkout's build, in
# /usr/local/bin as root, ~/.local/bin otherwise; never over a file that is not such a link
# (`make install` puts an installed one in /usr/bin).
cli="$PWD/apps/cli/dist/main.js"
bindir=/usr/local/bin
[ "$(id -u)" = 0 ] || bindir="$HOME/.local/bin"
if [ -f "$cli" ]; then
  mkdir -p "$bindir"
  if [ -e "$bindir/netaccel" ] && [ ! -L "$bindir/netaccel" ]; then
    step "left $bindir/netaccel alone (not a link to a checkout); run this checkout's CLI as: node $cli"
  else
    ln -sfn "$cli" "$bindir/netaccel"
    step "netaccel -> $cli (in $bindir)"
    case ":$PATH:" in *":$bindir:"*) ;; *) step "add $bindir to PATH to run netaccel" ;; esac
  fi
fi
t1=$(date +%s%N)
step "done in $(( (t1 - t0) / 1000000 )) ms"
