/**
 * The data plane's flow hashing (xlb_helpers.h), for the controller, tests and benchmarks: the
 * 5-tuple and source-only flow hashes (Linux jhash, from @netaccel/protocol), and what the data
 * plane derives from them: the Maglev table position, the IPIP/GUE outer source address, the GUE
 * source port and the NAT source-port candidates.
 *
 * Words are what the C code loads from the packet: address bytes read as little-endian u32
 * (network order bytes on a little-endian host), ports = sport | dport << 16 where each port
 * is its two network-order bytes read as a little-endian u16.
 */
import { formatIp, jhash1word, jhash2, jhash3words, parseIp } from '@netaccel/protocol';
import { XLB_BUILD_DEFAULTS, XLB_GLOBAL_DEFAULTS } from './constants.js';
import type { FlowKey } from './codec.js';

/** The address as the little-endian u32 words the C code loads (1 or 4). */
export function addressWords(address: string): number[] {
  const b = Buffer.from(parseIp(address));
  return Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(i * 4));
}

function portsWord(sport: number, dport: number): number {
  const swap = (p: number) => ((p & 0xff) << 8) | (p >>> 8);
  return (swap(sport) | (swap(dport) << 16)) >>> 0;
}

/** xlb_flow_hash: the 5-tuple hash of a client flow (client -> VIP). */
export function flowHash(f: FlowKey, seed: number = XLB_BUILD_DEFAULTS.XLB_HASH_SEED): number {
  const src = addressWords(f.src);
  const dst = addressWords(f.dst);
  const ports = portsWord(f.sport, f.dport);
  const initval = (seed ^ f.protocol) >>> 0;
  if (src.length === 4) return jhash3words(jhash2(src, seed), jhash2(dst, seed), ports, initval);
  return jhash3words(src[0]!, dst[0]!, ports, initval);
}

/** xlb_src_hash: the source-only hash (VIPs with XLB_VIP_F.HASH_SRC_ONLY). */
export function srcHash(f: Pick<FlowKey, 'src'>, seed: number = XLB_BUILD_DEFAULTS.XLB_HASH_SEED): number {
  const src = addressWords(f.src);
  return src.length === 4 ? jhash2(src, seed) : jhash1word(src[0]!, seed);
}

/** The Maglev table position the data plane reads for a new flow. */
export function maglevPosition(f: FlowKey, tableSize: number, srcOnly = false): number {
  return (srcOnly ? srcHash(f) : flowHash(f)) % tableSize;
}

/** Prefix bits kept, host bits from the hash (xlb_encap_src_v4 / _v6). */
function maskedWord(prefixWord: number, hash: number, hostBits: number): number {
  const host = hostBits >= 32 ? 0xffffffff : hostBits <= 0 ? 0 : (0xffffffff >>> (32 - hostBits)) >>> 0;
  return ((prefixWord & ~host) | (hash & host)) >>> 0;
}

/** Outer source of an IPIP/GUE packet of a flow with 5-tuple hash `hash`. */
export function encapSource(
  hash: number,
  family: 4 | 6,
  prefix: string = family === 4 ? '172.16.0.0' : XLB_GLOBAL_DEFAULTS.encap_src_v6,
  length: number = family === 4 ? XLB_GLOBAL_DEFAULTS.encap_src_v4_len : XLB_GLOBAL_DEFAULTS.encap_src_v6_len,
): string {
  const b = Buffer.from(parseIp(prefix, 'prefix'));
  if (b.length !== (family === 4 ? 4 : 16)) throw new RangeError(`prefix: expected an IPv${family} address, got ${JSON.stringify(prefix)}`);
  const last = b.length - 4;
  const hostBits = family === 4 ? 32 - length : Math.min(32, 128 - length);
  b.writeUInt32BE(maskedWord(b.readUInt32BE(last), hash, hostBits), last);
  return formatIp(b);
}

/** Outer UDP source port of a GUE packet. */
export function gueSourcePort(hash: number): number {
  return XLB_BUILD_DEFAULTS.XLB_GUE_SPORT_BASE | (hash & XLB_BUILD_DEFAULTS.XLB_GUE_SPORT_MASK);
}

/** The NAT source ports a new flow tries, in order, with one source address (xlb_nat.h). */
export function natPortCandidates(
  f: FlowKey,
  min: number = XLB_GLOBAL_DEFAULTS.nat_port_min,
  max: number = XLB_GLOBAL_DEFAULTS.nat_port_max,
  probes: number = XLB_BUILD_DEFAULTS.XLB_NAT_PROBES,
): number[] {
  return natCandidates(f, { min, max, probes }).map((c) => c.port);
}

/**
 * The (source address index, port) pairs a new flow tries, in order (xlb_nat.h): N addresses ×
 * R ports are N × R slots, probed linearly from a hashed start; slot j is address j / R, port
 * min + j mod R.
 */
export function natCandidates(
  f: FlowKey,
  o: { min?: number; max?: number; sources?: number; probes?: number } = {},
): { source: number; port: number }[] {
  const min = o.min ?? XLB_GLOBAL_DEFAULTS.nat_port_min;
  const range = (o.max ?? XLB_GLOBAL_DEFAULTS.nat_port_max) - min + 1;
  const slots = range * (o.sources ?? 1);
  let h = flowHash(f, XLB_BUILD_DEFAULTS.XLB_NAT_HASH_SEED) % slots;
  const out: { source: number; port: number }[] = [];
  for (let i = 0; i < (o.probes ?? XLB_BUILD_DEFAULTS.XLB_NAT_PROBES); i++) {
    out.push({ source: Math.floor(h / range), port: min + (h % range) });
    h = h + 1 < slots ? h + 1 : 0;
  }
  return out;
}
