/**
 * IPv6 (RFC 8200) and its extension headers: hop-by-hop options, routing, fragment, destination
 * options, and the Authentication Header (RFC 4302, also after IPv4), which is skipped by length.
 */
import { NA_ERR_PACKET_BAD_LENGTH, NA_ERR_PACKET_BAD_OPTION, NA_ERR_PACKET_BAD_VERSION, NA_ERR_PACKET_INVALID_SPEC } from '../errors.js';
import { formatIPv6, parseIPv6 } from '../ip/address.js';
import type { Decoded, EncodeContext, FieldSpan, ParseCursor } from './codec.js';
import { derived, ipProtoOf, need } from './codec.js';
import type { FragmentKind, DecodedIp } from './ipv4.js';
import type { AhLayer, Ipv6FragmentLayer, Ipv6Layer, Ipv6OptionsLayer, Ipv6RoutingLayer } from './model.js';
import { IP_PROTO } from './model.js';
import {
  checkTlvOptions,
  concatBytes,
  copyBytes,
  padZeros,
  readU16,
  readU32,
  specBool,
  specBytes,
  specOptUint,
  specUint,
  writeU16,
  writeU32,
} from './wire.js';

export const IPV6_HEADER_LEN = 40;

export const IPV6_FIELDS: readonly FieldSpan[] = [
  { name: 'version/trafficClass/flowLabel', offset: 0, length: 4 },
  { name: 'payloadLength', offset: 4, length: 2 },
  { name: 'nextHeader', offset: 6, length: 1 },
  { name: 'hopLimit', offset: 7, length: 1 },
  { name: 'src', offset: 8, length: 16 },
  { name: 'dst', offset: 24, length: 16 },
];
export const IPV6_OPTIONS_FIELDS: readonly FieldSpan[] = [
  { name: 'nextHeader', offset: 0, length: 1 },
  { name: 'hdrExtLen', offset: 1, length: 1 },
  { name: 'options', offset: 2, length: -1 },
];
export const IPV6_ROUTING_FIELDS: readonly FieldSpan[] = [
  { name: 'nextHeader', offset: 0, length: 1 },
  { name: 'hdrExtLen', offset: 1, length: 1 },
  { name: 'routingType', offset: 2, length: 1 },
  { name: 'segmentsLeft', offset: 3, length: 1 },
  { name: 'data', offset: 4, length: -1 },
];
export const IPV6_FRAGMENT_FIELDS: readonly FieldSpan[] = [
  { name: 'nextHeader', offset: 0, length: 1 },
  { name: 'reserved', offset: 1, length: 1 },
  { name: 'fragOffset/mf', offset: 2, length: 2 },
  { name: 'id', offset: 4, length: 4 },
];
export const AH_FIELDS: readonly FieldSpan[] = [
  { name: 'nextHeader', offset: 0, length: 1 },
  { name: 'payloadLen', offset: 1, length: 1 },
  { name: 'reserved', offset: 2, length: 2 },
  { name: 'spi', offset: 4, length: 4 },
  { name: 'seq', offset: 8, length: 4 },
  { name: 'icv', offset: 12, length: -1 },
];

/** Next-header numbers the parser walks as extension headers. */
export const IPV6_EXT_PROTOS: readonly number[] = Object.freeze([
  IP_PROTO.HOPOPTS,
  IP_PROTO.ROUTING,
  IP_PROTO.FRAGMENT,
  IP_PROTO.DSTOPTS,
  IP_PROTO.AH,
]);

function nextHeaderOf(explicit: number | undefined, ctx: EncodeContext): number {
  const inferred = ctx.next === undefined ? IP_PROTO.NONE : ipProtoOf(ctx.next);
  return derived(explicit, inferred, 8, `${ctx.path}.nextHeader`);
}

export function encodeIpv6(l: Ipv6Layer, ctx: EncodeContext): Uint8Array {
  const p = ctx.path;
  const out = new Uint8Array(IPV6_HEADER_LEN);
  const tc = specOptUint(l.trafficClass, 8, `${p}.trafficClass`, 0);
  const fl = specOptUint(l.flowLabel, 20, `${p}.flowLabel`, 0);
  writeU32(out, 0, ((6 << 28) | (tc << 20) | fl) >>> 0);
  writeU16(out, 4, derived(l.payloadLength, ctx.tail.length, 16, `${p}.payloadLength`));
  out[6] = nextHeaderOf(l.nextHeader, ctx);
  out[7] = specOptUint(l.hopLimit, 8, `${p}.hopLimit`, 64);
  out.set(parseIPv6(l.src, `${p}.src`), 8);
  out.set(parseIPv6(l.dst, `${p}.dst`), 24);
  return out;
}

