/**
 * bgp-announcer's configuration: a YAML file (`--config`) and NETACCEL_BGP_ANNOUNCER_* overrides,
 * validated by @netaccel/config. Durations are written as `"30s"` / `"100ms"` and arrive in ms.
 */
import * as z from 'zod';
import { canonicalIp, isIPv6 } from '@netaccel/protocol';
import { cidr, defineConfig, duration, holdTime, ipAddress, ipv4, ipv6, listenAddress, logLevel, port, secret, unixSocketPath } from '@netaccel/config';
import type { ConfigOf } from '@netaccel/config';

const family = z.enum(['ipv4-unicast', 'ipv6-unicast']);

const bfd = z.strictObject({
  enabled: z.boolean().default(true),
  minTx: duration({ min: 1, max: 60_000 }).default(300), // ms, Desired Min TX Interval
  minRx: duration({ min: 1, max: 60_000 }).default(300), // ms, Required Min RX Interval
  multiplier: z.int().min(1).max(255).default(3),
});

const peer = z.strictObject({
  address: ipAddress(),
  remoteAs: z.int().min(1).max(4_294_967_295),
  localAs: z.int().min(1).max(4_294_967_295).optional(), // default: bgp.localAs
  port: port().default(179),
  localAddress: ipAddress().optional(),
  holdTime: holdTime().optional(), // s; default: bgp.holdTime
  passive: z.boolean().default(false),
  /** eBGP multihop: IP TTL of the session's packets. */
  ttl: z.int().min(1).max(255).optional(),
  password: secret(z.string().min(1).max(80)).optional(),
  families: z.array(family).min(1).optional(), // default: bgp.families
  addPath: z.boolean().default(false), // advertise add-path send
  bfd: bfd.optional(),
  description: z.string().max(200).default(''),
}).superRefine((p, ctx) => {
  if (p.localAddress !== undefined && isIPv6(p.localAddress) !== isIPv6(p.address)) {
    ctx.addIssue({ code: 'custom', path: ['localAddress'], message: `expected an IPv${isIPv6(p.address) ? 6 : 4} address like the peer's`, input: p.localAddress });
  }
});

const uniquePeers = (peers: readonly { address: string }[], ctx: z.RefinementCtx): void => {
  const seen = new Map<string, number>();
  peers.forEach((p, i) => {
    let key = p.address;
    try {
      key = canonicalIp(p.address);
    } catch {
      return;
    }
    const j = seen.get(key);
    if (j !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'address'], message: `expected one entry per peer, ${key} is already bgp.peers[${j}]`, input: p.address });
    seen.set(key, i);
  });
};

export const route = z.strictObject({
  prefix: cidr(),
  nextHop: ipAddress().optional(), // default: the session's local address (next-hop-self)
  med: z.int().min(0).max(4_294_967_295).optional(),
  localPref: z.int().min(0).max(4_294_967_295).optional(),
  communities: z
    .array(z.string().refine((c) => /^\d{1,5}:\d{1,5}$/.test(c) && c.split(':').every((x) => Number(x) <= 0xffff), 'expected ASN:VALUE, each 0..65535'))
    .default([]),
  largeCommunities: z
    .array(z.string().refine((c) => /^\d{1,10}:\d{1,10}:\d{1,10}$/.test(c) && c.split(':').every((x) => Number(x) <= 0xffffffff), 'expected GLOBAL:LOCAL1:LOCAL2, each 0..4294967295'))
    .default([]),
});

export const bgpAnnouncerConfig = defineConfig({
  app: 'bgp-announcer',
  schema: z.strictObject({
    logLevel: logLevel(),
    bgp: z.strictObject({
      localAs: z.int().min(1).max(4_294_967_295),
      routerId: ipv4(),
      listen: z.array(listenAddress()),
      holdTime: holdTime(),
      connectRetry: duration({ min: 100 }),
      idleHold: duration({ min: 0 }),
      families: z.array(family).min(1),
      /** UPDATE messages per second and peer (token bucket); 0: no limit. */
      updateRate: z.int().min(0),
      updateBurst: z.int().min(1),
      nextHop: z.strictObject({ ipv4: ipv4().optional(), ipv6: ipv6().optional() }),
      gracefulRestart: z.strictObject({ enabled: z.boolean(), restartTime: z.int().min(1).max(4095) }),
      peers: z.array(peer).superRefine(uniquePeers),
      announce: z.array(route),
    }),
    telemetry: z.strictObject({ listen: listenAddress() }),
    grpc: z.strictObject({ socket: unixSocketPath() }),
  }),
  defaults: {
    logLevel: 'info',
    bgp: {
      listen: ['[::]:179'],
      holdTime: 90, // s
      connectRetry: '30s', // 30 s, RFC 4271 suggests 120 s
      idleHold: '1s', // 1 s before AutomaticStart after a session failed
      families: ['ipv4-unicast', 'ipv6-unicast'],
      updateRate: 0, // no limit
      updateBurst: 100, // messages
      nextHop: {},
      gracefulRestart: { enabled: false, restartTime: 120 }, // s
      peers: [],
      announce: [],
    },
    telemetry: { listen: '127.0.0.1:9179' },
    grpc: { socket: '/run/netaccel/bgp-announcer.sock' },
  },
});

export type BgpAnnouncerConfig = ConfigOf<typeof bgpAnnouncerConfig>;
export type PeerConfig = BgpAnnouncerConfig['bgp']['peers'][number];
export type RouteConfig = BgpAnnouncerConfig['bgp']['announce'][number];
