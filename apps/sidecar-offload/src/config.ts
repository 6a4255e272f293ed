/**
 * sidecar-offload's configuration: a YAML file (`--config`) and NETACCEL_SIDECAR_OFFLOAD_*
 * overrides, validated by @netaccel/config. Durations are written as `"30s"` / `"100ms"` and
 * arrive in ms. The policy model is the one the kernel path compiles into maps: rules name an
 * exact method path ("/pkg.Service/Method") or a service ("pkg.Service"); a method rule wins over
 * a service rule, which wins over the listener's default.
 */
import * as z from 'zod';
import { byteSize, defineConfig, duration, listenAddress, logLevel, unixSocketPath } from '@netaccel/config';
import type { ConfigOf } from '@netaccel/config';

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** "/pkg.Service/Method": the :path of a gRPC call. */
const METHOD_RE = /^\/[A-Za-z_][A-Za-z0-9_.]*\/[A-Za-z_][A-Za-z0-9_]*$/;
/** "pkg.Service". */
const SERVICE_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

const name = () => z.string().regex(NAME_RE, 'expected lower-case letters, digits and dashes (1..63)');
const method = () => z.string().regex(METHOD_RE, 'expected a method path like /pkg.Service/Method');
const service = () => z.string().regex(SERVICE_RE, 'expected a service name like pkg.Service');

/** Exactly one of the keys is set. */
function oneOf(keys: readonly string[]) {
  return (v: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    const set = keys.filter((k) => v[k] !== undefined);
    if (set.length !== 1) ctx.addIssue({ code: 'custom', path: [], message: `expected exactly one of ${keys.join(', ')}, got ${set.length === 0 ? 'none' : set.join(', ')}`, input: v });
  };
}

const route = z
  .strictObject({
    method: method().optional(),
    service: service().optional(),
    prefix: z.string().startsWith('/', 'expected a path prefix starting with /').optional(),
    cluster: name(),
    timeout: duration({ min: 1, max: 3_600_000 }).optional(), // ms, deadline of calls without grpc-timeout
    maxTimeout: duration({ min: 1, max: 3_600_000 }).optional(), // ms, cap of any grpc-timeout
  })
  .superRefine(oneOf(['method', 'service', 'prefix']));

const rule = z
  .strictObject({ method: method().optional(), service: service().optional(), action: z.enum(['allow', 'deny']) })
  .superRefine(oneOf(['method', 'service']));

const listener = z.strictObject({
  name: name(),
  direction: z.enum(['inbound', 'outbound']),
  listen: listenAddress(),
  routes: z.array(route).min(1),
  policy: z.strictObject({ default: z.enum(['allow', 'deny']).default('allow'), rules: z.array(rule).default([]) }).default({ default: 'allow', rules: [] }),
});

const cluster = z.strictObject({
  name: name(),
  balancing: z.enum(['round-robin', 'least-requests']).default('round-robin'),
  /** "host:port" of each upstream (h2c). */
  endpoints: z.array(listenAddress()).min(1),
  connectTimeout: duration({ min: 1, max: 60_000 }).default(1000), // ms
  /** Consecutive connection failures that eject an endpoint. */
  ejectAfter: z.int().min(1).max(100).default(3),
  ejectFor: duration({ min: 1, max: 600_000 }).default(5000), // ms before an ejected endpoint is tried again
});

function uniqueNames(what: string) {
  return (items: readonly { name: string }[], ctx: z.RefinementCtx): void => {
    const seen = new Map<string, number>();
    items.forEach((it, i) => {
      const j = seen.get(it.name);
      if (j !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `expected one ${what} per name, ${it.name} is already [${j}]`, input: it.name });
      seen.set(it.name, i);
    });
  };
}

