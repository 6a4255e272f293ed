/**
 * MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760) for IPv4 and IPv6 unicast; IPv6 next hops are a
 * global address, optionally followed by a link-local one (16 or 32 octets, RFC 2545 §3).
 *
 * RFC 7606 §5.3 / §7.11: these attributes must be parsed for treat-as-withdraw to work, so a
 * malformed one resets the session: Optional/Transitive flags in conflict (3/4), length below 5 /
 * 3, a next hop length other than the family's or overrunning the attribute (3/9, Optional
 * Attribute Error per RFC 4760 §7), NLRI that do not parse (3/10). A next hop that parses but
 * cannot be used (unspecified, multicast) makes the UPDATE treat-as-withdraw (3/8). An AFI/SAFI
 * the session did not negotiate, or this codec does not carry, is discarded (3/9).
 */
import { formatIPv4, formatIPv6, ipv4Bytes, ipv6Bytes, usableIPv4NextHop, usableIPv6NextHop } from './address.js';
import { checkFlags } from './attributes.js';
import { AttrType, afiSafiOf, familyOf } from './constants.js';
import type { Family } from './constants.js';
import type { SessionContext } from './context.js';
import { addPathOn } from './context.js';
import { NA_ERR_BGP_INVALID_MESSAGE, NA_ERR_BGP_INVALID_NEXT_HOP, NA_ERR_BGP_OPTIONAL_ATTRIBUTE, bgpError } from './errors.js';
import type { BgpNotificationError } from './errors.js';
import type { Nlri } from './nlri.js';
import { decodeNlri, writeNlriList } from './nlri.js';
import type { ByteWriter } from './wire.js';

export interface MpReach {
  readonly family: Family;
  /** IPv4 address for ipv4-unicast, global IPv6 address for ipv6-unicast. */
  readonly nextHop: string;
  /** IPv6 link-local next hop, sent after the global one (32-octet next hop field). */
  readonly linkLocalNextHop?: string;
  readonly nlri: readonly Nlri[];
}

export interface MpUnreach {
  readonly family: Family;
  readonly withdrawn: readonly Nlri[];
}

export interface MpDecoded<T> {
  /** The attribute, unless it was discarded. */
  readonly value?: T;
  /** A treat-as-withdraw or attribute-discard fault; session resets are thrown. */
  readonly fault?: BgpNotificationError;
}

function resetError(type: number, raw: Buffer, what: string): BgpNotificationError {
  const name = type === AttrType.MpReachNlri ? 'MP_REACH_NLRI' : 'MP_UNREACH_NLRI';
  return bgpError(NA_ERR_BGP_OPTIONAL_ATTRIBUTE, { data: raw, attributeType: type }, `UPDATE ${name}`, what);
}

function negotiatedFamily(type: number, afi: number, safi: number, raw: Buffer, ctx: SessionContext): Family | BgpNotificationError {
  const family = familyOf(afi, safi);
  if (family !== undefined && ctx.families.includes(family)) return family;
  const name = type === AttrType.MpReachNlri ? 'MP_REACH_NLRI' : 'MP_UNREACH_NLRI';
  return bgpError(NA_ERR_BGP_OPTIONAL_ATTRIBUTE, { data: raw, action: 'attribute-discard', attributeType: type }, `UPDATE ${name}`, `AFI ${afi} / SAFI ${safi} is not a family of this session`);
}

/** Decodes MP_REACH_NLRI; throws the session-reset errors. */
export function decodeMpReach(flags: number, value: Buffer, raw: Buffer, ctx: SessionContext): MpDecoded<MpReach> {
  const type = AttrType.MpReachNlri;
  const flagFault = checkFlags(type, flags, raw);
  if (flagFault !== undefined) throw flagFault;
  if (value.length < 5) throw resetError(type, raw, `length ${value.length} is below 5`);
  const nhLen = value[3]!;
  if (5 + nhLen > value.length) throw resetError(type, raw, `next hop of ${nhLen} octets overruns the attribute`);
  const family = negotiatedFamily(type, value.readUInt16BE(0), value[2]!, raw, ctx);
  if (typeof family !== 'string') return { fault: family };
  const v4 = family === 'ipv4-unicast';
  if (v4 ? nhLen !== 4 : nhLen !== 16 && nhLen !== 32) {
    throw resetError(type, raw, `next hop length ${nhLen} is invalid for ${family}, expected ${v4 ? '4' : '16 or 32'}`);
  }
  const nlri = decodeNlri(value, 5 + nhLen, value.length, family, addPathOn(ctx, family, 'receive'), 'UPDATE MP_REACH_NLRI');
  const nextHop = v4 ? formatIPv4(value, 4) : formatIPv6(value, 4);
  const reach: MpReach = nhLen === 32 ? { family, nextHop, linkLocalNextHop: formatIPv6(value, 20), nlri } : { family, nextHop, nlri };
  const usable = v4 ? usableIPv4NextHop(value, 4) : usableIPv6NextHop(value, 4);
  if (usable) return { value: reach };
  const fault = bgpError(NA_ERR_BGP_INVALID_NEXT_HOP, { data: raw, action: 'treat-as-withdraw', attributeType: type }, 'UPDATE MP_REACH_NLRI', nextHop);
  return { value: reach, fault };
}

