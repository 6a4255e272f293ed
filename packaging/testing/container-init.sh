#!/usr/bin/env bash
# The init of packaging/systemd.ns.test.ts's container, run by
#   unshare --mount --pid --fork --kill-child --cgroup --uts --ipc --net --propagation private \
#     packaging/testing/container-init.sh <work dir> <checkout>
# as PID 1 of fresh namespaces. It lays an overlay over / (writes go to a tmpfs, the host's files
# stay untouched), mounts fresh /proc, /sys, cgroup2, bpffs, /run and /tmp, installs netaccel
# for real (packaging/install.sh, no DESTDIR) inside the overlay, and boots systemd there with a
# target that wants the three daemons. The network namespace has only lo.
set -euo pipefail
work=$1
repo=$2
root=$work/root

mount -t tmpfs -o mode=0755 tmpfs "$work/t"
mkdir -p "$work/t/upper" "$work/t/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/t/upper,workdir=$work/t/work" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
mount -t bpf -o mode=0700 bpf "$root/sys/fs/bpf"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
# The overlay shows only the root filesystem: a checkout on another filesystem, or under /tmp
# (just hidden by the tmpfs), is bound in at its own path for install.sh to read.
mkdir -p "$root$repo"
mount --rbind "$repo" "$root$repo"
hostname netaccel-test
ip link set lo up

chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$repo/packaging/install.sh" install
cat > "$root/etc/systemd/system/netaccel-test.target" << 'EOF'
[Unit]
Description=netaccel packaging test
Wants=ebpf-loader.service lb-controller.service bgp-announcer.service
After=ebpf-loader.service lb-controller.service bgp-announcer.service
EOF
echo "container-init: booting systemd"

# pivot_root, not chroot: a chrooted process may not create user namespaces (PrivateUsers=).
cd "$root"
mkdir -p .oldroot
pivot_root . .oldroot
exec /usr/bin/env -i container=netaccel-test PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c \
  'umount -l /.oldroot && rmdir /.oldroot && exec /lib/systemd/systemd --unit=netaccel-test.target --show-status=no'
