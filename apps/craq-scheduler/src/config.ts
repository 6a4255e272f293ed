/**
 * craq-scheduler's configuration: a YAML file (`--config`) and NETACCEL_CRAQ_SCHEDULER_*
 * overrides, validated whole by @netaccel/config (a bad file is refused with the field paths).
 * Durations are written as `"1s"` / `"200ms"` and arrive in ms; sizes as `"1MiB"` and arrive in
 * bytes.
 */
import * as z from 'zod';
import { byteSize, defineConfig, duration, ipAddress, listenAddress, logLevel, port, unixSocketPath } from '@netaccel/config';
import type { ConfigOf } from '@netaccel/config';

const node = z.strictObject({
  /** The node's name in the chain (unique). */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a name of lower-case letters, digits and dashes, at most 32'),
  /** Where its NetCRAQ UDP port listens. */
  address: ipAddress(),
  port: port().default(7480),
  /** via loader: the node's interface the XDP program is attached to. */
  iface: z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, 'expected an interface name').optional(),
  /** via loader: that interface's MAC (neighbours address their chain messages to it). */
  mac: z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'expected a MAC like 02:00:00:00:00:01 (lower case)').optional(),
  /** via loader: the ebpf-loader of the node's host (default dataPlane.loaderSocket). */
  loaderSocket: unixSocketPath().optional(),
});

const uniqueNodes = (nodes: readonly { name: string; address: string; port: number }[], ctx: z.RefinementCtx): void => {
  const names = new Map<string, number>();
  const endpoints = new Map<string, number>();
  nodes.forEach((n, i) => {
    const j = names.get(n.name);
    if (j !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `expected one entry per node, ${n.name} is already chain.nodes[${j}]`, input: n.name });
    names.set(n.name, i);
    const ep = `${n.address}:${n.port}`;
    const k = endpoints.get(ep);
    if (k !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'port'], message: `expected one node per address and port, ${ep} is already chain.nodes[${k}]`, input: n.port });
    endpoints.set(ep, i);
  });
};

const membership = z
  .strictObject({
    /**
     * local: this scheduler alone decides the chain's configuration (one scheduler per chain).
     * paxos: the schedulers of the chain nodes agree on it in a Paxos group (chain-store.ts), each
     * running one replica; every scheduler lists the same chain.nodes and the same replicas.
     */
    via: z.enum(['local', 'paxos']),
    paxos: z.strictObject({
      /** This scheduler's replica: its index in `replicas`. */
      self: z.int().min(0).max(30),
      /** Every scheduler's replica (UDP), one IP family, an odd number (2f + 1: f may fail). */
      replicas: z.array(z.strictObject({ address: ipAddress(), port: port() })).max(31),
      /** The key the configuration is kept under in the group. */
      key: z.string().min(1).max(128),
      /** The leader's heartbeat; a follower starts a view change after `viewChangeTimeout` of silence. */
      heartbeat: duration({ min: 5, max: 10_000 }),
      viewChangeTimeout: duration({ min: 20, max: 60_000 }),
      /** Deadline of one proposal or read through the group. */
      timeout: duration({ min: 50, max: 60_000 }),
      /**
       * The leader's lease: the active scheduler (the group's leader) stops acting this long after
       * a quorum last acknowledged it; a new one waits `lease × (1 + clockDrift)` before it acts.
       */
      lease: duration({ min: 10, max: 60_000 }),
      /** Bound on the difference of two schedulers' clock rates (0.1: 10 %). */
      clockDrift: z.number().min(0).max(1),
    }),
  })
  .superRefine((m, ctx) => {
    if (m.via !== 'paxos') return;
    const n = m.paxos.replicas.length;
    if (n === 0 || n % 2 === 0) ctx.addIssue({ code: 'custom', path: ['paxos', 'replicas'], message: `expected an odd number of replicas (2f + 1), got ${n}`, input: m.paxos.replicas });
    else if (m.paxos.self >= n) ctx.addIssue({ code: 'custom', path: ['paxos', 'self'], message: `expected an index of replicas, 0..${n - 1}, got ${m.paxos.self}`, input: m.paxos.self });
    if (m.paxos.lease <= 2 * m.paxos.heartbeat) ctx.addIssue({ code: 'custom', path: ['paxos', 'lease'], message: `expected more than twice the heartbeat (${m.paxos.heartbeat} ms), got ${m.paxos.lease} ms`, input: m.paxos.lease });
    if (m.paxos.viewChangeTimeout <= 2 * m.paxos.heartbeat) ctx.addIssue({ code: 'custom', path: ['paxos', 'viewChangeTimeout'], message: `expected more than twice the heartbeat (${m.paxos.heartbeat} ms), got ${m.paxos.viewChangeTimeout} ms`, input: m.paxos.viewChangeTimeout });
  });

const url = z.string().refine((s) => /^(https?|redis|rediss):\/\/[^\s]+$/.test(s), 'expected a URL like http://127.0.0.1:2379');

