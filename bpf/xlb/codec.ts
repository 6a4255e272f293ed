/**
 * Codecs for every struct xlb shares with user space (xlb_kern_user.h): map keys and values to
 * and from Buffers. Addresses and ports are network order as in the header; every other
 * integer is host order (little-endian: x86-64 and arm64). XLB_LAYOUTS states each struct's
 * size and member offsets; btf-layout.bpf.test.ts checks them against the compiled objects.
 *
 * Addresses are text ('10.0.0.1', '2001:db8::1'); the family follows from the text. Bad input
 * throws a RangeError whose message starts with the field path.
 */
import { formatIp, formatMac, parseIp, parseMac } from '@netaccel/protocol';
import { XLB_BUILD_DEFAULTS, XLB_CT_STATE, XLB_MODE } from './constants.js';
import type { XlbCtStateName, XlbModeName } from './constants.js';

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly members: Readonly<Record<string, number>>;
}

/** Size and member offsets of each shared struct (C names). */
export const XLB_LAYOUTS = Object.freeze({
  vipKey: { name: 'xlb_vip_key', size: 20, members: { addr: 0, port: 16, proto: 18, family: 19 } },
  vipMeta: { name: 'xlb_vip_meta', size: 16, members: { vip_index: 0, flags: 4, table_size: 8, active_slot: 12, mode: 13, pad: 14 } },
  backend: { name: 'xlb_backend', size: 28, members: { addr: 0, mac: 16, port: 22, family: 24, flags: 25, nexthop: 26 } },
  nexthop: { name: 'xlb_nexthop', size: 8, members: { mac: 0, flags: 6 } },
  config: { name: 'xlb_config', size: 28, members: { local_mac: 0, nat_src_count: 6, nat_src_v4: 8, nat_src_v6: 12 } },
  flowKey: { name: 'xlb_flow_key', size: 40, members: { src: 0, dst: 16, sport: 32, dport: 34, proto: 36, family: 37, pad: 38 } },
  flowKey4: { name: 'xlb_flow_key4', size: 16, members: { src: 0, dst: 4, sport: 8, dport: 10, proto: 12, pad: 13 } },
  ctValue: {
    name: 'xlb_ct_value',
    size: 24,
    members: { last_seen_ns: 0, backend_index: 8, vip_index: 12, nat_port: 16, state: 18, nat_src_index: 19, flow_hash: 20 },
  },
  natValue: {
    name: 'xlb_nat_value',
    size: 64,
    members: {
      last_seen_ns: 0, vip_index: 8, backend_index: 12, client_addr: 16, vip_addr: 32, client_port: 48, vip_port: 50,
      client_mac: 52, state: 58, pad8: 59, pad32: 60,
    },
  },
  stats: { name: 'xlb_stats', size: 40, members: { packets: 0, bytes: 8, new_flows: 16, reply_packets: 24, reply_bytes: 32 } },
  counter: { name: 'xlb_counter', size: 16, members: { packets: 0, bytes: 8 } },
  decapKey: { name: 'xlb_decap_key', size: 20, members: { addr: 0, family: 16, pad: 17 } },
} as const satisfies Record<string, StructLayout>);

const L = XLB_LAYOUTS;

// --- field helpers ----------------------------------------------------------------------------

