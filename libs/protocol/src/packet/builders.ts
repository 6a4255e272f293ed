/**
 * Convenience builders for test fixtures and benchmarks: whole packets from a flow description,
 * ICMP errors quoting a packet, and IPIP / GUE encapsulation of a packet. They return Packet
 * models (derived fields left out) to adjust further or pass to buildPacket.
 */
import { NA_ERR_PACKET_INVALID_SPEC } from '../errors.js';
import { ipFamily } from '../ip/address.js';
import { buildPacket } from './build.js';
import { GUE_DEFAULT_PORT } from './gue.js';
import { ICMP, ICMPV6 } from './icmp.js';
import type { EthernetLayer, GueLayer, Ipv4Layer, Ipv6Layer, Layer, Packet, TcpLayer, VlanLayer } from './model.js';
import { ETHERTYPE, stripLayer, TCP_FLAGS } from './model.js';
import { inspectPacket } from './parse.js';
import { tcpOptions } from './tcp.js';
import { copyBytes, specUint } from './wire.js';

/** MACs used when a builder is given none (locally administered). */
export const DEFAULT_SRC_MAC = '02:00:00:00:00:01';
export const DEFAULT_DST_MAC = '02:00:00:00:00:02';

/** A packet's link layer: Ethernet MACs (false: a bare IP packet) and VLAN ids. */
export interface L2Spec {
  eth?: { src?: string; dst?: string } | false;
  /** VLAN ids, outermost first; with two or more tags the outer ones are 802.1ad S-tags (0x88a8). */
  vlan?: number | readonly number[];
}

export interface FlowSpec extends L2Spec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** IPv4 TTL or IPv6 hop limit; default 64. */
  ttl?: number;
  /** Bytes, or text sent as UTF-8. */
  payload?: Uint8Array | string;
}

function l2Layers(spec: L2Spec): Layer[] {
  if (spec.eth === false) {
    if (spec.vlan !== undefined) throw NA_ERR_PACKET_INVALID_SPEC('vlan', 'VLAN tags need an Ethernet header');
    return [];
  }
  const eth: EthernetLayer = { type: 'eth', src: spec.eth?.src ?? DEFAULT_SRC_MAC, dst: spec.eth?.dst ?? DEFAULT_DST_MAC };
  const vids = spec.vlan === undefined ? [] : typeof spec.vlan === 'number' ? [spec.vlan] : [...spec.vlan];
  const tags = vids.map((vid, i): VlanLayer => {
    const tag: VlanLayer = { type: 'vlan', vid: specUint(vid, 12, `vlan[${i}]`) };
    if (i < vids.length - 1) tag.tpid = ETHERTYPE.QINQ;
    return tag;
  });
  return [eth, ...tags];
}

function familyOf(src: string, dst: string): 4 | 6 {
  const f = ipFamily(src);
  if (f === undefined) throw NA_ERR_PACKET_INVALID_SPEC('src', `expected an IPv4 or IPv6 address, got ${JSON.stringify(src)}`);
  if (ipFamily(dst) !== f) throw NA_ERR_PACKET_INVALID_SPEC('dst', `expected an IPv${f} address like src, got ${JSON.stringify(dst)}`);
  return f;
}

function ipLayer(src: string, dst: string, ttl: number | undefined, df: boolean): Ipv4Layer | Ipv6Layer {
  if (familyOf(src, dst) === 4) return { type: 'ipv4', src, dst, ttl: ttl ?? 64, df };
  return { type: 'ipv6', src, dst, hopLimit: ttl ?? 64 };
}

function payloadBytes(p: Uint8Array | string | undefined): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  return typeof p === 'string' ? new TextEncoder().encode(p) : p;
}

export interface TcpSpec extends FlowSpec {
  /** TCP_FLAGS bits; default ACK. */
  flags?: number;
  seq?: number;
  ack?: number;
  window?: number;
  /** Raw option bytes (see tcpOptions). */
  options?: Uint8Array;
}

/** A TCP segment; IPv4 gets DF set, as Linux sends TCP. */
export function tcp(spec: TcpSpec): Packet {
  const t: TcpLayer = {
    type: 'tcp',
    sport: spec.sport,
    dport: spec.dport,
    seq: spec.seq ?? 0,
    ack: spec.ack ?? 0,
    flags: spec.flags ?? TCP_FLAGS.ACK,
    window: spec.window ?? 64240,
  };
  if (spec.options !== undefined) t.options = spec.options;
  return { layers: [...l2Layers(spec), ipLayer(spec.src, spec.dst, spec.ttl, true), t], payload: payloadBytes(spec.payload) };
}

