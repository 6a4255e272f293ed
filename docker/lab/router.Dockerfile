# syntax=docker/dockerfile:1
#
# The lab's upstream router, which is also its client (docker/compose.yaml, service router):
# BIRD 2 learns every balancer's path to each VIP from the route reflector (add-path) and
# installs them as one ECMP route (kernel protocol, `merge paths`); wrk and curl send the
# traffic. Debian's packages, as scripts/setup.sh installs them on the development machine.
#
# Capabilities: CAP_NET_ADMIN (BIRD writes routes over netlink; start.sh switches off TX
# checksum offload with ethtool) on top of Docker's default set (CAP_NET_BIND_SERVICE for 179).
# Runs as root (BIRD's own default; it only talks BGP to the reflector).
# DEBIAN_IMAGE: Docker Hub's debian:bookworm-slim, or docker/local-base/build.sh's stand-in
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
LABEL org.opencontainers.image.title="netaccel lab router" \
      org.opencontainers.image.description="BIRD 2 with ECMP (merge paths) and wrk: the lab's upstream router and client" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
 && apt-get install -y --no-install-recommends bird2 wrk curl iproute2 ethtool ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -m 0755 /run/bird
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["birdc", "-s", "/run/bird/bird.ctl", "show", "status"]
CMD ["sh", "/etc/lab/start.sh"]
