#!/bin/sh
# A backend's entry (docker/lab/backend.Dockerfile): the service's VIP on lo (L2 DSR: the
# balancer rewrites only the destination MAC, so the packet still carries the VIP), TX checksum
# offload off on eth0, then nginx in the foreground. VIP comes from compose's environment.
set -eu
: "${VIP:?VIP: expected the service address this backend serves, like 10.1.1.1}"
ip addr add "$VIP/32" dev lo
ethtool -K eth0 tx off >/dev/null
exec nginx -c /etc/nginx/nginx.conf -e stderr -g 'pid /run/nginx.pid; daemon off;'