export interface TcpSynSpec extends Omit<TcpSpec, 'flags' | 'ack'> {
  /** MSS option; default 1460 (IPv4) or 1440 (IPv6). Ignored when `options` is given. */
  mss?: number;
}

/** A TCP SYN with an MSS option, e.g. `tcpSyn({ src: '10.0.0.2', sport: 40000, dst: '10.1.1.1', dport: 80, vlan: 100 })`. */
export function tcpSyn(spec: TcpSynSpec): Packet {
  const mss = spec.mss ?? (familyOf(spec.src, spec.dst) === 4 ? 1460 : 1440);
  return tcp({ ...spec, flags: TCP_FLAGS.SYN, ack: 0, options: spec.options ?? tcpOptions({ mss }) });
}

export interface UdpSpec extends FlowSpec {
  /** Explicit UDP checksum (0: none, IPv4); computed when left out. */
  checksum?: number;
}

/** A UDP datagram. */
export function udp(spec: UdpSpec): Packet {
  const u: Layer = { type: 'udp', sport: spec.sport, dport: spec.dport };
  if (spec.checksum !== undefined) u.checksum = spec.checksum;
  return { layers: [...l2Layers(spec), ipLayer(spec.src, spec.dst, spec.ttl, false), u], payload: payloadBytes(spec.payload) };
}

export interface IcmpErrorSpec {
  /** Source of the ICMP error: the router that sends it. */
  from: string;
  /** Next-hop MTU to report. */
  mtu: number;
  /** Destination; default the source of the quoted packet. */
  to?: string;
  ttl?: number;
  /** Link layer; default: the original's, with MACs swapped and the same VLAN tags. */
  eth?: { src?: string; dst?: string } | false;
  vlan?: number | readonly number[];
  /** How many bytes of the original (from its IP header) to quote. */
  quoteBytes?: number;
}

interface Quoted {
  l2: Layer[];
  src: string;
  quote: Uint8Array;
}

function quoteOriginal(
  original: Packet | Uint8Array,
  ipType: 'ipv4' | 'ipv6',
  spec: IcmpErrorSpec,
  dflt: (hdrLen: number) => number,
): Quoted {
  const bytes = original instanceof Uint8Array ? original : buildPacket(original);
  const { packet, spans } = inspectPacket(bytes, { checksums: false });
  const span = spans.find((s) => s.type === ipType);
  const ip = packet.layers[span?.index ?? -1];
  if (span === undefined || ip === undefined || ip.type !== ipType) {
    throw NA_ERR_PACKET_INVALID_SPEC('original', `expected a packet with an ${ipType === 'ipv4' ? 'IPv4' : 'IPv6'} header`);
  }
  const n = spec.quoteBytes ?? dflt(span.length);
  const quote = copyBytes(bytes, span.offset, Math.min(bytes.length, span.offset + specUint(n, 16, 'quoteBytes')));
  let l2: Layer[];
  if (spec.eth !== undefined || spec.vlan !== undefined) l2 = l2Layers(spec);
  else {
    l2 = packet.layers.slice(0, span.index).map((l) => stripLayer(l));
    const eth = l2[0];
    if (eth?.type === 'eth') l2[0] = { ...eth, src: eth.dst, dst: eth.src };
  }
  return { l2, src: ip.src, quote };
}

/**
 * ICMP destination unreachable / fragmentation needed (type 3 code 4, RFC 1191) with the
 * next-hop MTU, quoting the original IPv4 header and the first 8 bytes after it.
 */
export function icmpFragNeeded(original: Packet | Uint8Array, spec: IcmpErrorSpec): Packet {
  const q = quoteOriginal(original, 'ipv4', spec, (hdrLen) => hdrLen + 8);
  const ip: Ipv4Layer = { type: 'ipv4', src: spec.from, dst: spec.to ?? q.src, ttl: spec.ttl ?? 64 };
  familyOf(ip.src, ip.dst);
  const icmp: Layer = { type: 'icmp', icmpType: ICMP.DEST_UNREACH, code: ICMP.FRAG_NEEDED, rest: specUint(spec.mtu, 16, 'mtu') };
  return { layers: [...q.l2, ip, icmp], payload: q.quote };
}

