# syntax=docker/dockerfile:1
#
# netaccel sidecar-offload: the gRPC (h2c) sidecar of local workloads, with per-method policy and
# telemetry, deadlines, balancing and etcd key counting (apps/sidecar-offload/README.md), with
# the `netaccel` CLI beside it. Build from the repository root:
#
#   docker build -f docker/sidecar-offload.Dockerfile -t netaccel/sidecar-offload .
#
# Runs as user netaccel (uid 10001, group netaccel, gid 10001) with NO capability
# (compose `cap_drop: [ALL]`): its listeners use ports above 1023 (sidecar.listeners[].listen;
# 15001 outbound and 15006 inbound in packaging/examples/sidecar-offload.yaml); upstreams, etcd
# and Redis are ordinary sockets. The kernel fast path (bpf/sidecar) is attached by ebpf-loader.
# Mounts: /run/netaccel (sidecar-offload.sock, 0660); /etc/netaccel with sidecar-offload.yaml.
# Network: the workload's (a pod's or the node's), so that its clients reach the listeners on
# loopback.
# Configuration: /etc/netaccel/sidecar-offload.yaml (mount it). SIGHUP reloads it.

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

# --- prod-deps: production packages of sidecar-offload and the CLI only ---------------------
FROM manifests AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund -w @netaccel/app-cli -w @netaccel/app-sidecar-offload

# --- runtime ---------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="netaccel sidecar-offload" \
      org.opencontainers.image.description="gRPC sidecar: per-method policy and telemetry, deadlines, balancing, etcd key counting; Sidecar gRPC on /run/netaccel/sidecar-offload.sock" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="netaccel" \
      io.netaccel.capabilities=""
# libbpf1: the CLI's `netaccel bpf ... --typed` reads BTF through @netaccel/bpf (koffi).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 netaccel \
 && useradd --system --uid 10001 --gid netaccel --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin netaccel \
 && install -d -m 0770 -o root -g netaccel /run/netaccel \
 && install -d -m 0755 /etc/netaccel
WORKDIR /opt/netaccel
COPY --from=prod-deps /src/ ./
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
COPY --from=build /src/bpf/dist/ bpf/dist/
COPY --from=build /src/apps/sidecar-offload/dist/ apps/sidecar-offload/dist/
COPY --from=build /src/apps/cli/dist/ apps/cli/dist/
COPY docker/healthcheck.mjs /opt/netaccel/healthcheck.mjs
RUN ln -s /opt/netaccel/apps/sidecar-offload/dist/main.js /usr/local/bin/netaccel-sidecar-offload \
 && ln -s /opt/netaccel/apps/cli/dist/main.js /usr/local/bin/netaccel
ENV NODE_ENV=production
USER netaccel:netaccel
# 15001/tcp and 15006/tcp the example's listeners; telemetry.listen's default (127.0.0.1:9190):
# /healthz, /readyz, /metrics, /v1/status
EXPOSE 15001/tcp 15006/tcp 9190/tcp
HEALTHCHECK --interval=10s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "/opt/netaccel/healthcheck.mjs", "http://127.0.0.1:9190/healthz"]
ENTRYPOINT ["node", "/opt/netaccel/apps/sidecar-offload/dist/main.js"]
CMD ["--config", "/etc/netaccel/sidecar-offload.yaml"]
