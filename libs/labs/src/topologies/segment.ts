/**
 * One switched segment: a bridge in a node of its own (the switch) with one veth per member,
 * the member's end `eth0` carrying its addresses, the switch's end a bridge port. The thesis
 * lab and the xlb benchmark are both built on it; a scenario adds its nodes' sysctls, routes and
 * loopback addresses around it.
 */
import type { AddrList, BridgeSpec, LinkSpec } from '@netaccel/netlab';

/** Sysctls of a DSR backend: the VIPs sit on its lo, so it must never answer ARP for them. */
export const ARP_HIDDEN = Object.freeze({ 'net.ipv4.conf.all.arp_ignore': 1, 'net.ipv4.conf.all.arp_announce': 2 });

/** Sysctls that let a node take packets addressed to a VIP on lo from any interface. */
export const NO_RP_FILTER = Object.freeze({ 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 });

export interface SegmentMember {
  readonly node: string;
  /** The addresses of the member's eth0 (with prefix lengths). */
  readonly addr: AddrList;
  /** The switch's port facing the member (default `p<node>`). */
  readonly port?: string;
}

export interface SegmentOptions {
  /** The node holding the bridge (default `sw`). */
  readonly switchNode?: string;
  /** The bridge's name (default `br0`). */
  readonly bridge?: string;
  readonly members: readonly SegmentMember[];
}

/** The switch's port facing a node when none is named: `p<node>`. */
export const switchPort = (node: string): string => `p${node}`;

/** The links and the bridge of one switched segment (the switch node itself is the caller's). */
export function switchedSegment(o: SegmentOptions): { links: LinkSpec[]; bridges: BridgeSpec[] } {
  const sw = o.switchNode ?? 'sw';
  const ports = o.members.map((m) => m.port ?? switchPort(m.node));
  return {
    links: o.members.map((m, i) => ({ a: `${m.node}:eth0`, b: `${sw}:${ports[i]!}`, aAddr: m.addr })),
    bridges: [{ node: sw, name: o.bridge ?? 'br0', ports }],
  };
}