function uint(path: string, v: unknown, max: number, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${path}: expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Writes an address (4 or 16 bytes) at `off` (16 bytes reserved); returns its family. */
function writeAddr(buf: Buffer, off: number, text: string, path: string): 4 | 6 {
  const bytes = parseIp(text, path);
  buf.set(bytes, off);
  return bytes.length === 4 ? 4 : 6;
}

function readAddr(buf: Uint8Array, off: number, family: number, path: string): string {
  if (family === 4) return formatIp(buf.subarray(off, off + 4));
  if (family === 6) return formatIp(buf.subarray(off, off + 16));
  throw new RangeError(`${path}: expected family 4 or 6, got ${family}`);
}

function check(buf: Uint8Array, layout: StructLayout): Buffer {
  if (buf.length !== layout.size) {
    throw new RangeError(`${layout.name}: expected ${layout.size} bytes, got ${buf.length}`);
  }
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

const PROTOCOLS = Object.freeze({ tcp: 6, udp: 17 } as const);
export type XlbProtocol = keyof typeof PROTOCOLS;

function protocolName(n: number, path: string): XlbProtocol {
  if (n === 6) return 'tcp';
  if (n === 17) return 'udp';
  throw new RangeError(`${path}: expected 6 (tcp) or 17 (udp), got ${n}`);
}

function modeName(n: number): XlbModeName {
  const e = Object.entries(XLB_MODE).find(([, v]) => v === n);
  if (!e) throw new RangeError(`xlb_vip_meta.mode: expected 1..4, got ${n}`);
  return e[0] as XlbModeName;
}

function stateName(n: number, path: string): XlbCtStateName {
  const e = Object.entries(XLB_CT_STATE).find(([, v]) => v === n);
  if (!e) throw new RangeError(`${path}: expected an xlb_ct_state 0..4, got ${n}`);
  return e[0] as XlbCtStateName;
}

// --- VIPs -------------------------------------------------------------------------------------

export interface VipKey {
  address: string;
  /** 0: every port (a port-wildcard VIP). */
  port: number;
  protocol: XlbProtocol;
}

export function encodeVipKey(k: VipKey): Buffer {
  const b = Buffer.alloc(L.vipKey.size);
  const family = writeAddr(b, L.vipKey.members.addr, k.address, 'vipKey.address');
  b.writeUInt16BE(uint('vipKey.port', k.port, 0xffff), L.vipKey.members.port);
  const proto = PROTOCOLS[k.protocol];
  if (proto === undefined) throw new RangeError(`vipKey.protocol: expected tcp or udp, got ${JSON.stringify(k.protocol)}`);
  b[L.vipKey.members.proto] = proto;
  b[L.vipKey.members.family] = family;
  return b;
}

export function decodeVipKey(buf: Uint8Array): VipKey {
  const b = check(buf, L.vipKey);
  const family = b[L.vipKey.members.family]!;
  return {
    address: readAddr(b, L.vipKey.members.addr, family, 'xlb_vip_key.family'),
    port: b.readUInt16BE(L.vipKey.members.port),
    protocol: protocolName(b[L.vipKey.members.proto]!, 'xlb_vip_key.proto'),
  };
}

export interface VipMeta {
  /** Row in maglev_tables and vip_stats (< XLB_MAX_VIPS). */
  vipIndex: number;
  /** XLB_VIP_F bits. */
  flags: number;
  /** Entries used in each of the VIP's two tables: a prime up to XLB_MAGLEV_SIZE. */
  tableSize: number;
  /** The table the data plane reads. */
  activeSlot: 0 | 1;
  mode: XlbModeName;
}

export function encodeVipMeta(m: VipMeta): Buffer {
  const b = Buffer.alloc(L.vipMeta.size);
  b.writeUInt32LE(uint('vipMeta.vipIndex', m.vipIndex, 0xffffffff), L.vipMeta.members.vip_index);
  b.writeUInt32LE(uint('vipMeta.flags', m.flags, 0xffffffff), L.vipMeta.members.flags);
  b.writeUInt32LE(uint('vipMeta.tableSize', m.tableSize, 0xffffffff), L.vipMeta.members.table_size);
  b[L.vipMeta.members.active_slot] = uint('vipMeta.activeSlot', m.activeSlot, 1);
  const mode = XLB_MODE[m.mode];
  if (mode === undefined) throw new RangeError(`vipMeta.mode: expected one of ${Object.keys(XLB_MODE).join(', ')}, got ${JSON.stringify(m.mode)}`);
  b[L.vipMeta.members.mode] = mode;
  return b;
}

export function decodeVipMeta(buf: Uint8Array): VipMeta {
  const b = check(buf, L.vipMeta);
  return {
    vipIndex: b.readUInt32LE(L.vipMeta.members.vip_index),
    flags: b.readUInt32LE(L.vipMeta.members.flags),
    tableSize: b.readUInt32LE(L.vipMeta.members.table_size),
    activeSlot: (b[L.vipMeta.members.active_slot]! & 1) as 0 | 1,
    mode: modeName(b[L.vipMeta.members.mode]!),
  };
}

/** Key of maglev_tables for a VIP's table slot and position (see xlb_maps.h). */
export function maglevKey(vipIndex: number, slot: 0 | 1, position: number, maglevSize: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(((vipIndex * 2 + slot) * maglevSize + position) >>> 0);
  return b;
}

/** A u32 map key or value (array indexes, backend indexes). */
export function encodeU32(v: number, path = 'value'): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(uint(path, v, 0xffffffff));
  return b;
}

export function decodeU32(buf: Uint8Array): number {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).readUInt32LE(0);
}

