/**
 * IPv4 (RFC 791) with options, header checksum and fragment fields.
 */
import {
  NA_ERR_PACKET_BAD_IHL,
  NA_ERR_PACKET_BAD_LENGTH,
  NA_ERR_PACKET_BAD_OPTION,
  NA_ERR_PACKET_BAD_VERSION,
  NA_ERR_PACKET_INVALID_SPEC,
} from '../errors.js';
import { formatIPv4, parseIPv4 } from '../ip/address.js';
import { checksumVerifies, internetChecksum, onesComplementSum } from './checksum.js';
import type { Decoded, EncodeContext, FieldSpan, ParseCursor } from './codec.js';
import { derived, ipProtoOf, need, recordChecksum } from './codec.js';
import type { Ipv4Layer } from './model.js';
import { checkTlvOptions, copyBytes, padZeros, readU16, specBool, specBytes, specOptUint, writeU16 } from './wire.js';

export const IPV4_HEADER_LEN = 20;
const MAX_OPTIONS_LEN = 40;

export const IPV4_FIELDS: readonly FieldSpan[] = [
  { name: 'version/ihl', offset: 0, length: 1 },
  { name: 'tos', offset: 1, length: 1 },
  { name: 'totalLength', offset: 2, length: 2 },
  { name: 'id', offset: 4, length: 2 },
  { name: 'flags/fragOffset', offset: 6, length: 2 },
  { name: 'ttl', offset: 8, length: 1 },
  { name: 'protocol', offset: 9, length: 1 },
  { name: 'checksum', offset: 10, length: 2 },
  { name: 'src', offset: 12, length: 4 },
  { name: 'dst', offset: 16, length: 4 },
  { name: 'options', offset: 20, length: -1 },
];

export function encodeIpv4(l: Ipv4Layer, ctx: EncodeContext): Uint8Array {
  const p = ctx.path;
  const options = padZeros(specBytes(l.options, `${p}.options`), 4);
  if (l.ihl === undefined && options.length > MAX_OPTIONS_LEN) {
    throw NA_ERR_PACKET_INVALID_SPEC(`${p}.options`, `expected at most ${MAX_OPTIONS_LEN} bytes, got ${options.length}`);
  }
  const hdrLen = IPV4_HEADER_LEN + options.length;
  const ihl = specOptUint(l.ihl, 4, `${p}.ihl`, hdrLen / 4);
  const totalLength = derived(l.totalLength, hdrLen + ctx.tail.length, 16, `${p}.totalLength`);
  const flags =
    (specBool(l.reservedFlag, `${p}.reservedFlag`, false) ? 4 : 0) |
    (specBool(l.df, `${p}.df`, false) ? 2 : 0) |
    (specBool(l.mf, `${p}.mf`, false) ? 1 : 0);
  const out = new Uint8Array(hdrLen);
  out[0] = 0x40 | ihl;
  out[1] = specOptUint(l.tos, 8, `${p}.tos`, 0);
  writeU16(out, 2, totalLength);
  writeU16(out, 4, specOptUint(l.id, 16, `${p}.id`, 0));
  writeU16(out, 6, (flags << 13) | specOptUint(l.fragOffset, 13, `${p}.fragOffset`, 0));
  out[8] = specOptUint(l.ttl, 8, `${p}.ttl`, 64);
  out[9] = derived(l.protocol, ipProtoOf(ctx.next), 8, `${p}.protocol`);
  out.set(parseIPv4(l.src, `${p}.src`), 12);
  out.set(parseIPv4(l.dst, `${p}.dst`), 16);
  out.set(options, IPV4_HEADER_LEN);
  writeU16(out, 10, specOptUint(l.checksum, 16, `${p}.checksum`, internetChecksum(out)));
  return out;
}

export type FragmentKind = 'none' | 'first' | 'later';

export interface DecodedIp<L> extends Decoded<L> {
  /** End of the datagram in the input (bounded by what is there). */
  end: number;
  /** The protocol / next header after the fixed header. */
  proto: number;
  fragment: FragmentKind;
  src: Uint8Array;
  dst: Uint8Array;
}

export function decodeIpv4(cur: ParseCursor, off: number, end: number): DecodedIp<Ipv4Layer> | undefined {
  const b = cur.bytes;
  if (!need(cur, 'ipv4', off, IPV4_HEADER_LEN, end)) return undefined;
  const at = { details: { layer: 'ipv4', layerIndex: cur.layerIndex, offset: off } };
  const version = b[off]! >> 4;
  if (version !== 4) {
    cur.issue(NA_ERR_PACKET_BAD_VERSION.with({ details: { ...at.details, field: 'version' } }, 'ipv4', off, '4', version));
    return undefined;
  }
  const ihl = b[off]! & 0x0f;
  if (ihl < 5) {
    cur.issue(NA_ERR_PACKET_BAD_IHL.with({ details: { ...at.details, field: 'ihl' } }, off, ihl));
    return undefined;
  }
  const hdrLen = ihl * 4;
  if (!need(cur, 'ipv4', off, hdrLen, end)) return undefined;
  const totalLength = readU16(b, off + 2);
  let dgEnd = off + totalLength;
  const lenDetails = { details: { ...at.details, field: 'totalLength', offset: off + 2 } };
  if (totalLength < hdrLen) {
    const why = `${totalLength} is below the header length ${hdrLen}`;
    cur.issue(NA_ERR_PACKET_BAD_LENGTH.with(lenDetails, 'ipv4', 'totalLength', off + 2, why));
    dgEnd = end;
  } else if (dgEnd > end) {
    const why = `${totalLength} exceeds the ${end - off} bytes left`;
    cur.issue(NA_ERR_PACKET_BAD_LENGTH.with(lenDetails, 'ipv4', 'totalLength', off + 2, why));
    dgEnd = end;
  }
  const options = copyBytes(b, off + IPV4_HEADER_LEN, off + hdrLen);
  const bad = checkTlvOptions(options, 'ip');
  if (bad !== undefined) {
    const o = off + IPV4_HEADER_LEN + bad.offset;
    cur.issue(NA_ERR_PACKET_BAD_OPTION.with({ details: { ...at.details, field: 'options', offset: o } }, 'ipv4', o, bad.message));
  }
  const stored = readU16(b, off + 10);
  const computed = ~onesComplementSum(b, off + 12, off + hdrLen, onesComplementSum(b, off, off + 10)) & 0xffff;
  const ok = checksumVerifies(b, off, off + hdrLen);
  recordChecksum(cur, { layer: 'ipv4', layerIndex: cur.layerIndex, offset: off + 10, stored, computed, status: ok ? 'ok' : 'bad' });
  const flagsFrag = readU16(b, off + 6);
  const fragOffset = flagsFrag & 0x1fff;
  const mf = (flagsFrag & 0x2000) !== 0;
  const layer: Ipv4Layer = {
    type: 'ipv4',
    src: formatIPv4(b, off + 12),
    dst: formatIPv4(b, off + 16),
    tos: b[off + 1]!,
    id: readU16(b, off + 4),
    reservedFlag: (flagsFrag & 0x8000) !== 0,
    df: (flagsFrag & 0x4000) !== 0,
    mf,
    fragOffset,
    ttl: b[off + 8]!,
    protocol: b[off + 9]!,
    ihl,
    totalLength,
    checksum: stored,
    options,
  };
  return {
    layer,
    length: hdrLen,
    end: dgEnd,
    proto: b[off + 9]!,
    fragment: fragOffset > 0 ? 'later' : mf ? 'first' : 'none',
    src: copyBytes(b, off + 12, off + 16),
    dst: copyBytes(b, off + 16, off + 20),
  };
}
