/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443): the 8-byte header; the message body is the payload.
 * The ICMP checksum covers the message; the ICMPv6 checksum adds the IPv6 pseudo-header.
 */
import { checksumVerifies, internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';
import type { Decoded, EncodeContext, FieldSpan, ParseCursor } from './codec.js';
import { need, recordChecksum } from './codec.js';
import type { IcmpLayer } from './model.js';
import { IP_PROTO } from './model.js';
import type { IpContext } from './tcp.js';
import { pseudoOf } from './tcp.js';
import { readU16, readU32, specOptUint, specUint, writeU16, writeU32 } from './wire.js';

export const ICMP_HEADER_LEN = 8;

export const ICMP_FIELDS: readonly FieldSpan[] = [
  { name: 'icmpType', offset: 0, length: 1 },
  { name: 'code', offset: 1, length: 1 },
  { name: 'checksum', offset: 2, length: 2 },
  { name: 'rest', offset: 4, length: 4 },
];

/** ICMP types and codes used by the builders. */
export const ICMP = Object.freeze({
  ECHO_REPLY: 0,
  DEST_UNREACH: 3,
  FRAG_NEEDED: 4, // code of DEST_UNREACH
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
});
export const ICMPV6 = Object.freeze({
  DEST_UNREACH: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
});

export function encodeIcmp(l: IcmpLayer, ctx: EncodeContext): Uint8Array {
  const p = ctx.path;
  const out = new Uint8Array(ICMP_HEADER_LEN);
  out[0] = specUint(l.icmpType, 8, `${p}.icmpType`);
  out[1] = specUint(l.code, 8, `${p}.code`);
  writeU32(out, 4, specOptUint(l.rest, 32, `${p}.rest`, 0));
  let checksum = l.checksum;
  if (checksum === undefined) {
    let initial = 0;
    if (l.type === 'icmpv6') {
      const { src, dst } = pseudoOf(ctx);
      initial = pseudoHeaderSum(src, dst, IP_PROTO.ICMPV6, ICMP_HEADER_LEN + ctx.tail.length);
    }
    checksum = internetChecksum(ctx.tail, 0, ctx.tail.length, onesComplementSum(out, 0, ICMP_HEADER_LEN, initial));
  }
  writeU16(out, 2, specUint(checksum, 16, `${p}.checksum`));
  return out;
}

export function decodeIcmp(
  cur: ParseCursor,
  off: number,
  end: number,
  type: 'icmp' | 'icmpv6',
  ip: IpContext | undefined,
): Decoded<IcmpLayer> | undefined {
  const b = cur.bytes;
  if (!need(cur, type, off, ICMP_HEADER_LEN, end)) return undefined;
  const stored = readU16(b, off + 2);
  const fragment = ip?.fragment === true;
  if (!fragment && (type === 'icmp' || ip !== undefined)) {
    const initial = type === 'icmpv6' && ip !== undefined ? pseudoHeaderSum(ip.src, ip.dst, IP_PROTO.ICMPV6, end - off) : 0;
    const computed = ~onesComplementSum(b, off + 4, end, onesComplementSum(b, off, off + 2, initial)) & 0xffff;
    const status = checksumVerifies(b, off, end, initial) ? 'ok' : 'bad';
    recordChecksum(cur, { layer: type, layerIndex: cur.layerIndex, offset: off + 2, stored, computed, status });
  }
  const layer: IcmpLayer = { type, icmpType: b[off]!, code: b[off + 1]!, checksum: stored, rest: readU32(b, off + 4) };
  return { layer, length: ICMP_HEADER_LEN };
}
