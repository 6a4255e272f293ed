/**
 * Katran-style fixtures of the xlb XDP program: { description, input, expectedVerdict,
 * expectedOutput } run through BPF_PROG_TEST_RUN against xlbWorld() (test-world.ts). The BPF
 * test runs them once each and checks drop_stats; the benchmark runs them for timing.
 *
 * Expected packets are built from scratch with @netaccel/protocol (checksums computed over the
 * whole packet, not by the program's incremental updates); outer sources, GUE ports and NAT
 * ports come from flow-hash.ts, the TypeScript twin of the data plane's hashing. Fixtures are
 * independent of each other and of their order: each flow is used once, NAT flows get the
 * first candidate port of a fresh nat_rev, and a repeated fixture hits its own connection
 * entry and gives the same output.
 */
import {
  buildPacket,
  gueEncap,
  icmpFragNeeded,
  icmpv6PacketTooBig,
  ipFamily,
  ipipEncap,
  tcp,
  tcpSyn,
  TCP_FLAGS,
  udp,
  updateLayer,
} from '@netaccel/protocol';
import type { Packet } from '@netaccel/protocol';
import type { FlowKey } from './codec.js';
import type { XlbDropName } from './drop-reasons.js';
import { encapSource, flowHash, gueSourcePort, natPortCandidates, srcHash } from './flow-hash.js';
import { CLIENT, MAC, NAT_SOURCE, clientFlow, worldBackend, worldVip } from './test-world.js';
import type { TestVip, XlbWorld } from './test-world.js';

