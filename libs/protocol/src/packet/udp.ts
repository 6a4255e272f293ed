/**
 * UDP (RFC 768) with the pseudo-header checksum. Over IPv4 a zero checksum means "none"; a
 * computed zero is sent as 0xffff. Over IPv6 a zero checksum is invalid (RFC 8200 §8.1) unless
 * the tunnel exception of RFC 6935/6936 is allowed (parse option udp6ZeroChecksum).
 */
import { NA_ERR_PACKET_BAD_LENGTH } from '../errors.js';
import { checksumVerifies, internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';
import type { Decoded, EncodeContext, FieldSpan, ParseCursor } from './codec.js';
import { derived, need, recordChecksum } from './codec.js';
import type { UdpLayer } from './model.js';
import { IP_PROTO } from './model.js';
import type { IpContext } from './tcp.js';
import { pseudoOf } from './tcp.js';
import { readU16, specUint, writeU16 } from './wire.js';

export const UDP_HEADER_LEN = 8;

export const UDP_FIELDS: readonly FieldSpan[] = [
  { name: 'sport', offset: 0, length: 2 },
  { name: 'dport', offset: 2, length: 2 },
  { name: 'length', offset: 4, length: 2 },
  { name: 'checksum', offset: 6, length: 2 },
];

export function encodeUdp(l: UdpLayer, ctx: EncodeContext): Uint8Array {
  const p = ctx.path;
  const out = new Uint8Array(UDP_HEADER_LEN);
  writeU16(out, 0, specUint(l.sport, 16, `${p}.sport`));
  writeU16(out, 2, specUint(l.dport, 16, `${p}.dport`));
  const length = derived(l.length, UDP_HEADER_LEN + ctx.tail.length, 16, `${p}.length`);
  writeU16(out, 4, length);
  let checksum = l.checksum;
  if (checksum === undefined) {
    const { src, dst } = pseudoOf(ctx);
    // The checksum covers `length` bytes (or what there is, when a crafted length overruns).
    const covered = Math.max(0, Math.min(length, UDP_HEADER_LEN + ctx.tail.length) - UDP_HEADER_LEN);
    const sum = onesComplementSum(out, 0, UDP_HEADER_LEN, pseudoHeaderSum(src, dst, IP_PROTO.UDP, length));
    checksum = internetChecksum(ctx.tail, 0, covered, sum);
    if (checksum === 0) checksum = 0xffff;
  }
  writeU16(out, 6, specUint(checksum, 16, `${p}.checksum`));
  return out;
}

export interface DecodedUdp extends Decoded<UdpLayer> {
  /** End of the UDP datagram in the input. */
  end: number;
}

export function decodeUdp(cur: ParseCursor, off: number, end: number, ip: IpContext | undefined): DecodedUdp | undefined {
  const b = cur.bytes;
  if (!need(cur, 'udp', off, UDP_HEADER_LEN, end)) return undefined;
  const length = readU16(b, off + 4);
  let udpEnd = off + length;
  if (ip === undefined || !ip.fragment) {
    const d = { details: { layer: 'udp', layerIndex: cur.layerIndex, offset: off + 4, field: 'length' } };
    if (length < UDP_HEADER_LEN) {
      cur.issue(NA_ERR_PACKET_BAD_LENGTH.with(d, 'udp', 'length', off + 4, `${length} is below 8`));
      udpEnd = end;
    } else if (udpEnd > end) {
      cur.issue(NA_ERR_PACKET_BAD_LENGTH.with(d, 'udp', 'length', off + 4, `${length} exceeds the ${end - off} bytes left`));
      udpEnd = end;
    }
  } else {
    udpEnd = end; // a first fragment: the length covers fragments not here
  }
  const stored = readU16(b, off + 6);
  if (ip !== undefined && !ip.fragment) {
    const v4 = ip.src.length === 4;
    const pseudo = pseudoHeaderSum(ip.src, ip.dst, IP_PROTO.UDP, length);
    let computed = ~onesComplementSum(b, off + 8, udpEnd, onesComplementSum(b, off, off + 6, pseudo)) & 0xffff;
    if (computed === 0) computed = 0xffff;
    let status: 'ok' | 'bad' | 'absent';
    if (stored === 0) status = v4 || cur.opts.udp6ZeroChecksum ? 'absent' : 'bad';
    else status = checksumVerifies(b, off, udpEnd, pseudo) ? 'ok' : 'bad';
    recordChecksum(cur, { layer: 'udp', layerIndex: cur.layerIndex, offset: off + 6, stored, computed, status });
  }
  const layer: UdpLayer = { type: 'udp', sport: readU16(b, off), dport: readU16(b, off + 2), length, checksum: stored };
  return { layer, length: UDP_HEADER_LEN, end: udpEnd };
}
