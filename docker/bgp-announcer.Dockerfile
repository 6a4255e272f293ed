# syntax=docker/dockerfile:1
#
# netaccel bgp-announcer: BGP-4 speaker with BFD that announces the VIPs with this node as next
# hop (apps/bgp-announcer/README.md), with the `netaccel` CLI beside it. Build from the
# repository root:
#
#   docker build -f docker/bgp-announcer.Dockerfile -t netaccel/bgp-announcer .
#
# Runs as user netaccel (uid 10001, group netaccel, gid 10001) with one capability:
#   CAP_NET_BIND_SERVICE  listen on TCP 179 (bgp.listen). A process of a non-root user gets no
#                         capability from `cap_add` alone, so node carries it as a file
#                         capability (setcap below); compose keeps it in the bounding set with
#                         `cap_drop: [ALL]` + `cap_add: [NET_BIND_SERVICE]`. With
#                         no-new-privileges the file capability is ignored: then set
#                         bgp.listen to a port above 1023 or [] (outgoing sessions only).
# Nothing else needs a capability: TCP MD5 (setsockopt TCP_MD5SIG), the TTL of eBGP multihop and
# of BFD (IP_TTL / IPV6_UNICAST_HOPS 255) are plain socket options; BFD uses UDP 3784 and source
# ports 49152..65535; no raw socket, no SO_BINDTODEVICE; it installs no route.
# Mounts: /run/netaccel shared with lb-controller (bgp-announcer.sock, 0660); /etc/netaccel with
# bgp-announcer.yaml. Network: the balancer node's namespace, so that the session's local
# address (the next hop of the announced VIPs) is the address the balancer receives traffic on.
# Configuration: /etc/netaccel/bgp-announcer.yaml (mount it). SIGHUP reloads it.

ARG BUILD_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=node:20-bookworm-slim

# --- manifests: package.json of the root and of every workspace, and the lock file ----------
# (the same in every docker/*.Dockerfile, so BuildKit builds the stages below once)
FROM ${BUILD_IMAGE} AS manifests
WORKDIR /src
COPY package.json package-lock.json ./
COPY bpf/package.json bpf/
COPY libs/bpf/package.json libs/bpf/
COPY libs/config/package.json libs/config/
COPY libs/craq/package.json libs/craq/
COPY libs/daemon/package.json libs/daemon/
COPY libs/dataplane/package.json libs/dataplane/
COPY libs/errors/package.json libs/errors/
COPY libs/labs/package.json libs/labs/
COPY libs/linearizability/package.json libs/linearizability/
COPY libs/netlab/package.json libs/netlab/
COPY libs/paxos/package.json libs/paxos/
COPY libs/protocol/package.json libs/protocol/
COPY libs/rpc/package.json libs/rpc/
COPY libs/telemetry/package.json libs/telemetry/
COPY apps/bgp-announcer/package.json apps/bgp-announcer/
COPY apps/cli/package.json apps/cli/
COPY apps/craq-scheduler/package.json apps/craq-scheduler/
COPY apps/ebpf-loader/package.json apps/ebpf-loader/
COPY apps/lb-controller/package.json apps/lb-controller/
COPY apps/sidecar-offload/package.json apps/sidecar-offload/

# --- deps: every npm package, dev tools included (tsc, nx) ----------------------------------
FROM manifests AS deps
RUN npm ci --no-audit --no-fund