/** Decodes MP_UNREACH_NLRI; throws the session-reset errors. */
export function decodeMpUnreach(flags: number, value: Buffer, raw: Buffer, ctx: SessionContext): MpDecoded<MpUnreach> {
  const type = AttrType.MpUnreachNlri;
  const flagFault = checkFlags(type, flags, raw);
  if (flagFault !== undefined) throw flagFault;
  if (value.length < 3) throw resetError(type, raw, `length ${value.length} is below 3`);
  const family = negotiatedFamily(type, value.readUInt16BE(0), value[2]!, raw, ctx);
  if (typeof family !== 'string') return { fault: family };
  const withdrawn = decodeNlri(value, 3, value.length, family, addPathOn(ctx, family, 'receive'), 'UPDATE MP_UNREACH_NLRI');
  return { value: { family, withdrawn } };
}

function invalid(path: string, what: string): Error {
  return NA_ERR_BGP_INVALID_MESSAGE(`${path}: ${what}`);
}

function sendable(family: unknown, ctx: SessionContext, path: string): Family {
  if (!ctx.families.includes(family as Family)) {
    throw invalid(`${path}.family`, `expected a family of this session (${ctx.families.join(', ')}), got ${JSON.stringify(family)}`);
  }
  return family as Family;
}

/** Octets of the next hop field for a reach of `family`. */
export function nextHopLength(family: Family, linkLocal: boolean): number {
  return family === 'ipv4-unicast' ? 4 : linkLocal ? 32 : 16;
}

/** Checks a next hop for `family` and returns the next hop field. */
export function nextHopField(family: Family, nextHop: unknown, linkLocal: unknown, path: string): Buffer {
  if (family === 'ipv4-unicast') {
    const b = typeof nextHop === 'string' ? ipv4Bytes(nextHop) : undefined;
    if (b === undefined || !usableIPv4NextHop(b)) throw invalid(`${path}.nextHop`, `expected a usable IPv4 next hop, got ${JSON.stringify(nextHop)}`);
    if (linkLocal !== undefined) throw invalid(`${path}.linkLocalNextHop`, 'only IPv6 next hops have a link-local part');
    return b;
  }
  const g = typeof nextHop === 'string' ? ipv6Bytes(nextHop) : undefined;
  if (g === undefined || !usableIPv6NextHop(g)) throw invalid(`${path}.nextHop`, `expected a usable global IPv6 next hop, got ${JSON.stringify(nextHop)}`);
  if (linkLocal === undefined) return g;
  const ll = typeof linkLocal === 'string' ? ipv6Bytes(linkLocal) : undefined;
  if (ll === undefined) throw invalid(`${path}.linkLocalNextHop`, `expected an IPv6 address, got ${JSON.stringify(linkLocal)}`);
  return Buffer.concat([g, ll]);
}

/** Writes MP_REACH_NLRI. */
export function writeMpReach(w: ByteWriter, reach: MpReach, ctx: SessionContext, path: string): void {
  if (reach === null || typeof reach !== 'object') throw invalid(path, 'expected { family, nextHop, nlri }');
  const family = sendable(reach.family, ctx, path);
  const nh = nextHopField(family, reach.nextHop, reach.linkLocalNextHop, path);
  const { afi, safi } = afiSafiOf(family);
  w.attribute(0x80, AttrType.MpReachNlri, (w) => {
    w.u16(afi).u8(safi).u8(nh.length).bytes(nh).u8(0);
    writeNlriList(w, reach.nlri, family, addPathOn(ctx, family, 'send'), `${path}.nlri`);
  });
}

/** Writes MP_UNREACH_NLRI. */
export function writeMpUnreach(w: ByteWriter, unreach: MpUnreach, ctx: SessionContext, path: string): void {
  if (unreach === null || typeof unreach !== 'object') throw invalid(path, 'expected { family, withdrawn }');
  const family = sendable(unreach.family, ctx, path);
  const { afi, safi } = afiSafiOf(family);
  w.attribute(0x80, AttrType.MpUnreachNlri, (w) => {
    w.u16(afi).u8(safi);
    writeNlriList(w, unreach.withdrawn, family, addPathOn(ctx, family, 'send'), `${path}.withdrawn`);
  });
}
