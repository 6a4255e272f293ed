/**
 * Ethernet II and 802.1Q / 802.1ad (QinQ) tags.
 */
import { formatMac, parseMac } from './mac.js';
import type { Decoded, EncodeContext, FieldSpan, ParseCursor } from './codec.js';
import { derived, etherTypeOf, need } from './codec.js';
import type { EthernetLayer, VlanLayer } from './model.js';
import { ETHERTYPE } from './model.js';
import { readU16, specBool, specOptUint, specUint, writeU16 } from './wire.js';

export const ETH_HEADER_LEN = 14;
export const VLAN_TAG_LEN = 4;

/** TPIDs recognised as a VLAN tag when parsing: 802.1Q, 802.1ad and the old 0x9100 QinQ. */
export const VLAN_TPIDS: readonly number[] = Object.freeze([ETHERTYPE.VLAN, ETHERTYPE.QINQ, 0x9100]);

export const ETH_FIELDS: readonly FieldSpan[] = [
  { name: 'dst', offset: 0, length: 6 },
  { name: 'src', offset: 6, length: 6 },
  { name: 'etherType', offset: 12, length: 2 },
];

export const VLAN_FIELDS: readonly FieldSpan[] = [
  { name: 'pcp/dei/vid', offset: 0, length: 2 },
  { name: 'etherType', offset: 2, length: 2 },
];

export function encodeEthernet(l: EthernetLayer, ctx: EncodeContext): Uint8Array {
  const out = new Uint8Array(ETH_HEADER_LEN);
  out.set(parseMac(l.dst, `${ctx.path}.dst`), 0);
  out.set(parseMac(l.src, `${ctx.path}.src`), 6);
  writeU16(out, 12, derived(l.etherType, etherTypeOf(ctx.next), 16, `${ctx.path}.etherType`));
  return out;
}

export function encodeVlan(l: VlanLayer, ctx: EncodeContext): Uint8Array {
  const vid = specUint(l.vid, 12, `${ctx.path}.vid`);
  const pcp = specOptUint(l.pcp, 3, `${ctx.path}.pcp`, 0);
  const dei = specBool(l.dei, `${ctx.path}.dei`, false);
  specOptUint(l.tpid, 16, `${ctx.path}.tpid`, ETHERTYPE.VLAN);
  const out = new Uint8Array(VLAN_TAG_LEN);
  writeU16(out, 0, (pcp << 13) | (dei ? 0x1000 : 0) | vid);
  writeU16(out, 2, derived(l.etherType, etherTypeOf(ctx.next), 16, `${ctx.path}.etherType`));
  return out;
}

export function decodeEthernet(cur: ParseCursor, off: number, end: number): Decoded<EthernetLayer> | undefined {
  if (!need(cur, 'eth', off, ETH_HEADER_LEN, end)) return undefined;
  const b = cur.bytes;
  return {
    layer: { type: 'eth', dst: formatMac(b, off), src: formatMac(b, off + 6), etherType: readU16(b, off + 12) },
    length: ETH_HEADER_LEN,
  };
}

/** Decodes a tag announced by `tpid` (the previous layer's type field). */
export function decodeVlan(cur: ParseCursor, off: number, end: number, tpid: number): Decoded<VlanLayer> | undefined {
  if (!need(cur, 'vlan', off, VLAN_TAG_LEN, end)) return undefined;
  const tci = readU16(cur.bytes, off);
  return {
    layer: {
      type: 'vlan',
      vid: tci & 0x0fff,
      pcp: tci >> 13,
      dei: (tci & 0x1000) !== 0,
      tpid,
      etherType: readU16(cur.bytes, off + 2),
    },
    length: VLAN_TAG_LEN,
  };
}