// --- backends, next hops, config ---------------------------------------------------------------

export interface Backend {
  address: string;
  /** L2 DSR destination; for other modes used when ON_LINK is set. '00:…' when unknown. */
  mac: string;
  /** NAT destination port; 0 keeps the VIP's port. */
  port: number;
  /** XLB_BACKEND_F bits (VALID must be set for the record to be used). */
  flags: number;
  /** Index into nexthops when not on-link. */
  nexthop: number;
}

export function encodeBackend(be: Backend): Buffer {
  const b = Buffer.alloc(L.backend.size);
  const family = writeAddr(b, L.backend.members.addr, be.address, 'backend.address');
  b.set(parseMac(be.mac, 'backend.mac'), L.backend.members.mac);
  b.writeUInt16BE(uint('backend.port', be.port, 0xffff), L.backend.members.port);
  b[L.backend.members.family] = family;
  b[L.backend.members.flags] = uint('backend.flags', be.flags, 0xff);
  b.writeUInt16LE(uint('backend.nexthop', be.nexthop, 0xffff), L.backend.members.nexthop);
  return b;
}

export function decodeBackend(buf: Uint8Array): Backend {
  const b = check(buf, L.backend);
  return {
    address: readAddr(b, L.backend.members.addr, b[L.backend.members.family]!, 'xlb_backend.family'),
    mac: formatMac(b, L.backend.members.mac),
    port: b.readUInt16BE(L.backend.members.port),
    flags: b[L.backend.members.flags]!,
    nexthop: b.readUInt16LE(L.backend.members.nexthop),
  };
}

export interface Nexthop {
  mac: string;
  /** XLB_NEXTHOP_F bits. */
  flags: number;
}

export function encodeNexthop(n: Nexthop): Buffer {
  const b = Buffer.alloc(L.nexthop.size);
  b.set(parseMac(n.mac, 'nexthop.mac'), L.nexthop.members.mac);
  b.writeUInt16LE(uint('nexthop.flags', n.flags, 0xffff), L.nexthop.members.flags);
  return b;
}

export function decodeNexthop(buf: Uint8Array): Nexthop {
  const b = check(buf, L.nexthop);
  return { mac: formatMac(b, L.nexthop.members.mac), flags: b.readUInt16LE(L.nexthop.members.flags) };
}

export interface XlbConfig {
  /** Source MAC of sent frames; undefined: the received frame's destination MAC. */
  localMac?: string;
  /** The first NAT source address of each family; undefined: no NAT for that family. */
  natSourceV4?: string;
  natSourceV6?: string;
  /**
   * How many NAT source addresses: the first and the ones after it (the last 32 bits counted
   * up), 1..XLB_NAT_SRC_MAX; undefined: one.
   */
  natSourceCount?: number;
}