export const sidecarConfig = defineConfig({
  app: 'sidecar-offload',
  schema: z
    .strictObject({
      logLevel: logLevel(),
      sidecar: z.strictObject({
        listeners: z.array(listener).superRefine(uniqueNames('listener')),
        clusters: z.array(cluster).superRefine(uniqueNames('cluster')),
        timeout: duration({ min: 1, max: 3_600_000 }), // ms, default deadline of calls without grpc-timeout
        maxTimeout: duration({ min: 1, max: 3_600_000 }), // ms, cap of any grpc-timeout
        /** Bounded per-connection HTTP/2 settings: what one client may make the proxy hold. */
        maxConcurrentStreams: z.int().min(1).max(10_000),
        initialWindowSize: byteSize({ min: 65_535, max: 16 * 1024 * 1024 }),
        /** A client connection without a call for this long is closed (GOAWAY, then reset); so is one the HTTP/2 layer refused. */
        idleTimeout: duration({ min: 100, max: 86_400_000 }),
        /** A graceful shutdown waits this long for calls in flight after GOAWAY, then resets them. */
        drainTimeout: duration({ min: 0, max: 600_000 }),
        /** Distinct methods tracked per listener; calls of further methods are counted as "other". */
        maxMethods: z.int().min(1).max(100_000),
        accessLog: z.boolean(),
      }),
      etcdHeat: z.strictObject({
        enabled: z.boolean(),
        /** redis://host:port/db of the scheduler's shared store. */
        redis: z.string().regex(/^rediss?:\/\//, 'expected a redis:// URL'),
        readsKey: z.string().min(1),
        writesKey: z.string().min(1),
        flushInterval: duration({ min: 10, max: 600_000 }), // ms
        maxPendingKeys: z.int().min(1).max(10_000_000),
        /** Bytes of each Range/Put request kept to find the key (field 1); longer keys are not counted. */
        maxKeyBytes: byteSize({ min: 16, max: 1024 * 1024 }),
      }),
      /** The kernel fast path (bpf/sidecar): loaded at start, sockops on `cgroup`, sk_msg on the sockhash. */
      kernel: z.strictObject({
        enabled: z.boolean(),
        /** `loader`: loaded, attached and read through ebpf-loader (`loaderSocket`); `direct`: loaded in this process with libs/bpf. */
        via: z.enum(['loader', 'direct']),
        /** cgroup v2 directory of the offloaded workloads (sockops runs for their sockets only). */
        cgroup: z.string().startsWith('/', 'expected an absolute cgroup v2 directory'),
        loaderSocket: unixSocketPath(),
        /** sidecar.bpf.o; empty: the one built in @netaccel/bpf-programs (direct), `sidecar/sidecar.bpf.o` of the loader's object directory (loader). */
        object: z.string(),
      }),
      telemetry: z.strictObject({ listen: listenAddress() }),
      grpc: z.strictObject({ socket: unixSocketPath() }),
    })
    .superRefine((c, ctx) => {
      const clusters = new Set(c.sidecar.clusters.map((k) => k.name));
      c.sidecar.listeners.forEach((l, i) =>
        l.routes.forEach((r, j) => {
          if (!clusters.has(r.cluster)) ctx.addIssue({ code: 'custom', path: ['sidecar', 'listeners', i, 'routes', j, 'cluster'], message: `expected a cluster of sidecar.clusters, got ${r.cluster}`, input: r.cluster });
        }),
      );
    }),
  defaults: {
    logLevel: 'info',
    sidecar: {
      listeners: [],
      clusters: [],
      timeout: '30s', // 30 s
      maxTimeout: '5m', // 300 s
      maxConcurrentStreams: 1000, // streams per client connection
      initialWindowSize: '1MiB', // per stream, each way
      idleTimeout: '5m', // 300 s
      drainTimeout: '10s', // 10 s
      maxMethods: 1000, // per listener
      accessLog: true,
    },
    etcdHeat: {
      enabled: false,
      redis: 'redis://127.0.0.1:6379',
      readsKey: 'netaccel:craq:heat:reads',
      writesKey: 'netaccel:craq:heat:writes',
      flushInterval: '1s', // 1 s
      maxPendingKeys: 100_000, // distinct keys per operation held between flushes
      maxKeyBytes: '4KiB', // etcd's default max key size is far above; keys are usually short
    },
    kernel: { enabled: false, via: 'direct', cgroup: '/sys/fs/cgroup', loaderSocket: '/run/netaccel/ebpf-loader.sock', object: '' },
    telemetry: { listen: '127.0.0.1:9190' },
    grpc: { socket: '/run/netaccel/sidecar-offload.sock' },
  },
});

export type SidecarConfig = ConfigOf<typeof sidecarConfig>;
export type ListenerConfig = SidecarConfig['sidecar']['listeners'][number];
export type ClusterConfig = SidecarConfig['sidecar']['clusters'][number];
export type RouteConfig = ListenerConfig['routes'][number];
export type PolicyConfig = ListenerConfig['policy'];
export type EtcdHeatConfig = SidecarConfig['etcdHeat'];
export type KernelConfig = SidecarConfig['kernel'];
