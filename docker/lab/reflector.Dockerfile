# syntax=docker/dockerfile:1
#
# The lab's route reflector (docker/compose.yaml, service reflector): gobgpd with the balancers
# as dynamic neighbors (route-reflector clients, add-path receive) and the router as a static
# neighbor that gets every path (add-path send), the thesis' setup (appendix B) and the one
# test/bgp/gobgp.ns.test.ts runs. Debian's gobgpd package (daemon and the gobgp client).
#
# Capabilities: Docker's default set (CAP_NET_BIND_SERVICE for 179); runs as root.
# DEBIAN_IMAGE: Docker Hub's debian:bookworm-slim, or docker/local-base/build.sh's stand-in
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
LABEL org.opencontainers.image.title="netaccel lab route reflector" \
      org.opencontainers.image.description="gobgpd: dynamic neighbors, route-reflector clients, add-path" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
 && apt-get install -y --no-install-recommends gobgpd \
 && rm -rf /var/lib/apt/lists/*
EXPOSE 179/tcp
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["gobgp", "-u", "127.0.0.1", "-p", "50051", "global"]
CMD ["gobgpd", "-f", "/etc/gobgp/gobgpd.toml", "-t", "toml", "-p", "--api-hosts", "127.0.0.1:50051", "--pprof-disable"]