export function encodeConfig(c: XlbConfig): Buffer {
  const b = Buffer.alloc(L.config.size);
  if (c.localMac !== undefined) b.set(parseMac(c.localMac, 'config.localMac'), L.config.members.local_mac);
  if (c.natSourceCount !== undefined) b.writeUInt16LE(uint('config.natSourceCount', c.natSourceCount, XLB_BUILD_DEFAULTS.XLB_NAT_SRC_MAX, 1), L.config.members.nat_src_count);
  if (c.natSourceV4 !== undefined) {
    if (writeAddr(b, L.config.members.nat_src_v4, c.natSourceV4, 'config.natSourceV4') !== 4) {
      throw new RangeError(`config.natSourceV4: expected an IPv4 address, got ${JSON.stringify(c.natSourceV4)}`);
    }
  }
  if (c.natSourceV6 !== undefined) {
    if (writeAddr(b, L.config.members.nat_src_v6, c.natSourceV6, 'config.natSourceV6') !== 6) {
      throw new RangeError(`config.natSourceV6: expected an IPv6 address, got ${JSON.stringify(c.natSourceV6)}`);
    }
  }
  // The data plane counts the last 32 bits up: the range may not wrap around.
  const last = (off: number) => b.readUInt32BE(off);
  const count = c.natSourceCount ?? 1;
  if (c.natSourceV4 !== undefined && last(L.config.members.nat_src_v4) + count - 1 > 0xffffffff) throw new RangeError(`config.natSourceCount: ${count} addresses from ${c.natSourceV4} wrap around`);
  if (c.natSourceV6 !== undefined && last(L.config.members.nat_src_v6 + 12) + count - 1 > 0xffffffff) throw new RangeError(`config.natSourceCount: ${count} addresses from ${c.natSourceV6} overflow its last 32 bits`);
  return b;
}

export function decodeConfig(buf: Uint8Array): XlbConfig {
  const b = check(buf, L.config);
  const zero = (off: number, n: number) => b.subarray(off, off + n).every((x) => x === 0);
  const out: XlbConfig = {};
  if (!zero(L.config.members.local_mac, 6)) out.localMac = formatMac(b, L.config.members.local_mac);
  if (!zero(L.config.members.nat_src_v4, 4)) out.natSourceV4 = readAddr(b, L.config.members.nat_src_v4, 4, 'config');
  if (!zero(L.config.members.nat_src_v6, 16)) out.natSourceV6 = readAddr(b, L.config.members.nat_src_v6, 6, 'config');
  const count = b.readUInt16LE(L.config.members.nat_src_count);
  if (count !== 0) out.natSourceCount = count;
  return out;
}

// --- flows: connection table and NAT -----------------------------------------------------------

export interface FlowKey {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** IP protocol number (6, 17). */
  protocol: number;
}

export function encodeFlowKey(f: FlowKey): Buffer {
  const b = Buffer.alloc(L.flowKey.size);
  const family = writeAddr(b, L.flowKey.members.src, f.src, 'flowKey.src');
  if (writeAddr(b, L.flowKey.members.dst, f.dst, 'flowKey.dst') !== family) {
    throw new RangeError(`flowKey.dst: expected an IPv${family} address like src, got ${JSON.stringify(f.dst)}`);
  }
  b.writeUInt16BE(uint('flowKey.sport', f.sport, 0xffff), L.flowKey.members.sport);
  b.writeUInt16BE(uint('flowKey.dport', f.dport, 0xffff), L.flowKey.members.dport);
  b[L.flowKey.members.proto] = uint('flowKey.protocol', f.protocol, 0xff);
  b[L.flowKey.members.family] = family;
  return b;
}

export function decodeFlowKey(buf: Uint8Array): FlowKey {
  const b = check(buf, L.flowKey);
  const family = b[L.flowKey.members.family]!;
  return {
    src: readAddr(b, L.flowKey.members.src, family, 'xlb_flow_key.family'),
    dst: readAddr(b, L.flowKey.members.dst, family, 'xlb_flow_key.family'),
    sport: b.readUInt16BE(L.flowKey.members.sport),
    dport: b.readUInt16BE(L.flowKey.members.dport),
    protocol: b[L.flowKey.members.proto]!,
  };
}

