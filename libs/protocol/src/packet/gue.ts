/**
 * GUE, Generic UDP Encapsulation (draft-ietf-intarea-gue).
 *
 * Version 0 header (4 bytes + hlen words of extension fields):
 *   | ver=0 (2) | C (1) | hlen (5) | proto/ctype (8) | flags (16) | fields … |
 * With C = 0 `proto` is the IP protocol of the payload (4 = IPv4, 41 = IPv6 …); with C = 1 it is
 * a control message type. Version 1 ("direct IP") has no header: the UDP payload is an IPv4 or
 * IPv6 packet, whose version nibble (0100 / 0110) starts with the bits 01.
 */
import { NA_ERR_PACKET_BAD_VERSION, NA_ERR_PACKET_INVALID_SPEC } from '../errors.js';
import type { Decoded, EncodeContext, FieldSpan, ParseCursor } from './codec.js';
import { derived, ipProtoOf, need } from './codec.js';
import type { GueLayer } from './model.js';
import { IP_PROTO } from './model.js';
import { copyBytes, readU16, specBool, specBytes, specOptUint, writeU16 } from './wire.js';

/** The UDP port the parser treats as GUE by default (Katran's GUE port). */
export const GUE_DEFAULT_PORT = 6080;
export const GUE_HEADER_LEN = 4;

export const GUE_FIELDS: readonly FieldSpan[] = [
  { name: 'version/control/hlen', offset: 0, length: 1 },
  { name: 'proto', offset: 1, length: 1 },
  { name: 'flags', offset: 2, length: 2 },
  { name: 'fields', offset: 4, length: -1 },
];

export function encodeGue(l: GueLayer, ctx: EncodeContext): Uint8Array {
  const p = ctx.path;
  const version = l.version ?? 0;
  if (version === 1) {
    if (ctx.next !== undefined && ctx.next.type !== 'ipv4' && ctx.next.type !== 'ipv6') {
      throw NA_ERR_PACKET_INVALID_SPEC(`${p}.version`, `version 1 carries IPv4 or IPv6 only, got ${ctx.next.type} next`);
    }
    return new Uint8Array(0);
  }
  if (version !== 0) throw NA_ERR_PACKET_INVALID_SPEC(`${p}.version`, `expected 0 or 1, got ${JSON.stringify(version)}`);
  const fields = specBytes(l.fields, `${p}.fields`);
  if (fields.length % 4 !== 0) throw NA_ERR_PACKET_INVALID_SPEC(`${p}.fields`, `expected a multiple of 4 bytes, got ${fields.length}`);
  const out = new Uint8Array(GUE_HEADER_LEN + fields.length);
  const control = specBool(l.control, `${p}.control`, false);
  out[0] = (control ? 0x20 : 0) | derived(l.hlen, fields.length / 4, 5, `${p}.hlen`);
  out[1] = derived(l.proto, ipProtoOf(ctx.next), 8, `${p}.proto`);
  writeU16(out, 2, specOptUint(l.flags, 16, `${p}.flags`, 0));
  out.set(fields, GUE_HEADER_LEN);
  return out;
}

export interface DecodedGue extends Decoded<GueLayer> {
  /** What follows: an IP header, or nothing the parser decodes. */
  next: 'ipv4' | 'ipv6' | undefined;
}

export function decodeGue(cur: ParseCursor, off: number, end: number): DecodedGue | undefined {
  const b = cur.bytes;
  if (!need(cur, 'gue', off, 1, end)) return undefined;
  const version = b[off]! >> 6;
  const details = { layer: 'gue', layerIndex: cur.layerIndex, offset: off, field: 'version' };
  if (version === 1) {
    const nibble = b[off]! >> 4;
    if (nibble !== 4 && nibble !== 6) {
      cur.issue(NA_ERR_PACKET_BAD_VERSION.with({ details }, 'gue', off, '1 with IPv4 (4) or IPv6 (6) inside', nibble));
      return undefined;
    }
    return { layer: { type: 'gue', version: 1 }, length: 0, next: nibble === 4 ? 'ipv4' : 'ipv6' };
  }
  if (version !== 0) {
    cur.issue(NA_ERR_PACKET_BAD_VERSION.with({ details }, 'gue', off, '0 or 1', version));
    return undefined;
  }
  if (!need(cur, 'gue', off, GUE_HEADER_LEN, end)) return undefined;
  const hlen = b[off]! & 0x1f;
  const total = GUE_HEADER_LEN + hlen * 4;
  if (!need(cur, 'gue', off, total, end)) return undefined;
  const control = (b[off]! & 0x20) !== 0;
  const proto = b[off + 1]!;
  const layer: GueLayer = {
    type: 'gue',
    version: 0,
    control,
    hlen,
    proto,
    flags: readU16(b, off + 2),
    fields: copyBytes(b, off + GUE_HEADER_LEN, off + total),
  };
  const next = control ? undefined : proto === IP_PROTO.IPIP ? 'ipv4' : proto === IP_PROTO.IPV6 ? 'ipv6' : undefined;
  return { layer, length: total, next };
}
