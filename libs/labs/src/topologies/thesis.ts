/**
 * The thesis topology: figure 4.12 on one machine. One switched segment (a bridge in the `sw`
 * namespace) joins an upstream router that is also the client, a route reflector, three
 * balancer nodes and six HTTP backends:
 *
 *   router 10.0.0.1   BIRD 2, ECMP in the kernel FIB (fib_multipath_hash_policy=1), wrk
 *   rr     10.0.0.2   gobgpd: dynamic neighbors 10.0.0.8/29 (the balancers), add-path to the router
 *   lb1..3 10.0.0.11-13  ebpf-loader + bgp-announcer + lb-controller, XDP on eth0 (one-armed);
 *                        1 to 4 balancers with `balancers` (lb4 10.0.0.14, in the same /29)
 *   b1..6  10.0.0.21-26  nginx answering its name; the VIPs on lo (L2 DSR)
 *
 * Services (the thesis' table 4.6c, two services on the same balancer nodes):
 *   web 10.1.1.1:80 on lb1, lb2, lb3 → b1 b2 b3 b4
 *   api 10.1.2.1:80 on lb1, lb2      → b3 b4 b5 b6
 *
 * With N balancers (servicesFor): web on all N, api on the first N - 1 (at least one), which is
 * the table above for N = 3.
 *
 * Every BGP speaker is in AS 65000: the balancers are the reflector's clients, the router its
 * ordinary iBGP neighbour that receives every path (add-path) and installs them as one multipath
 * route. Backends answer the router directly (direct server return).
 */
import type { LabSpec, NodeSpec } from '@netaccel/netlab';
import { NA_ERR_LAB_BALANCERS } from '../errors.js';
import { ARP_HIDDEN, NO_RP_FILTER, switchPort, switchedSegment } from './segment.js';

export const AS = 65000;
export const ROUTER_ADDR = '10.0.0.1';
export const RR_ADDR = '10.0.0.2';
/** The balancers' block, the reflector's dynamic-neighbor range. */
export const BALANCER_RANGE = '10.0.0.8/29';
/** Every balancer a lab can have (`--balancers 1..4`), in order. */
export const ALL_BALANCERS = ['lb1', 'lb2', 'lb3', 'lb4'] as const;
export type BalancerName = (typeof ALL_BALANCERS)[number];
/** The thesis' three balancers (the default lab). */
export const DEFAULT_BALANCERS = 3;
export const MAX_BALANCERS = ALL_BALANCERS.length;
export const BALANCERS: readonly BalancerName[] = ALL_BALANCERS.slice(0, DEFAULT_BALANCERS);
export const BACKENDS = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'] as const;
export type BackendName = (typeof BACKENDS)[number];

export const balancerAddr = (lb: BalancerName): string => `10.0.0.${11 + ALL_BALANCERS.indexOf(lb)}`;
/** NAT mode: each balancer's NAT source addresses (on its lo; it answers ARP for them). */
export const NAT_SOURCE_COUNT = 4;
export const natSourceAddr = (lb: BalancerName, i = 0): string => `10.0.0.${101 + 10 * ALL_BALANCERS.indexOf(lb) + i}`;
export const backendAddr = (b: BackendName): string => `10.0.0.${21 + BACKENDS.indexOf(b)}`;

export interface ServiceDef {
  readonly name: string;
  readonly vip: string;
  readonly port: number;
  readonly balancers: readonly BalancerName[];
  readonly backends: readonly BackendName[];
}

/** The first `n` balancers (1 to MAX_BALANCERS; the caller checks the range: isBalancerCount). */
export function balancersOf(n: number = DEFAULT_BALANCERS): BalancerName[] {
  if (!isBalancerCount(n)) throw NA_ERR_LAB_BALANCERS(String(MAX_BALANCERS), String(n));
  return ALL_BALANCERS.slice(0, n);
}

export const isBalancerCount = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= MAX_BALANCERS;

/** The services of a lab of `n` balancers: web on all of them, api on the first n - 1 (at least one). */
export function servicesFor(n: number = DEFAULT_BALANCERS): ServiceDef[] {
  const lbs = balancersOf(n);
  return [
    { name: 'web', vip: '10.1.1.1', port: 80, balancers: lbs, backends: ['b1', 'b2', 'b3', 'b4'] },
    { name: 'api', vip: '10.1.2.1', port: 80, balancers: lbs.slice(0, Math.max(1, n - 1)), backends: ['b3', 'b4', 'b5', 'b6'] },
  ];
}

export const SERVICES: readonly ServiceDef[] = servicesFor(DEFAULT_BALANCERS);

/**
 * How the balancers forward: L2 DSR (the default; backends hold the VIPs on lo and answer the
 * client directly) or NAT (backends untouched; replies come back through the balancer that
 * translated the flow).
 */
export type LabMode = 'l2dsr' | 'nat';
export const LAB_MODES: readonly LabMode[] = ['l2dsr', 'nat'];

export { switchPort };

export function thesisTopology(mode: LabMode = 'l2dsr', balancers: number = DEFAULT_BALANCERS): LabSpec {
  const lbs = balancersOf(balancers);
  const vips = SERVICES.map((s) => `${s.vip}/32`);
  const nodes: Record<string, NodeSpec> = {
    sw: {},
    router: {
      forwarding: true,
      // L4 hash: the flows of one client spread over the balancers
      sysctls: { 'net.ipv4.fib_multipath_hash_policy': 1 },
    },
    rr: {},
  };
  for (const lb of lbs) nodes[lb] = mode === 'nat' ? { addrs: { lo: Array.from({ length: NAT_SOURCE_COUNT }, (_, i) => `${natSourceAddr(lb, i)}/32`) } } : {};
  for (const b of BACKENDS) {
    // L2 DSR: the VIPs on lo, never answered in ARP; NAT: nothing on the backends
    nodes[b] = mode === 'l2dsr' ? { addrs: { lo: vips }, sysctls: { ...ARP_HIDDEN, ...NO_RP_FILTER } } : {};
  }
  const members: [string, string][] = [
    ['router', ROUTER_ADDR],
    ['rr', RR_ADDR],
    ...lbs.map((lb): [string, string] => [lb, balancerAddr(lb)]),
    ...BACKENDS.map((b): [string, string] => [b, backendAddr(b)]),
  ];
  return { name: 'netaccel-lab', nodes, ...switchedSegment({ members: members.map(([node, addr]) => ({ node, addr: `${addr}/24` })) }) };
}