/** Pad1 / PadN bytes that fill `n` bytes of an IPv6 option area. */
function ipv6Padding(n: number): Uint8Array {
  if (n === 0) return new Uint8Array(0);
  if (n === 1) return Uint8Array.of(0);
  const pad = new Uint8Array(n);
  pad[0] = 1;
  pad[1] = n - 2;
  return pad;
}

function checkedExtLen(explicit: number | undefined, total: number, path: string): number {
  if (explicit === undefined && total > 2048) throw NA_ERR_PACKET_INVALID_SPEC(path, `the header would be ${total} bytes, above 2048`);
  return derived(explicit, total / 8 - 1, 8, `${path}.hdrExtLen`);
}

export function encodeIpv6Options(l: Ipv6OptionsLayer, ctx: EncodeContext): Uint8Array {
  const opts = specBytes(l.options, `${ctx.path}.options`);
  const body = concatBytes([opts, ipv6Padding((8 - ((2 + opts.length) % 8)) % 8)]);
  const out = new Uint8Array(2 + body.length);
  out[0] = nextHeaderOf(l.nextHeader, ctx);
  out[1] = checkedExtLen(l.hdrExtLen, out.length, ctx.path);
  out.set(body, 2);
  return out;
}

export function encodeIpv6Routing(l: Ipv6RoutingLayer, ctx: EncodeContext): Uint8Array {
  const p = ctx.path;
  const data = specBytes(l.data, `${p}.data`);
  const body = concatBytes([data, new Uint8Array((8 - ((4 + data.length) % 8)) % 8)]);
  const out = new Uint8Array(4 + body.length);
  out[0] = nextHeaderOf(l.nextHeader, ctx);
  out[1] = checkedExtLen(l.hdrExtLen, out.length, p);
  out[2] = specUint(l.routingType, 8, `${p}.routingType`);
  out[3] = specUint(l.segmentsLeft, 8, `${p}.segmentsLeft`);
  out.set(body, 4);
  return out;
}

export function encodeIpv6Fragment(l: Ipv6FragmentLayer, ctx: EncodeContext): Uint8Array {
  const p = ctx.path;
  const out = new Uint8Array(8);
  out[0] = nextHeaderOf(l.nextHeader, ctx);
  out[1] = specOptUint(l.reserved, 8, `${p}.reserved`, 0);
  const fo = specOptUint(l.fragOffset, 13, `${p}.fragOffset`, 0);
  const r2 = specOptUint(l.reserved2, 2, `${p}.reserved2`, 0);
  writeU16(out, 2, (fo << 3) | (r2 << 1) | (specBool(l.mf, `${p}.mf`, false) ? 1 : 0));
  writeU32(out, 4, specOptUint(l.id, 32, `${p}.id`, 0));
  return out;
}

export function encodeAh(l: AhLayer, ctx: EncodeContext): Uint8Array {
  const p = ctx.path;
  const icv = padZeros(specBytes(l.icv, `${p}.icv`), 4);
  const out = new Uint8Array(12 + icv.length);
  out[0] = nextHeaderOf(l.nextHeader, ctx);
  out[1] = derived(l.payloadLen, out.length / 4 - 2, 8, `${p}.payloadLen`);
  writeU16(out, 2, specOptUint(l.reserved, 16, `${p}.reserved`, 0));
  writeU32(out, 4, specUint(l.spi, 32, `${p}.spi`));
  writeU32(out, 8, specUint(l.seq, 32, `${p}.seq`));
  out.set(icv, 12);
  return out;
}

/**
 * The final destination named by a routing header with segments left (types 0 and 2: the last
 * address; type 4, SRH: segment 0), which TCP/UDP/ICMPv6 put in their pseudo-header.
 */
export function routingFinalDestination(routingType: number, segmentsLeft: number, data: Uint8Array): Uint8Array | undefined {
  if (segmentsLeft === 0) return undefined;
  if ((routingType === 0 || routingType === 2) && data.length >= 20) {
    const n = Math.floor((data.length - 4) / 16);
    return copyBytes(data, 4 + 16 * (n - 1), 4 + 16 * n);
  }
  if (routingType === 4 && data.length >= 20) return copyBytes(data, 4, 20);
  return undefined;
}