/** IPv6 minimum MTU (RFC 8200): an ICMPv6 error quotes as much as fits in it. */
const IPV6_MIN_MTU = 1280;

/** ICMPv6 Packet Too Big (RFC 4443 §3.2) quoting as much of the original as fits in 1280 bytes. */
export function icmpv6PacketTooBig(original: Packet | Uint8Array, spec: IcmpErrorSpec): Packet {
  const q = quoteOriginal(original, 'ipv6', spec, () => IPV6_MIN_MTU - 40 - 8);
  const ip: Ipv6Layer = { type: 'ipv6', src: spec.from, dst: spec.to ?? q.src, hopLimit: spec.ttl ?? 64 };
  familyOf(ip.src, ip.dst);
  const icmp: Layer = { type: 'icmpv6', icmpType: ICMPV6.PACKET_TOO_BIG, code: 0, rest: specUint(spec.mtu, 32, 'mtu') };
  return { layers: [...q.l2, ip, icmp], payload: q.quote };
}

export interface EncapOptions {
  /** Outer TTL / hop limit; default 64. */
  ttl?: number;
  /** Outer TOS / traffic class; default copied from the inner IP header. */
  tos?: number;
  /** Outer IPv4 id; default 0. */
  id?: number;
  /** Outer IPv4 DF; default false. */
  df?: boolean;
  /** Outer IPv6 flow label; default 0. */
  flowLabel?: number;
}

function splitAtIp(inner: Packet): { l2: Layer[]; rest: Layer[]; tos: number } {
  const i = inner.layers.findIndex((l) => l.type === 'ipv4' || l.type === 'ipv6');
  const ip = inner.layers[i];
  const l2Only = inner.layers.slice(0, i).every((l) => l.type === 'eth' || l.type === 'vlan');
  if (ip === undefined || (ip.type !== 'ipv4' && ip.type !== 'ipv6') || !l2Only) {
    throw NA_ERR_PACKET_INVALID_SPEC('inner.layers', 'expected [eth, vlan…] followed by an IPv4 or IPv6 layer');
  }
  const l2 = inner.layers.slice(0, i);
  if (l2.length > 0) l2[l2.length - 1] = stripLayer(l2[l2.length - 1]!); // its ethertype may change
  const tos = (ip.type === 'ipv4' ? ip.tos : ip.trafficClass) ?? 0;
  return { l2, rest: inner.layers.slice(i), tos };
}

function outerIp(src: string, dst: string, tos: number, o: EncapOptions): Ipv4Layer | Ipv6Layer {
  if (familyOf(src, dst) === 4) return { type: 'ipv4', src, dst, tos: o.tos ?? tos, ttl: o.ttl ?? 64, id: o.id ?? 0, df: o.df ?? false };
  return { type: 'ipv6', src, dst, trafficClass: o.tos ?? tos, hopLimit: o.ttl ?? 64, flowLabel: o.flowLabel ?? 0 };
}

/**
 * IP-in-IP: inserts an outer IPv4 or IPv6 header (by the family of `outerSrc`) between the
 * inner packet's link layer and its IP header; 4in4, 6in6, 4in6 and 6in4 alike.
 */
export function ipipEncap(inner: Packet, outerSrc: string, outerDst: string, opts: EncapOptions = {}): Packet {
  const { l2, rest, tos } = splitAtIp(inner);
  return { ...inner, layers: [...l2, outerIp(outerSrc, outerDst, tos, opts), ...rest] };
}

export interface GueEncapOptions extends EncapOptions {
  src: string;
  dst: string;
  sport: number;
  /** Default GUE_DEFAULT_PORT (6080). */
  dport?: number;
  /** 0: GUE header with proto 4/41; 1: direct IP. Default 0. */
  version?: 0 | 1;
  /** Compute the outer UDP checksum (default); false sends 0. */
  udpChecksum?: boolean;
}

/** GUE: outer IP + UDP (+ GUE header for version 0) before the inner packet's IP header. */
export function gueEncap(inner: Packet, opts: GueEncapOptions): Packet {
  const { l2, rest, tos } = splitAtIp(inner);
  const u: Layer = { type: 'udp', sport: opts.sport, dport: opts.dport ?? GUE_DEFAULT_PORT };
  if (opts.udpChecksum === false) u.checksum = 0;
  const gue: GueLayer = { type: 'gue', version: opts.version ?? 0 };
  return { ...inner, layers: [...l2, outerIp(opts.src, opts.dst, tos, opts), u, gue, ...rest] };
}
