#!/bin/sh
# The router's entry (docker/lab/router.Dockerfile): TX checksum offload off on eth0 (a veth
# frame with a partial checksum loses its completion when a balancer sends it on with XDP_TX),
# then BIRD in the foreground.
set -eu
ethtool -K eth0 tx off >/dev/null
exec bird -f -c /etc/bird/bird.conf -s /run/bird/bird.ctl