/** XDP verdicts (enum xdp_action). */
export const XDP_VERDICT = Object.freeze({ ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const);
export type XdpVerdictName = keyof typeof XDP_VERDICT;

export interface XlbFixture {
  readonly description: string;
  readonly input: Buffer;
  readonly expectedVerdict: XdpVerdictName;
  /** The frame as the program leaves it: the input unless it was rewritten. */
  readonly expectedOutput: Buffer;
  /** The drop_stats entry the packet is counted in, if any. */
  readonly expectedReason?: XlbDropName;
  /** The output is a rewritten packet whose checksums must all verify. */
  readonly checkChecksums: boolean;
  /** The packet starts a connection-table entry (forwarded, and not an ICMP error). */
  readonly createsFlow: boolean;
}

const FROM_ROUTER = Object.freeze({ eth: { src: MAC.router, dst: MAC.lb } });

function bytes(p: Packet): Buffer {
  return Buffer.from(buildPacket(p));
}

function familyOf(v: TestVip): 4 | 6 {
  return ipFamily(v.key.address) === 6 ? 6 : 4;
}

/** A client's SYN to a test VIP. */
function syn(v: TestVip, sport: number, extra: { vlan?: number | number[]; dport?: number } = {}): { flow: FlowKey; packet: Packet } {
  const flow = clientFlow(v, sport, familyOf(v), extra.dport ?? v.key.port);
  const spec = { src: flow.src, dst: flow.dst, sport, dport: flow.dport, ...FROM_ROUTER };
  return { flow, packet: tcpSyn(extra.vlan === undefined ? spec : { ...spec, vlan: extra.vlan }) };
}

/** The backend's packet of a flow (VIP -> client), as an ICMP error would quote it. */
function serverPacket(flow: FlowKey): Packet {
  return tcp({ src: flow.dst, dst: flow.src, sport: flow.dport, dport: flow.sport, flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK, eth: { src: MAC.lb, dst: MAC.router } });
}

function icmpError(flow: FlowKey): Packet {
  const quoted = serverPacket(flow);
  return ipFamily(flow.src) === 6
    ? icmpv6PacketTooBig(quoted, { from: '2001:db8:ff::1', mtu: 1280, ...FROM_ROUTER })
    : icmpFragNeeded(quoted, { from: '198.51.100.1', mtu: 1400, ...FROM_ROUTER });
}

/**
 * The ICMP error `p` with another type and code (its checksum recomputed). By hand: the
 * builders leave derived fields out, and updateLayer's patch type is `never` for the shared
 * 'icmp' | 'icmpv6' layer type.
 */
function retyped(p: Packet, icmpType: number, code: number): Packet {
  return { ...p, layers: p.layers.map((l) => (l.type === 'icmp' || l.type === 'icmpv6' ? { ...l, icmpType, code, rest: 0 } : l)) };
}

/** Expected outputs by mode. `p` is what the client sent; `flow` its client flow. */
export const expect = Object.freeze({
  l2(p: Packet, backendIndex: number): Packet {
    return updateLayer(p, 'eth', { src: MAC.lb, dst: MAC.backend(backendIndex) });
  },
  encap(world: XlbWorld, p: Packet, flow: FlowKey, backendIndex: number, kind: 'ipip' | 'gue'): Packet {
    const be = worldBackend(world, backendIndex);
    const outerFamily = ipFamily(be.address) === 6 ? 6 : 4;
    const h = flowHash(flow);
    const inner = updateLayer(p, 'eth', { src: MAC.lb, dst: MAC.nexthop });
    const src = encapSource(h, outerFamily);
    if (kind === 'ipip') return ipipEncap(inner, src, be.address);
    return gueEncap(inner, { src, dst: be.address, sport: gueSourcePort(h), udpChecksum: outerFamily === 6 });
  },
  nat(world: XlbWorld, p: Packet, flow: FlowKey, backendIndex: number): Packet {
    const be = worldBackend(world, backendIndex);
    const v6 = ipFamily(flow.src) === 6;
    let out = updateLayer(p, 'eth', { src: MAC.lb, dst: MAC.backend(backendIndex) });
    out = updateLayer(out, v6 ? 'ipv6' : 'ipv4', { src: v6 ? NAT_SOURCE.v6 : NAT_SOURCE.v4, dst: be.address });
    const l4 = { sport: natPortCandidates(flow)[0]!, dport: be.port || flow.dport };
    return updateLayer(out, flow.protocol === 6 ? 'tcp' : 'udp', l4);
  },
});

function tx(description: string, input: Packet, output: Packet, createsFlow = true): XlbFixture {
  return { description, input: bytes(input), expectedVerdict: 'TX', expectedOutput: bytes(output), checkChecksums: true, createsFlow };
}

/** An ICMP error forwarded along its flow: uses the flow's entry, creates none. */
function txError(description: string, input: Packet, output: Packet): XlbFixture {
  return tx(description, input, output, false);
}

function unchanged(description: string, input: Buffer, verdict: XdpVerdictName, reason?: XlbDropName): XlbFixture {
  const f = { description, input, expectedVerdict: verdict, expectedOutput: input, checkChecksums: false, createsFlow: false };
  return reason === undefined ? f : { ...f, expectedReason: reason };
}

/** Forwarding: a SYN (and a few other packets) to a VIP of each mode and family. */
function forwarding(w: XlbWorld): XlbFixture[] {
  const out: XlbFixture[] = [];
  const v = (name: string) => worldVip(w, name);
  const be = (name: string) => v(name).table[0]!;

  for (const name of ['l2-v4', 'l2-v6']) {
    const s = syn(v(name), 40001);
    out.push(tx(`L2 DSR IPv${familyOf(v(name))}: a SYN gets the backend's MAC`, s.packet, expect.l2(s.packet, be(name))));
  }
  for (const [name, kind] of [['ipip-v4', 'ipip'], ['ipip-v6', 'ipip'], ['gue-v4', 'gue'], ['gue-v6', 'gue'], ['ipip-4in6', 'ipip'], ['gue-6in4', 'gue']] as const) {
    const s = syn(v(name), 40002);
    out.push(tx(`${kind.toUpperCase()} ${name}: a SYN is encapsulated to the backend`, s.packet, expect.encap(w, s.packet, s.flow, be(name), kind)));
  }
  for (const name of ['nat-v4', 'nat-v6']) {
    const s = syn(v(name), 40003);
    out.push(tx(`NAT IPv${familyOf(v(name))}: a SYN goes to backend:port from the NAT address`, s.packet, expect.nat(w, s.packet, s.flow, be(name))));
  }
  {
    const f = clientFlow(v('nat-udp-v4'), 40004, 4);
    const p = udp({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, payload: 'query', ...FROM_ROUTER });
    out.push(tx('NAT UDP IPv4 to a backend without port: the VIP port is kept, the UDP checksum updated', p, expect.nat(w, p, f, be('nat-udp-v4'))));
  }
  {
    const f = clientFlow(v('gue-udp-v6'), 40005, 6);
    const p = udp({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, payload: 'datagram', ...FROM_ROUTER });
    out.push(tx('GUE IPv6: a UDP datagram gets an outer UDP checksum derived from its own', p, expect.encap(w, p, f, be('gue-udp-v6'), 'gue')));
  }
  {
    const s = syn(v('l2-v4'), 40006, { vlan: 100 });
    out.push(tx('L2 DSR behind an 802.1Q tag: the tag stays', s.packet, expect.l2(s.packet, be('l2-v4'))));
    const q = syn(v('ipip-v4'), 40006, { vlan: [100, 200] });
    out.push(tx('IPIP behind 802.1ad + 802.1Q tags: the tags move in front of the outer header', q.packet, expect.encap(w, q.packet, q.flow, be('ipip-v4'), 'ipip')));
    const g = syn(v('gue-v6'), 40006, { vlan: 7 });
    out.push(tx('GUE IPv6 behind an 802.1Q tag', g.packet, expect.encap(w, g.packet, g.flow, be('gue-v6'), 'gue')));
  }
  {
    const s = syn(v('l2-v6'), 40007);
    const withExt = { ...s.packet, layers: [s.packet.layers[0]!, s.packet.layers[1]!, { type: 'ipv6-hbh' as const }, { type: 'ipv6-dstopts' as const }, s.packet.layers[2]!] };
    out.push(tx('IPv6 with hop-by-hop and destination options headers reaches its VIP', withExt, expect.l2(withExt, be('l2-v6'))));
    const o = syn(v('ipip-v4'), 40007);
    const withOpts = updateLayer(o.packet, 'ipv4', { options: Uint8Array.from([1, 1, 1, 0]) });
    out.push(tx('IPv4 with options is encapsulated whole', withOpts, expect.encap(w, withOpts, o.flow, be('ipip-v4'), 'ipip')));
  }
  {
    const s = syn(v('wildcard-v4'), 40008, { dport: 443 });
    out.push(tx('port-wildcard VIP: any port of the address', s.packet, expect.l2(s.packet, be('wildcard-v4'))));
    const e = syn(v('exact-over-wildcard-v4'), 40008);
    out.push(tx('an exact-port VIP wins over the wildcard of its address', e.packet, expect.l2(e.packet, be('exact-over-wildcard-v4'))));
  }
  {
    const sv = v('src-hash-v4');
    for (const sport of [1000, 2000]) {
      const f = clientFlow(sv, sport, 4);
      const p = udp({ src: f.src, dst: f.dst, sport, dport: f.dport, payload: 'q', ...FROM_ROUTER });
      const backend = sv.table[srcHash(f) % sv.meta.tableSize]!;
      out.push(tx(`source-only hash: source port ${sport} goes to the source address's backend ${backend}`, p, expect.l2(p, backend)));
    }
  }
  return out;
}

/** ICMP errors quoting a VIP flow follow the flow. */
function icmpErrors(w: XlbWorld): XlbFixture[] {
  const v = (name: string) => worldVip(w, name);
  const out: XlbFixture[] = [];
  {
    const f = clientFlow(v('ipip-v4'), 41001, 4);
    const p = icmpError(f);
    out.push(txError('ICMP fragmentation needed quoting an IPIP VIP flow is encapsulated to its backend', p, expect.encap(w, p, f, v('ipip-v4').table[0]!, 'ipip')));
  }
  {
    const f = clientFlow(v('l2-v4'), 41002, 4);
    const p = icmpError(f);
    out.push(txError('ICMP fragmentation needed quoting an L2 DSR VIP flow goes to its backend', p, expect.l2(p, v('l2-v4').table[0]!)));
  }
  {
    const f = clientFlow(v('l2-v6'), 41003, 6);
    const p = icmpError(f);
    out.push(txError('ICMPv6 packet too big quoting an L2 DSR VIP flow goes to its backend', p, expect.l2(p, v('l2-v6').table[0]!)));
  }
  {
    const f = clientFlow(v('gue-v6'), 41004, 6);
    const p = icmpError(f);
    out.push(txError('ICMPv6 packet too big quoting a GUE VIP flow is encapsulated (outer checksum from the ICMPv6 one)', p, expect.encap(w, p, f, v('gue-v6').table[0]!, 'gue')));
  }
  {
    const f = clientFlow(v('l2-v4'), 41006, 4);
    const p = retyped(icmpError(f), 11, 0);
    out.push(txError('ICMP time exceeded quoting an L2 DSR VIP flow goes to its backend', p, expect.l2(p, v('l2-v4').table[0]!)));
    const f6 = clientFlow(v('ipip-v6'), 41007, 6);
    const p6 = retyped(icmpError(f6), 1, 4);
    out.push(txError('ICMPv6 destination unreachable (port) quoting an IPIP VIP flow is encapsulated to its backend', p6, expect.encap(w, p6, f6, v('ipip-v6').table[0]!, 'ipip')));
  }
  {
    const f: FlowKey = { src: CLIENT.v4, dst: '10.9.9.9', sport: 41005, dport: 80, protocol: 6 };
    out.push(unchanged('ICMP fragmentation needed quoting a flow of no VIP passes', bytes(icmpError(f)), 'PASS'));
    const n = clientFlow(v('nat-v4'), 41005, 4);
    out.push(unchanged('an ICMP error quoting a NAT VIP flow without entry passes (nothing to translate by), counted', bytes(icmpError(n)), 'PASS', 'ICMP_NAT'));
  }
  return out;
}

/** Not for a VIP: passes untouched, nothing counted. */
function notMine(w: XlbWorld): XlbFixture[] {
  const l2 = worldVip(w, 'l2-v4');
  const other = tcpSyn({ src: CLIENT.v4, dst: '10.9.9.9', sport: 42001, dport: 80, ...FROM_ROUTER });
  const otherPort = syn(l2, 42002, { dport: 81 }).packet;
  const wrongProto = udp({ src: CLIENT.v4, dst: l2.key.address, sport: 42003, dport: 80, ...FROM_ROUTER });
  const arp = Buffer.concat([Buffer.from('ffffffffffff' + MAC.router.replaceAll(':', '') + '0806', 'hex'), Buffer.alloc(28)]);
  const echo: Packet = {
    layers: [{ type: 'eth', ...FROM_ROUTER.eth }, { type: 'ipv4', src: CLIENT.v4, dst: l2.key.address }, { type: 'icmp', icmpType: 8, code: 0, rest: 0x42420001 }],
    payload: Buffer.from('ping'),
  };
  const deepVlan = syn(l2, 42004, { vlan: [1, 2, 3] }).packet;
  return [
    unchanged('a SYN to an address that is no VIP passes', bytes(other), 'PASS'),
    unchanged('a SYN to a VIP address on a port that is no VIP passes', bytes(otherPort), 'PASS'),
    unchanged('UDP to a TCP VIP passes', bytes(wrongProto), 'PASS'),
    unchanged('ARP passes', arp, 'PASS'),
    unchanged('an ICMP echo request to a VIP passes', bytes(echo), 'PASS'),
    unchanged('a SYN to a VIP behind 3 VLAN tags (over the parser limit) passes', bytes(deepVlan), 'PASS'),
  ];
}

function patched(p: Packet, patch: (b: Buffer) => void): Buffer {
  const b = bytes(p);
  patch(b);
  return b;
}

/** Malformed and truncated packets pass with their reason counted; fragments to VIPs drop. */
function malformed(w: XlbWorld): XlbFixture[] {
  const l2 = worldVip(w, 'l2-v4');
  const l2v6 = worldVip(w, 'l2-v6');
  const s = syn(l2, 43001).packet;
  const s6 = syn(l2v6, 43002).packet;
  const ip = 14; // IPv4 / IPv6 header offset in an untagged frame
  const laterFragment = (dst: string): Buffer =>
    bytes({ layers: [{ type: 'eth', ...FROM_ROUTER.eth }, { type: 'ipv4', src: CLIENT.v4, dst, protocol: 6, fragOffset: 185 }], payload: Buffer.alloc(64, 0xab) });
  const extChain: Packet = { ...s6, layers: [s6.layers[0]!, s6.layers[1]!, ...Array.from({ length: 5 }, () => ({ type: 'ipv6-dstopts' as const })), s6.layers[2]!] };
  const frag6: Packet = { ...s6, layers: [s6.layers[0]!, s6.layers[1]!, { type: 'ipv6-frag', mf: true, id: 7 }, s6.layers[2]!] };
  const shortTcp = patched(s, (b) => b.writeUInt16BE(30, ip + 2)).subarray(0, ip + 30);
  return [
    unchanged('a frame of only an Ethernet header (IPv4 EtherType) passes, truncated', bytes(s).subarray(0, 14), 'PASS', 'TRUNCATED'),
    unchanged('a cut IPv4 header passes, truncated', bytes(s).subarray(0, ip + 10), 'PASS', 'TRUNCATED'),
    unchanged('IPv4 IHL 4 passes, bad IHL', patched(s, (b) => { b[ip] = 0x44; }), 'PASS', 'BAD_IHL'),
    unchanged('version 6 under the IPv4 EtherType passes, bad IHL', patched(s, (b) => { b[ip] = 0x65; }), 'PASS', 'BAD_IHL'),
    unchanged('IPv4 total length beyond the frame passes, bad length', patched(s, (b) => b.writeUInt16BE(b.readUInt16BE(ip + 2) + 100, ip + 2)), 'PASS', 'BAD_LEN'),
    unchanged('IPv4 total length below the header passes, bad length', patched(s, (b) => b.writeUInt16BE(10, ip + 2)), 'PASS', 'BAD_LEN'),
    unchanged('IPv6 payload length beyond the frame passes, bad length', patched(s6, (b) => b.writeUInt16BE(b.readUInt16BE(ip + 4) + 8, ip + 4)), 'PASS', 'BAD_LEN'),
    unchanged('a TCP header cut by the IP length passes, truncated', shortTcp, 'PASS', 'TRUNCATED'),
    unchanged('5 IPv6 extension headers (over XLB_MAX_IPV6_EXT) pass, extension chain', bytes(extChain), 'PASS', 'EXT_CHAIN'),
    unchanged('the first IPv4 fragment of a SYN to a VIP is dropped', bytes(updateLayer(s, 'ipv4', { mf: true, id: 9 })), 'DROP', 'FRAGMENT'),
    unchanged('a later IPv4 fragment to a port-wildcard VIP is dropped', laterFragment(worldVip(w, 'wildcard-v4').key.address), 'DROP', 'FRAGMENT'),
    unchanged('a later IPv4 fragment to an exact-port VIP address passes (its port is unknown)', laterFragment(l2.key.address), 'PASS'),
    unchanged('an IPv4 fragment to no VIP passes', laterFragment('10.9.9.9'), 'PASS'),
    unchanged('the first IPv6 fragment of a SYN to a VIP is dropped', bytes(frag6), 'DROP', 'FRAGMENT'),
  ];
}

/** Every fixture for `world` (xlbWorld()). */
export function xlbFixtures(world: XlbWorld): readonly XlbFixture[] {
  return [...forwarding(world), ...icmpErrors(world), ...notMine(world), ...malformed(world)];
}
