/**
 * lb-controller's configuration: a YAML file (`--config`) and NETACCEL_LB_CONTROLLER_*
 * overrides, validated by @netaccel/config. The services themselves come from `source` (a
 * services file, etcd or Kubernetes), not from here.
 */
import * as z from 'zod';
import { defineConfig, duration, filePath, ipv4, ipv6, listenAddress, logLevel, unixSocketPath } from '@netaccel/config';
import type { ConfigOf } from '@netaccel/config';
import { parseIp } from '@netaccel/protocol';
import { XLB_BUILD_DEFAULTS } from '@netaccel/bpf-programs/xlb';

const mac = z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'expected a MAC address like 02:00:00:00:00:01');

const schema = z.strictObject({
  logLevel: logLevel(),
  dataPlane: z.strictObject({
    /** loader: through ebpf-loader's gRPC API (production); direct: libbpf in this process. */
    via: z.enum(['loader', 'direct']),
    loaderSocket: z.string().min(1),
    /** At start, how long to wait for the loader's socket to accept a connection. */
    loaderWait: duration({ min: 0, max: 600_000 }),
    /** xlb.bpf.o: inside the loader's allowed directory (via loader), or a local path (direct). */
    object: filePath(),
    /** Interface to attach the XDP program to; none: load only (nothing is announced). */
    interface: z.string().min(1).max(15).optional(),
    xdpMode: z.enum(['native', 'generic']),
    /** Source MAC of frames sent; none: the received frame's destination MAC. */
    localMac: mac.optional(),
    /** Router MAC for backends that have no MAC (IPIP, GUE, NAT behind a router). */
    gatewayMac: mac.optional(),
    /** The first NAT source address of each family (required by `nat` services of that family). */
    natSourceV4: ipv4().optional(),
    natSourceV6: ipv6().optional(),
    /**
     * How many NAT source addresses: natSourceV4/V6 and the ones after it (1..64). Each adds
     * nat_port_min..max ports per backend; the balancer must own them all.
     */
    natSourceCount: z.int().min(1).max(XLB_BUILD_DEFAULTS.XLB_NAT_SRC_MAX),
    /** Load-time globals of xlb.bpf.o (gue_port, ct_tcp_timeout_ms, …). */
    globals: z.record(z.string(), z.int().min(0)),
    /**
     * Map sizes (max_entries) by map name, over the object's: `conntrack` (flows, each of its two
     * tables: IPv4 flows' conntrack_v4 and IPv6 flows' conntrack), `nat_rev` (NAT
     * flows: ≥ new NAT flows/s × 60 s + live ones). Set when the object is loaded.
     */
    mapSizes: z.partialRecord(z.enum(['conntrack', 'nat_rev']), z.int().min(1).max(0x7fffffff)),
    /** Time a table slot rests after it stopped being active before it is rewritten. */
    quiesce: duration({ min: 0, max: 1000 }),
    /**
     * The record of what this controller wrote (VIP slots and table digests, backend indexes),
     * read by the next one to adopt the data plane without rewriting it (adoption.ts); "": none.
     */
    adoptionFile: z.string(),
  }).superRefine((d, ctx) => {
    // The data plane counts the last 32 bits up: the range may not wrap around.
    const last32 = (a: string): number => Buffer.from(parseIp(a)).readUInt32BE(a.includes(':') ? 12 : 0);
    for (const [key, a] of [['natSourceV4', d.natSourceV4], ['natSourceV6', d.natSourceV6]] as const) {
      if (a !== undefined && last32(a) + d.natSourceCount - 1 > 0xffffffff) {
        ctx.addIssue({ code: 'custom', path: [key], message: `${d.natSourceCount} addresses from ${a} (natSourceCount) overflow its last 32 bits`, input: a });
      }
    }
  }),
  source: z.strictObject({
    kind: z.enum(['file', 'etcd', 'kubernetes']),
    file: filePath().optional(),
    etcd: z.strictObject({
      endpoints: z.array(z.string().min(1)).min(1),
      prefix: z.string().min(1),
      retry: duration({ min: 10, max: 60_000 }),
    }).optional(),
    kubernetes: z.strictObject({
      kubeconfig: filePath().optional(),
      server: z.string().min(1).optional(),
      retry: duration({ min: 10, max: 60_000 }),
    }).optional(),
  }).superRefine((s, ctx) => {
    if (s.kind === 'file' && s.file === undefined) ctx.addIssue({ code: 'custom', path: ['file'], message: 'expected the services file (source.kind is file)', input: s.file });
    if (s.kind === 'etcd' && s.etcd === undefined) ctx.addIssue({ code: 'custom', path: ['etcd'], message: 'expected endpoints and prefix (source.kind is etcd)', input: s.etcd });
  }),
  leastConn: z.strictObject({ interval: duration({ min: 50, max: 3_600_000 }) }),
  announcer: z.strictObject({
    enabled: z.boolean(),
    socket: z.string().min(1),
    /** Next hop of announced routes; "" = each session's local address. */
    nextHop: z.string(),
  }),
  grpc: z.strictObject({ socket: unixSocketPath() }),
  telemetry: z.strictObject({ listen: listenAddress() }),
});

export const lbControllerConfig = defineConfig({
  app: 'lb-controller',
  schema,
  defaults: {
    logLevel: 'info',
    dataPlane: {
      via: 'loader',
      loaderSocket: '/run/netaccel/ebpf-loader.sock',
      loaderWait: '30s', // 30 s
      object: 'xlb/xlb.bpf.o',
      xdpMode: 'native',
      natSourceCount: 1,
      globals: {},
      mapSizes: {},
      quiesce: '5ms', // 5 ms
      adoptionFile: '/run/netaccel/lb-controller.adoption.json', // gone at reboot, like the pinned maps
    },
    source: { kind: 'file', file: '/etc/netaccel/services.yaml' },
    leastConn: { interval: '1s' }, // 1 s between connection-table reads
    announcer: { enabled: false, socket: '/run/netaccel/bgp-announcer.sock', nextHop: '' },
    grpc: { socket: '/run/netaccel/lb-controller.sock' },
    telemetry: { listen: '127.0.0.1:9464' },
  },
});

export type LbControllerConfig = ConfigOf<typeof lbControllerConfig>;
