/**
 * The BGP interop topology: a router with a point-to-point link to each of three announcers,
 * dual stack, and optionally a route reflector that every announcer reaches through the router.
 *
 *   router ── lb1, lb2, lb3   10.1.i.0/24, fd10:i::/64 (router .1 / ::1, announcer .2 / ::2)
 *   router ── rr              10.1.9.0/24 (with `rr`)
 *
 * The router hashes on L4 for IPv4 and IPv6, so the flows of one client spread over ECMP paths.
 */
import { createLab } from '@netaccel/netlab';
import type { Lab, LabSpec, LinkSpec, NodeSpec } from '@netaccel/netlab';

export const ROUTER_AS = 65000;
export const LB_AS = 65001;
export const RR_AS = 65000;
export const LBS = ['lb1', 'lb2', 'lb3'] as const;
export type LbName = (typeof LBS)[number];

/** Index 1..3 of an announcer. */
export function lbIndex(lb: LbName): number {
  return LBS.indexOf(lb) + 1;
}
export function lbAddr(lb: LbName, family: 4 | 6 = 4): string {
  return family === 4 ? `10.1.${lbIndex(lb)}.2` : `fd10:${lbIndex(lb)}::2`;
}
export function routerAddr(lb: LbName, family: 4 | 6 = 4): string {
  return family === 4 ? `10.1.${lbIndex(lb)}.1` : `fd10:${lbIndex(lb)}::1`;
}

/** router ── lb1, lb2, lb3, and with `rr` a route reflector on 10.1.9.0/24. */
export function routerStarTopology(name: string, opts: { rr?: boolean } = {}): LabSpec {
  const nodes: Record<string, NodeSpec> = {
    router: { forwarding: true, sysctls: { 'net.ipv4.fib_multipath_hash_policy': 1, 'net.ipv6.fib_multipath_hash_policy': 1 } },
  };
  const links: LinkSpec[] = LBS.map((lb) => {
    const i = lbIndex(lb);
    nodes[lb] = opts.rr === true ? { routes: [{ to: '10.1.9.0/24', via: `10.1.${i}.1` }] } : {};
    return { a: `router:eth${i}`, b: `${lb}:eth0`, aAddr: [`10.1.${i}.1/24`, `fd10:${i}::1/64`], bAddr: [`10.1.${i}.2/24`, `fd10:${i}::2/64`] };
  });
  if (opts.rr === true) {
    nodes.rr = { routes: [{ to: '10.1.0.0/16', via: '10.1.9.1' }] };
    links.push({ a: 'router:eth9', b: 'rr:eth0', aAddr: '10.1.9.1/24', bAddr: '10.1.9.2/24' });
  }
  return { name, nodes, links };
}

/** A lab of the topology (not up yet): 1 s for processes to stop, 20 s to become ready. */
export function routerStarLab(name: string, opts: { rr?: boolean } = {}): Lab {
  return createLab(routerStarTopology(name, opts), { killGraceMs: 1000, readyTimeoutMs: 20_000 });
}