/** An IPv4 flow as `conntrack_v4` keys it (xlb_flow_key4): 16 bytes, no family. */
export function encodeFlowKey4(f: FlowKey): Buffer {
  const b = Buffer.alloc(L.flowKey4.size);
  if (parseIp(f.src, 'flowKey4.src').length !== 4) throw new RangeError(`flowKey4.src: expected an IPv4 address, got ${JSON.stringify(f.src)}`);
  if (parseIp(f.dst, 'flowKey4.dst').length !== 4) throw new RangeError(`flowKey4.dst: expected an IPv4 address, got ${JSON.stringify(f.dst)}`);
  writeAddr(b, L.flowKey4.members.src, f.src, 'flowKey4.src');
  writeAddr(b, L.flowKey4.members.dst, f.dst, 'flowKey4.dst');
  b.writeUInt16BE(uint('flowKey4.sport', f.sport, 0xffff), L.flowKey4.members.sport);
  b.writeUInt16BE(uint('flowKey4.dport', f.dport, 0xffff), L.flowKey4.members.dport);
  b[L.flowKey4.members.proto] = uint('flowKey4.protocol', f.protocol, 0xff);
  return b;
}

export function decodeFlowKey4(buf: Uint8Array): FlowKey {
  const b = check(buf, L.flowKey4);
  return {
    src: readAddr(b, L.flowKey4.members.src, 4, 'xlb_flow_key4'),
    dst: readAddr(b, L.flowKey4.members.dst, 4, 'xlb_flow_key4'),
    sport: b.readUInt16BE(L.flowKey4.members.sport),
    dport: b.readUInt16BE(L.flowKey4.members.dport),
    protocol: b[L.flowKey4.members.proto]!,
  };
}

/** The connection-table map of a flow and its key there: `conntrack_v4` for IPv4, `conntrack` for IPv6. */
export function conntrackKey(f: FlowKey): { map: 'conntrack' | 'conntrack_v4'; key: Buffer } {
  return parseIp(f.src, 'flowKey.src').length === 4 ? { map: 'conntrack_v4', key: encodeFlowKey4(f) } : { map: 'conntrack', key: encodeFlowKey(f) };
}

export interface CtValue {
  /** bpf_ktime_get_coarse_ns() of the flow's last packet. */
  lastSeenNs: bigint;
  backendIndex: number;
  vipIndex: number;
  /** NAT source port (0: none). */
  natPort: number;
  /** NAT: which source address (0 .. natSourceCount-1); undefined: 0. */
  natSrcIndex?: number;
  state: XlbCtStateName;
}

export function encodeCtValue(v: CtValue): Buffer {
  const b = Buffer.alloc(L.ctValue.size);
  b.writeBigUInt64LE(v.lastSeenNs, L.ctValue.members.last_seen_ns);
  b.writeUInt32LE(uint('ctValue.backendIndex', v.backendIndex, 0xffffffff), L.ctValue.members.backend_index);
  b.writeUInt32LE(uint('ctValue.vipIndex', v.vipIndex, 0xffffffff), L.ctValue.members.vip_index);
  b.writeUInt16BE(uint('ctValue.natPort', v.natPort, 0xffff), L.ctValue.members.nat_port);
  b[L.ctValue.members.state] = XLB_CT_STATE[v.state];
  b[L.ctValue.members.nat_src_index] = uint('ctValue.natSrcIndex', v.natSrcIndex ?? 0, 0xff);
  return b;
}

export function decodeCtValue(buf: Uint8Array): CtValue {
  const b = check(buf.subarray(0, L.ctValue.size), L.ctValue);
  return {
    lastSeenNs: b.readBigUInt64LE(L.ctValue.members.last_seen_ns),
    backendIndex: b.readUInt32LE(L.ctValue.members.backend_index),
    vipIndex: b.readUInt32LE(L.ctValue.members.vip_index),
    natPort: b.readUInt16BE(L.ctValue.members.nat_port),
    ...(b[L.ctValue.members.nat_src_index] ? { natSrcIndex: b[L.ctValue.members.nat_src_index]! } : {}),
    state: stateName(b[L.ctValue.members.state]!, 'xlb_ct_value.state'),
  };
}

export interface NatValue {
  lastSeenNs: bigint;
  vipIndex: number;
  backendIndex: number;
  client: string;
  vip: string;
  clientPort: number;
  vipPort: number;
  clientMac: string;
  state: XlbCtStateName;
}

