#!/bin/sh
# A backend's entry (docker/lab/backend.Dockerfile): the VIPs of its services on lo (L2 DSR: the
# balancer rewrites only the destination MAC, so the packet still carries the VIP), TX checksum
# offload off on eth0, then nginx in the foreground. VIPS (space-separated) comes from compose's
# environment.
set -eu
: "${VIPS:?VIPS: expected the service addresses this backend serves, like 10.1.1.1 10.1.2.1}"
for vip in $VIPS; do ip addr add "$vip/32" dev lo; done
ethtool -K eth0 tx off >/dev/null
exec nginx -c /etc/nginx/nginx.conf -e stderr -g 'pid /run/nginx.pid; daemon off;'