export function decodeIpv6(cur: ParseCursor, off: number, end: number): DecodedIp<Ipv6Layer> | undefined {
  const b = cur.bytes;
  if (!need(cur, 'ipv6', off, IPV6_HEADER_LEN, end)) return undefined;
  const details = { layer: 'ipv6', layerIndex: cur.layerIndex, offset: off };
  const first = readU32(b, off);
  if (first >>> 28 !== 6) {
    cur.issue(NA_ERR_PACKET_BAD_VERSION.with({ details: { ...details, field: 'version' } }, 'ipv6', off, '6', first >>> 28));
    return undefined;
  }
  const payloadLength = readU16(b, off + 4);
  let dgEnd = off + IPV6_HEADER_LEN + payloadLength;
  if (dgEnd > end) {
    const d = { details: { ...details, field: 'payloadLength', offset: off + 4 } };
    const left = end - off - IPV6_HEADER_LEN;
    cur.issue(NA_ERR_PACKET_BAD_LENGTH.with(d, 'ipv6', 'payloadLength', off + 4, `${payloadLength} exceeds the ${left} bytes left`));
    dgEnd = end;
  }
  const layer: Ipv6Layer = {
    type: 'ipv6',
    src: formatIPv6(b, off + 8),
    dst: formatIPv6(b, off + 24),
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    hopLimit: b[off + 7]!,
    nextHeader: b[off + 6]!,
    payloadLength,
  };
  const src = copyBytes(b, off + 8, off + 24);
  const dst = copyBytes(b, off + 24, off + 40);
  return { layer, length: IPV6_HEADER_LEN, end: dgEnd, proto: b[off + 6]!, fragment: 'none', src, dst };
}

export type ExtLayer = Ipv6OptionsLayer | Ipv6RoutingLayer | Ipv6FragmentLayer | AhLayer;

export interface DecodedExt extends Decoded<ExtLayer> {
  nextHeader: number;
  fragment: FragmentKind;
  /** Set by a routing header with segments left. */
  finalDst?: Uint8Array;
}

const EXT_NAMES: Readonly<Record<number, ExtLayer['type']>> = {
  [IP_PROTO.HOPOPTS]: 'ipv6-hbh',
  [IP_PROTO.ROUTING]: 'ipv6-route',
  [IP_PROTO.FRAGMENT]: 'ipv6-frag',
  [IP_PROTO.DSTOPTS]: 'ipv6-dstopts',
  [IP_PROTO.AH]: 'ah',
};

/** Decodes the extension header `proto` (one of IPV6_EXT_PROTOS) at `off`. */
export function decodeExt(cur: ParseCursor, off: number, end: number, proto: number): DecodedExt | undefined {
  const b = cur.bytes;
  const name = EXT_NAMES[proto] ?? 'ipv6-hbh';
  if (!need(cur, name, off, 8, end)) return undefined;
  const nextHeader = b[off]!;
  if (name === 'ipv6-frag') {
    const w = readU16(b, off + 2);
    const fragOffset = w >> 3;
    const mf = (w & 1) !== 0;
    const layer: Ipv6FragmentLayer = {
      type: 'ipv6-frag',
      nextHeader,
      reserved: b[off + 1]!,
      fragOffset,
      reserved2: (w >> 1) & 3,
      mf,
      id: readU32(b, off + 4),
    };
    return { layer, length: 8, nextHeader, fragment: fragOffset > 0 ? 'later' : mf ? 'first' : 'none' };
  }
  if (name === 'ah') {
    const total = (b[off + 1]! + 2) * 4;
    if (total < 12) {
      const d = { details: { layer: 'ah', layerIndex: cur.layerIndex, offset: off + 1, field: 'payloadLen' } };
      cur.issue(NA_ERR_PACKET_BAD_LENGTH.with(d, 'ah', 'payloadLen', off + 1, `${b[off + 1]} gives ${total} bytes, below 12`));
      return undefined;
    }
    if (!need(cur, 'ah', off, total, end)) return undefined;
    const layer: AhLayer = {
      type: 'ah',
      nextHeader,
      payloadLen: b[off + 1]!,
      reserved: readU16(b, off + 2),
      spi: readU32(b, off + 4),
      seq: readU32(b, off + 8),
      icv: copyBytes(b, off + 12, off + total),
    };
    return { layer, length: total, nextHeader, fragment: 'none' };
  }
  const hdrExtLen = b[off + 1]!;
  const total = (hdrExtLen + 1) * 8;
  if (!need(cur, name, off, total, end)) return undefined;
  if (name === 'ipv6-route') {
    const data = copyBytes(b, off + 4, off + total);
    const routingType = b[off + 2]!;
    const segmentsLeft = b[off + 3]!;
    const layer: Ipv6RoutingLayer = { type: 'ipv6-route', nextHeader, hdrExtLen, routingType, segmentsLeft, data };
    const finalDst = routingFinalDestination(routingType, segmentsLeft, data);
    return { layer, length: total, nextHeader, fragment: 'none', ...(finalDst === undefined ? {} : { finalDst }) };
  }
  const options = copyBytes(b, off + 2, off + total);
  const bad = checkTlvOptions(options, 'ipv6');
  if (bad !== undefined) {
    const o = off + 2 + bad.offset;
    const details = { layer: name, layerIndex: cur.layerIndex, offset: o, field: 'options' };
    cur.issue(NA_ERR_PACKET_BAD_OPTION.with({ details }, name, o, bad.message));
  }
  const layer: Ipv6OptionsLayer = { type: name, nextHeader, hdrExtLen, options };
  return { layer, length: total, nextHeader, fragment: 'none' };
}
