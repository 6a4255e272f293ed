/**
 * The topology of the xlb benchmark's packet-rate and end-to-end sections:
 *
 *   client ─eth0── p0 ┐
 *   lb     ─eth0── p1 ├─ br0 (node sw: one L2 segment, 10.10.0.0/24)
 *   be1    ─eth0── p2 │
 *   be2    ─eth0── p3 ┘
 *
 * The balancer is one-armed, as xlb is built to be (every mode leaves with XDP_TX): requests
 * come in on lb:eth0 and leave through it to the backends' MACs. The client plays the upstream
 * router: it routes the VIPs (10.100.0.0/24) via the balancer. DSR replies go straight from the
 * backends to the client; NAT replies come back to the NAT source (10.99.0.1) via the balancer.
 * sw:p1 needs an XDP program for the balancer's XDP_TX to land (veth.ts).
 */
import type { LabSpec } from '@netaccel/netlab';
import { ARP_HIDDEN, switchedSegment } from './segment.js';

export const XLB_BENCH_NET = Object.freeze({
  lb: '10.10.0.1',
  client: '10.10.0.2',
  backends: ['10.10.0.11', '10.10.0.12'] as const,
  natSource: '10.99.0.1',
  prefixLen: 24,
});

/** Destinations the client sends to; all routed via the balancer. */
export const XLB_BENCH_VIP = Object.freeze({
  'l2-dsr': '10.100.0.1',
  ipip: '10.100.0.2',
  gue: '10.100.0.3',
  nat: '10.100.0.4',
  dnat: '10.100.0.5', // iptables DNAT on the balancer (the kube-proxy baseline)
  nginx: '10.100.0.6', // nginx stream proxy on the balancer
  ceiling: '10.100.0.9', // plain ECMP route on the balancer to both backends, no translation
});

export const XLB_BENCH_BACKENDS = ['be1', 'be2'] as const;
export type XlbBenchBackend = (typeof XLB_BENCH_BACKENDS)[number];
/** sw's port facing each node. */
export const XLB_BENCH_PORT = Object.freeze({ client: 'p0', lb: 'p1', be1: 'p2', be2: 'p3' });

const SYSCTL_NO_REDIRECTS = {
  'net.ipv4.conf.all.send_redirects': 0,
  'net.ipv4.conf.eth0.send_redirects': 0,
  'net.ipv4.conf.all.accept_redirects': 0,
  'net.ipv4.conf.eth0.accept_redirects': 0,
  'net.ipv4.conf.all.rp_filter': 0,
  'net.ipv4.conf.eth0.rp_filter': 0,
};

/**
 * The lab. `e2e` adds what the HTTP section needs: the DSR VIPs and the ceiling address on the
 * backends' loopback (ARP hidden: arp_ignore=1, arp_announce=2), the balancer's ECMP route for
 * the ceiling, and the nginx VIP on the balancer.
 */
export function xlbBenchTopology(kind: 'rate' | 'e2e'): LabSpec {
  const NET = XLB_BENCH_NET;
  const VIP = XLB_BENCH_VIP;
  const dsrVips = [VIP['l2-dsr'], VIP.ipip, VIP.gue, VIP.ceiling].map((a) => `${a}/32`);
  const backend = {
    ...(kind === 'e2e' ? { addrs: { lo: dsrVips } } : {}),
    sysctls: { ...SYSCTL_NO_REDIRECTS, ...ARP_HIDDEN },
    routes: [{ to: `${NET.natSource}/32`, via: NET.lb }],
  };
  const addr = (a: string): string => `${a}/${NET.prefixLen}`;
  return {
    name: `xlb-bench-${kind}`,
    nodes: {
      client: { sysctls: SYSCTL_NO_REDIRECTS, routes: [{ to: '10.100.0.0/24', via: NET.lb }] },
      // the switch: bridged frames skip iptables (br_netfilter is built in on these kernels)
      sw: { sysctls: { 'net.bridge.bridge-nf-call-iptables': 0, 'net.bridge.bridge-nf-call-ip6tables': 0, 'net.bridge.bridge-nf-call-arptables': 0 } },
      lb: {
        forwarding: true,
        sysctls: { ...SYSCTL_NO_REDIRECTS, 'net.ipv4.fib_multipath_hash_policy': 1 },
        ...(kind === 'e2e' ? { addrs: { lo: [`${VIP.nginx}/32`] } } : {}),
        routes: [{ to: `${VIP.ceiling}/32`, nexthops: NET.backends.map((via) => ({ via })) }],
      },
      be1: backend,
      be2: backend,
    },
    ...switchedSegment({
      members: [
        { node: 'client', addr: addr(NET.client), port: XLB_BENCH_PORT.client },
        { node: 'lb', addr: addr(NET.lb), port: XLB_BENCH_PORT.lb },
        { node: 'be1', addr: addr(NET.backends[0]), port: XLB_BENCH_PORT.be1 },
        { node: 'be2', addr: addr(NET.backends[1]), port: XLB_BENCH_PORT.be2 },
      ],
    }),
  };
}