export function encodeNatValue(v: NatValue): Buffer {
  const b = Buffer.alloc(L.natValue.size);
  const m = L.natValue.members;
  b.writeBigUInt64LE(v.lastSeenNs, m.last_seen_ns);
  b.writeUInt32LE(uint('natValue.vipIndex', v.vipIndex, 0xffffffff), m.vip_index);
  b.writeUInt32LE(uint('natValue.backendIndex', v.backendIndex, 0xffffffff), m.backend_index);
  const family = writeAddr(b, m.client_addr, v.client, 'natValue.client');
  if (writeAddr(b, m.vip_addr, v.vip, 'natValue.vip') !== family) {
    throw new RangeError(`natValue.vip: expected an IPv${family} address like client, got ${JSON.stringify(v.vip)}`);
  }
  b.writeUInt16BE(uint('natValue.clientPort', v.clientPort, 0xffff), m.client_port);
  b.writeUInt16BE(uint('natValue.vipPort', v.vipPort, 0xffff), m.vip_port);
  b.set(parseMac(v.clientMac, 'natValue.clientMac'), m.client_mac);
  b[m.state] = XLB_CT_STATE[v.state];
  return b;
}

/** Decodes a nat_rev value; the family comes from its key (xlb_flow_key.family). */
export function decodeNatValue(buf: Uint8Array, family: 4 | 6): NatValue {
  const b = check(buf, L.natValue);
  const m = L.natValue.members;
  return {
    lastSeenNs: b.readBigUInt64LE(m.last_seen_ns),
    vipIndex: b.readUInt32LE(m.vip_index),
    backendIndex: b.readUInt32LE(m.backend_index),
    client: readAddr(b, m.client_addr, family, 'family'),
    vip: readAddr(b, m.vip_addr, family, 'family'),
    clientPort: b.readUInt16BE(m.client_port),
    vipPort: b.readUInt16BE(m.vip_port),
    clientMac: formatMac(b, m.client_mac),
    state: stateName(b[m.state]!, 'xlb_nat_value.state'),
  };
}

// --- counters ---------------------------------------------------------------------------------

export interface Stats {
  packets: bigint;
  bytes: bigint;
  newFlows: bigint;
  replyPackets: bigint;
  replyBytes: bigint;
}

/** Decodes one xlb_stats, or the sum of a per-CPU value's slots. */
export function decodeStats(values: Uint8Array | readonly Uint8Array[]): Stats {
  const list = values instanceof Uint8Array ? [values] : values;
  const m = L.stats.members;
  const sum: Stats = { packets: 0n, bytes: 0n, newFlows: 0n, replyPackets: 0n, replyBytes: 0n };
  for (const v of list) {
    const b = check(v.subarray(0, L.stats.size), L.stats);
    sum.packets += b.readBigUInt64LE(m.packets);
    sum.bytes += b.readBigUInt64LE(m.bytes);
    sum.newFlows += b.readBigUInt64LE(m.new_flows);
    sum.replyPackets += b.readBigUInt64LE(m.reply_packets);
    sum.replyBytes += b.readBigUInt64LE(m.reply_bytes);
  }
  return sum;
}

export interface Counter {
  packets: bigint;
  bytes: bigint;
}

/** Decodes one xlb_counter, or the sum of a per-CPU value's slots. */
export function decodeCounter(values: Uint8Array | readonly Uint8Array[]): Counter {
  const list = values instanceof Uint8Array ? [values] : values;
  const sum: Counter = { packets: 0n, bytes: 0n };
  for (const v of list) {
    const b = check(v.subarray(0, L.counter.size), L.counter);
    sum.packets += b.readBigUInt64LE(L.counter.members.packets);
    sum.bytes += b.readBigUInt64LE(L.counter.members.bytes);
  }
  return sum;
}

// --- decapsulator -----------------------------------------------------------------------------

export function encodeDecapKey(address: string): Buffer {
  const b = Buffer.alloc(L.decapKey.size);
  b[L.decapKey.members.family] = writeAddr(b, L.decapKey.members.addr, address, 'decapKey.address');
  return b;
}

export function decodeDecapKey(buf: Uint8Array): string {
  const b = check(buf, L.decapKey);
  return readAddr(b, L.decapKey.members.addr, b[L.decapKey.members.family]!, 'xlb_decap_key.family');
}