# --- build: the libraries, then every app (TypeScript -> dist/) -------------------------------
# The same text in every docker/*.Dockerfile, like the stages above, so that the TypeScript is
# built once for the four images (BuildKit and the classic builder alike reuse the layers); each
# runtime stage copies the dist/ folders of its own apps. Only the folders the build reads are
# copied, so that an edit elsewhere (tests outside libs/ and apps/, docs, docker/) keeps the cache.
# --excludeTaskDependencies: nx would otherwise also run bpf/Makefile (the build of
# @netaccel/bpf-programs, which libs/bpf and the apps depend on); here only its TypeScript
# bindings are built (build:ts, lb-controller imports them); the loader's objects are built in
# its own `bpf` stage, which alone needs clang and BTF. @netaccel/labs imports the bindings, so
# it is built after them.
FROM deps AS build
ENV NX_DAEMON=false NX_NO_CLOUD=true
COPY nx.json tsconfig.base.json ./
COPY bpf/ bpf/
COPY libs/ libs/
COPY apps/ apps/
RUN npx nx run-many -t build --exclude='@netaccel/app-*,@netaccel/bpf-programs,@netaccel/labs' --excludeTaskDependencies --outputStyle=static
RUN npm run build:ts -w @netaccel/bpf-programs
RUN npm run build -w @netaccel/labs
RUN npx nx run-many -t build -p @netaccel/app-bgp-announcer @netaccel/app-cli @netaccel/app-craq-scheduler @netaccel/app-ebpf-loader @netaccel/app-lb-controller @netaccel/app-sidecar-offload --excludeTaskDependencies --outputStyle=static

# --- prod-deps: production packages of bgp-announcer and the CLI only -----------------------
FROM manifests AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund -w @netaccel/app-bgp-announcer -w @netaccel/app-cli

# --- runtime ---------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="netaccel bgp-announcer" \
      org.opencontainers.image.description="BGP-4 speaker with BFD announcing service addresses with this node as next hop; Announcer gRPC on /run/netaccel/bgp-announcer.sock" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="netaccel" \
      io.netaccel.capabilities="CAP_NET_BIND_SERVICE"
# libbpf1: the CLI's `netaccel bpf ... --typed` reads BTF through @netaccel/bpf (koffi).
# libcap2-bin only for setcap, removed in the same layer.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/local/bin/node \
 && apt-get purge -y --auto-remove libcap2-bin \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 netaccel \
 && useradd --system --uid 10001 --gid netaccel --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin netaccel \
 && install -d -m 0770 -o root -g netaccel /run/netaccel \
 && install -d -m 0755 /etc/netaccel
WORKDIR /opt/netaccel
COPY --from=prod-deps /src/ ./
COPY --from=build /src/bpf/dist/ bpf/dist/
COPY --from=build /src/libs/bpf/dist/ libs/bpf/dist/
COPY --from=build /src/libs/config/dist/ libs/config/dist/
COPY --from=build /src/libs/craq/dist/ libs/craq/dist/
COPY --from=build /src/libs/daemon/dist/ libs/daemon/dist/
COPY --from=build /src/libs/dataplane/dist/ libs/dataplane/dist/
COPY --from=build /src/libs/errors/dist/ libs/errors/dist/
COPY --from=build /src/libs/labs/dist/ libs/labs/dist/
COPY --from=build /src/libs/linearizability/dist/ libs/linearizability/dist/
COPY --from=build /src/libs/netlab/dist/ libs/netlab/dist/
COPY --from=build /src/libs/paxos/dist/ libs/paxos/dist/
COPY --from=build /src/libs/protocol/dist/ libs/protocol/dist/
COPY --from=build /src/libs/rpc/dist/ libs/rpc/dist/
COPY --from=build /src/libs/telemetry/dist/ libs/telemetry/dist/
COPY --from=build /src/apps/bgp-announcer/dist/ apps/bgp-announcer/dist/
COPY --from=build /src/apps/cli/dist/ apps/cli/dist/
COPY docker/healthcheck.mjs /opt/netaccel/healthcheck.mjs
RUN ln -s /opt/netaccel/apps/bgp-announcer/dist/main.js /usr/local/bin/netaccel-bgp-announcer \
 && ln -s /opt/netaccel/apps/cli/dist/main.js /usr/local/bin/netaccel
ENV NODE_ENV=production
USER netaccel:netaccel
# 179/tcp BGP, 3784/udp BFD (single hop, RFC 5881), 9179/tcp telemetry.listen's default
# (127.0.0.1:9179): /healthz, /readyz, /metrics, /v1/status
EXPOSE 179/tcp 3784/udp 9179/tcp
HEALTHCHECK --interval=10s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "/opt/netaccel/healthcheck.mjs", "http://127.0.0.1:9179/healthz"]
ENTRYPOINT ["node", "/opt/netaccel/apps/bgp-announcer/dist/main.js"]
CMD ["--config", "/etc/netaccel/bgp-announcer.yaml"]
