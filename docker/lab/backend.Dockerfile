# syntax=docker/dockerfile:1
#
# A lab backend (docker/compose.yaml, services b1..b6): nginx answering every request with the
# container's host name ("b1\n"), so that a client sees which backend served it. The balancers
# forward in L2 DSR: start.sh puts the service's VIP on lo (arp_ignore=1 and arp_announce=2,
# set by compose's sysctls, keep the backend from answering ARP for it) and switches off TX
# checksum offload on eth0, as the namespace tests do (test/xlb/support.ts).
#
# Capabilities: CAP_NET_ADMIN (ip addr add on lo, ethtool) on top of Docker's default set;
# runs as root (nginx drops its workers to www-data).
# DEBIAN_IMAGE: Docker Hub's debian:bookworm-slim, or docker/local-base/build.sh's stand-in
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
LABEL org.opencontainers.image.title="netaccel lab backend" \
      org.opencontainers.image.description="nginx answering with its host name; VIP on lo for L2 DSR" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light iproute2 ethtool curl \
 && rm -rf /var/lib/apt/lists/*
EXPOSE 80/tcp
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1/"]
CMD ["sh", "/etc/lab/start.sh"]
