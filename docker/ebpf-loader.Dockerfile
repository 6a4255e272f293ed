# syntax=docker/dockerfile:1
#
# netaccel ebpf-loader: owns every BPF object on the host (apps/ebpf-loader/README.md), with
# the `netaccel` CLI beside it. Build from the repository root:
#
#   docker build -f docker/ebpf-loader.Dockerfile -t netaccel/ebpf-loader .
#
# Runs as root: bpffs (/sys/fs/bpf, mode 0700) belongs to root. Keep only these capabilities
# (docker run --cap-drop ALL --cap-add ..., compose `cap_drop: [ALL]` + `cap_add`):
#   CAP_BPF         load programs, create maps
#   CAP_NET_ADMIN   attach XDP and TC programs (rtnetlink), sk_skb/sk_msg and cgroup programs
#   CAP_PERFMON     pointer arithmetic and helpers the verifier reserves to it
#   CAP_SYS_ADMIN   BPF_ENABLE_STATS (stats.runTime, on by default) and BPF_PROG_GET_FD_BY_ID;
#                   it also lets the loader mount bpffs itself when /sys/fs/bpf is not one
# Mounts: /sys/fs/bpf from the host (a bind mount: pins outlive the container, and a restarted
# loader adopts them), /run/netaccel shared with its clients (ebpf-loader.sock, 0660, group
# netaccel when rpc.socketGroup says so), /var/lib/netaccel/loader for state.json (a volume).
# Limits: none since Linux 5.11 (BPF memory is charged to the cgroup); before 5.11, memlock
# unlimited (--ulimit memlock=-1), which only an engine allowed to raise rlimits can give.
# Network: the network namespace whose interfaces it attaches to (the balancer node's).
# Configuration: /etc/netaccel/ebpf-loader.yaml (mount it); objects in /usr/lib/netaccel/bpf.
#
# The BPF objects are compiled here (stage `bpf`). bpf/Makefile generates vmlinux.h from the
# kernel's BTF with bpftool; in a build container /sys/kernel/btf/vmlinux is the BUILD HOST's
# kernel (sysfs is mounted read-only into RUN steps), so the build needs a host kernel with BTF
# (CONFIG_DEBUG_INFO_BTF). The objects are compiled against that kernel's types; the kernel
# that loads them decides, with its verifier, whether they load. On a build host without BTF,
# copy the target kernel's /sys/kernel/btf/vmlinux into bpf/ (say bpf/target.btf; the stage
# copies bpf/) and pass --build-arg VMLINUX_BTF=/src/bpf/target.btf.

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

# --- bpf: the BPF objects (clang, bpftool; BTF of the build host, see the top) ---------------
FROM ${BUILD_IMAGE} AS bpf
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang llvm libbpf-dev bpftool make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY bpf/ bpf/
ARG VMLINUX_BTF=/sys/kernel/btf/vmlinux
RUN make -C bpf VMLINUX_BTF=${VMLINUX_BTF} \
 && mkdir -p /out \
 && cd bpf/build \
 && find . -name '*.bpf.o' -exec cp --parents {} /out/ \;

# --- prod-deps: production packages of ebpf-loader and the CLI only -------------------------
FROM manifests AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund -w @netaccel/app-ebpf-loader -w @netaccel/app-cli

# --- runtime ---------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="netaccel ebpf-loader" \
      org.opencontainers.image.description="Owns every BPF object on the host: loads, attaches, pins, re-adopts after restart; Loader gRPC on /run/netaccel/ebpf-loader.sock" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="netaccel" \
      io.netaccel.capabilities="CAP_BPF CAP_NET_ADMIN CAP_PERFMON CAP_SYS_ADMIN"
# libbpf1: @netaccel/bpf binds libbpf.so.1 with koffi. iproute2: `ip link` / `tc filter show`
# to look at the attachments from inside the container that owns them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 iproute2 \
 && rm -rf /var/lib/apt/lists/*
# Group netaccel (gid 10001 in every netaccel image): the loader's socket belongs to it.
RUN groupadd --system --gid 10001 netaccel \
 && useradd --system --uid 10001 --gid netaccel --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin netaccel \
 && install -d -m 0770 -o root -g netaccel /run/netaccel \
 && install -d -m 0700 /var/lib/netaccel/loader \
 && install -d -m 0755 /etc/netaccel /usr/lib/netaccel/bpf
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
COPY --from=build /src/apps/ebpf-loader/dist/ apps/ebpf-loader/dist/
COPY --from=build /src/apps/cli/dist/ apps/cli/dist/
COPY --from=bpf /out/ /usr/lib/netaccel/bpf/
COPY docker/healthcheck.mjs /opt/netaccel/healthcheck.mjs
RUN ln -s /opt/netaccel/apps/ebpf-loader/dist/main.js /usr/local/bin/netaccel-ebpf-loader \
 && ln -s /opt/netaccel/apps/cli/dist/main.js /usr/local/bin/netaccel
ENV NODE_ENV=production
# root for bpffs; group netaccel, so that the socket is created with (and rpc.socketGroup may
# name) a group the other daemons are in without CAP_CHOWN, which the loader does not keep.
USER root:netaccel
# telemetry.listen's default (127.0.0.1:9465): /healthz, /readyz, /metrics, /v1/status
EXPOSE 9465/tcp
HEALTHCHECK --interval=10s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "/opt/netaccel/healthcheck.mjs", "http://127.0.0.1:9465/healthz"]
ENTRYPOINT ["node", "/opt/netaccel/apps/ebpf-loader/dist/main.js"]
CMD ["--config", "/etc/netaccel/ebpf-loader.yaml"]