export const craqSchedulerConfig = defineConfig({
  app: 'craq-scheduler',
  schema: z.strictObject({
    logLevel: logLevel(),
    etcd: z.strictObject({
      endpoints: z.array(url).min(1),
      /** etcd's Prometheus endpoint for the overall read/write rates; "" for none. */
      metricsUrl: z.union([url, z.literal('')]),
      /** Only keys under these prefixes are placed. */
      prefixes: z.array(z.string().min(1)).min(1),
      /** Deadline of one etcd call. */
      timeout: duration({ min: 10, max: 60_000 }),
    }),
    redis: z.strictObject({
      /** Where clients and proxies report per-key reads (sorted sets ncc:heat:<bucket>); "" for none. */
      url: z.union([url, z.literal('')]),
      bucket: duration({ min: 100, max: 3_600_000 }),
      /** Buckets in the ranking window (the current one included). */
      buckets: z.int().min(1).max(360),
      /**
       * Sorted sets of cumulative per-key reads (sidecar-offload's etcdHeat.readsKey): read each
       * round, their increases summed over the same window.
       */
      counterSets: z.array(z.string().min(1).max(256)).max(16),
    }),
    chain: z.strictObject({
      /** Head first, tail last. */
      nodes: z.array(node).max(16).superRefine(uniqueNodes), // at least one: the daemon refuses to start without
      probeInterval: duration({ min: 10, max: 60_000 }),
      probeTimeout: duration({ min: 5, max: 10_000 }),
      /** Probes missed in a row before a node is taken out of the chain (BFD's detect multiplier). */
      probeMultiplier: z.int().min(1).max(255),
      /** How long a drain (dirty versions at the head going to 0) may take. */
      drainTimeout: duration({ min: 10, max: 60_000 }),
      /** A key dirty at the head without progress this long has lost a chain message: repaired (lost-messages.ts). */
      lostMessageAfter: duration({ min: 10, max: 60_000 }),
    }),
    /** Who keeps the chain's configuration: this scheduler alone, or the chain's schedulers in a Paxos group. */
    membership,
    dataPlane: z.strictObject({
      /** loader: bpf/craq through ebpf-loader (libs/dataplane); reference: user-space reference nodes in this process (tests, demos). */
      via: z.enum(['loader', 'reference']),
      loaderSocket: unixSocketPath(),
      /** craq.bpf.o as the loader finds it (in its allowed object directory). */
      object: z.string().min(1),
      xdpMode: z.enum(['native', 'generic']),
    }),
    placement: z.strictObject({
      /** The device's memory for keys and values (map/register capacity). */
      budget: byteSize({ min: 1024, max: 1 << 30 }),
      maxKeys: z.int().min(1).max(1_048_576),
      /** Bytes counted per key besides its key and value (map entry, versions). */
      perKeyOverhead: z.int().min(0).max(65_536),
      /** How often keys are ranked and placed. */
      interval: duration({ min: 50, max: 3_600_000 }),
      /** A candidate replaces a placed key only when hotter by this fraction. */
      hysteresis: z.number().min(0).max(10),
      /** A placed key stays at least this long. */
      minDwell: duration({ min: 0, max: 86_400_000 }),
      /** Reads per window below which a key is not placed. */
      minReads: z.number().min(0),
      /** The hottest this many reported keys are considered each round. */
      candidates: z.int().min(1).max(100_000),
    }),
    writeBack: z.strictObject({
      /** Commits reach etcd within this interval (plus etcd's latency) while etcd is up. */
      flushInterval: duration({ min: 1, max: 60_000 }),
      /** Keys with commits not yet in etcd before the head answers RETRY to writes. */
      maxPending: z.int().min(1).max(1_000_000),
    }),
    telemetry: z.strictObject({ listen: listenAddress() }),
    grpc: z.strictObject({ socket: unixSocketPath() }),
  }),
  defaults: {
    logLevel: 'info',
    etcd: { endpoints: ['http://127.0.0.1:2379'], metricsUrl: '', prefixes: ['/'], timeout: '2s' },
    redis: { url: '', bucket: '10s', buckets: 6, counterSets: ['netaccel:craq:heat:reads'] }, // a 60 s window
    chain: { nodes: [], probeInterval: '100ms', probeTimeout: '50ms', probeMultiplier: 3, drainTimeout: '2s', lostMessageAfter: '500ms' },
    membership: { via: 'local', paxos: { self: 0, replicas: [], key: '/netaccel/craq/chain', heartbeat: '50ms', viewChangeTimeout: '400ms', timeout: '5s', lease: '500ms', clockDrift: 0.1 } },
    dataPlane: { via: 'loader', loaderSocket: '/run/netaccel/ebpf-loader.sock', object: 'craq.bpf.o', xdpMode: 'native' },
    placement: {
      budget: '1MiB', // bytes
      maxKeys: 4096,
      perKeyOverhead: 64, // bytes
      interval: '1s',
      hysteresis: 0.25, // 25 %
      minDwell: '10s',
      minReads: 1, // reads per window
      candidates: 1000,
    },
    writeBack: { flushInterval: '20ms', maxPending: 10_000 },
    telemetry: { listen: '127.0.0.1:9480' },
    grpc: { socket: '/run/netaccel/craq-scheduler.sock' },
  },
});

export type CraqSchedulerConfig = ConfigOf<typeof craqSchedulerConfig>;
export type NodeEntry = CraqSchedulerConfig['chain']['nodes'][number];
