/**
 * Path attributes other than MP_REACH_NLRI / MP_UNREACH_NLRI (see `multiprotocol.ts`): their
 * values, how each is checked on receipt and which RFC 7606 action a fault takes, and encoding.
 *
 * Per attribute (RFC 7606 §7, RFC 6793 §6, RFC 8092 §6, RFC 7607): faults of ORIGIN, AS_PATH,
 * NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST and
 * LARGE_COMMUNITIES are treat-as-withdraw; faults of ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH and
 * AS4_AGGREGATOR are attribute discard. Optional / Transitive bits in conflict with the type are
 * handled as the attribute's own malformation (RFC 7606 §3(c)). LOCAL_PREF, ORIGINATOR_ID and
 * CLUSTER_LIST from an external peer, and AS4_PATH / AS4_AGGREGATOR on a 4-octet session, are
 * discarded; confederation segments of AS4_PATH are dropped (RFC 6793 §3), and reported as a
 * discard. An unrecognised attribute flagged well-known resets the session (3/2); an
 * unrecognised optional transitive one is kept (`unknown`), an optional non-transitive one dropped.
 */
import { formatIPv4, ipv4Bytes, usableIPv4NextHop } from './address.js';
import type { Aggregator, AsPath } from './as-path.js';
import { checkAsPath, decodeAsPath, hasAsZero, hasConfedSegment, needsFourOctets, isConfedSegment, writeAsPath } from './as-path.js';
import { AS_TRANS, AttrFlag, AttrType } from './constants.js';
import type { SessionContext } from './context.js';
import {
  NA_ERR_BGP_ATTRIBUTE_FLAGS,
  NA_ERR_BGP_ATTRIBUTE_LENGTH,
  NA_ERR_BGP_ATTRIBUTE_NOT_ACCEPTED,
  NA_ERR_BGP_INVALID_MESSAGE,
  NA_ERR_BGP_INVALID_NEXT_HOP,
  NA_ERR_BGP_INVALID_ORIGIN,
  NA_ERR_BGP_MALFORMED_AS_PATH,
  NA_ERR_BGP_OPTIONAL_ATTRIBUTE,
  NA_ERR_BGP_UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
  bgpError,
} from './errors.js';
import type { BgpNotificationError, ErrorAction } from './errors.js';
import type { ErrorFactory } from '@netaccel/errors';
import type { ByteWriter } from './wire.js';

export type Origin = 'igp' | 'egp' | 'incomplete';
const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];

export interface LargeCommunity {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

/** An optional transitive attribute this codec does not know, carried as received. */
export interface UnknownAttribute {
  readonly typeCode: number;
  /** The Partial bit; see `forwardable()` for passing the attribute on. */
  readonly partial: boolean;
  readonly value: Buffer;
}

export interface PathAttributes {
  readonly origin?: Origin;
  readonly asPath?: AsPath;
  /** IPv4 next hop of the NLRI field (NEXT_HOP); IPv6 next hops travel in MP_REACH_NLRI. */
  readonly nextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: true;
  readonly aggregator?: Aggregator;
  /** RFC 1997 communities as 32-bit numbers (high 16 bits: AS). */
  readonly communities?: readonly number[];
  readonly originatorId?: string;
  readonly clusterList?: readonly string[];
  /** Only on 2-octet sessions; `reconcileAs4()` merges it into `asPath`. */
  readonly as4Path?: AsPath;
  readonly as4Aggregator?: Aggregator;
  readonly largeCommunities?: readonly LargeCommunity[];
  /** Unrecognised optional transitive attributes, by type code. */
  readonly unknown?: readonly UnknownAttribute[];
}

export type MutablePathAttributes = { -readonly [K in keyof PathAttributes]: PathAttributes[K] };

interface AttributeSpec {
  readonly name: string;
  /** Expected Optional and Transitive bits. */
  readonly flags: number;
  /** RFC 7606 action for a malformed attribute of this type. */
  readonly malformed: ErrorAction;
}

const O = AttrFlag.Optional;
const T = AttrFlag.Transitive;
const spec = (name: string, flags: number, malformed: ErrorAction): AttributeSpec => ({ name, flags, malformed });

/** The attributes this codec recognises. */
export const ATTRIBUTE_SPECS: ReadonlyMap<number, AttributeSpec> = new Map([
  [AttrType.Origin, spec('ORIGIN', T, 'treat-as-withdraw')],
  [AttrType.AsPath, spec('AS_PATH', T, 'treat-as-withdraw')],
  [AttrType.NextHop, spec('NEXT_HOP', T, 'treat-as-withdraw')],
  [AttrType.MultiExitDisc, spec('MULTI_EXIT_DISC', O, 'treat-as-withdraw')],
  [AttrType.LocalPref, spec('LOCAL_PREF', T, 'treat-as-withdraw')],
  [AttrType.AtomicAggregate, spec('ATOMIC_AGGREGATE', T, 'attribute-discard')],
  [AttrType.Aggregator, spec('AGGREGATOR', O | T, 'attribute-discard')],
  [AttrType.Communities, spec('COMMUNITIES', O | T, 'treat-as-withdraw')],
  [AttrType.OriginatorId, spec('ORIGINATOR_ID', O, 'treat-as-withdraw')],
  [AttrType.ClusterList, spec('CLUSTER_LIST', O, 'treat-as-withdraw')],
  [AttrType.MpReachNlri, spec('MP_REACH_NLRI', O, 'session-reset')],
  [AttrType.MpUnreachNlri, spec('MP_UNREACH_NLRI', O, 'session-reset')],
  [AttrType.As4Path, spec('AS4_PATH', O | T, 'attribute-discard')],
  [AttrType.As4Aggregator, spec('AS4_AGGREGATOR', O | T, 'attribute-discard')],
  [AttrType.LargeCommunities, spec('LARGE_COMMUNITIES', O | T, 'treat-as-withdraw')],
]);

export function attributeName(type: number): string {
  return ATTRIBUTE_SPECS.get(type)?.name ?? `attribute ${type}`;
}

/** The fault for an attribute whose Optional / Transitive bits conflict with its type, if any. */
export function checkFlags(type: number, flags: number, raw: Buffer): BgpNotificationError | undefined {
  const s = ATTRIBUTE_SPECS.get(type);
  if (s === undefined || (flags & (O | T)) === s.flags) return undefined;
  return bgpError(NA_ERR_BGP_ATTRIBUTE_FLAGS, { data: raw, action: s.malformed, attributeType: type }, `UPDATE ${s.name}`, flags.toString(16).padStart(2, '0'), s.name);
}

const IBGP_ONLY = new Set<number>([AttrType.LocalPref, AttrType.OriginatorId, AttrType.ClusterList]);
const AS4_ONLY = new Set<number>([AttrType.As4Path, AttrType.As4Aggregator]);

function lengthOk(len: number, unit: number, exact: boolean): boolean {
  return exact ? len === unit : len > 0 && len % unit === 0;
}

/**
 * Decodes one attribute (not MP_REACH_NLRI / MP_UNREACH_NLRI) into `out` or `unknown`. Returns
 * the fault when there is one (its `action` says what to do); `raw` is the whole attribute, the
 * NOTIFICATION data of most UPDATE errors.
 */
export function decodeAttribute(
  type: number,
  flags: number,
  value: Buffer,
  raw: Buffer,
  ctx: SessionContext,
  out: MutablePathAttributes,
  unknown: UnknownAttribute[],
): BgpNotificationError | undefined {
  const s = ATTRIBUTE_SPECS.get(type);
  if (s === undefined) {
    if ((flags & O) === 0) {
      return bgpError(NA_ERR_BGP_UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, { data: raw, attributeType: type }, 'UPDATE attributes', type);
    }
    if ((flags & T) !== 0) unknown.push({ typeCode: type, partial: (flags & AttrFlag.Partial) !== 0, value: Buffer.from(value) });
    return undefined;
  }
  const where = `UPDATE ${s.name}`;
  const fault = (factory: ErrorFactory, action: ErrorAction, ...args: unknown[]): BgpNotificationError =>
    bgpError(factory, { data: raw, action, attributeType: type }, where, ...args);
  const badLength = (expected: string): BgpNotificationError => fault(NA_ERR_BGP_ATTRIBUTE_LENGTH, s.malformed, value.length, expected);
  if (!ctx.ibgp && IBGP_ONLY.has(type)) return fault(NA_ERR_BGP_ATTRIBUTE_NOT_ACCEPTED, 'attribute-discard', 'not accepted from an external peer (RFC 7606 §7)');
  if (ctx.asn4 && AS4_ONLY.has(type)) return fault(NA_ERR_BGP_ATTRIBUTE_NOT_ACCEPTED, 'attribute-discard', 'not accepted on a 4-octet AS session (RFC 6793 §6)');
  const flagFault = checkFlags(type, flags, raw);
  if (flagFault !== undefined) return flagFault;
  const len = value.length;
  switch (type) {
    case AttrType.Origin: {
      if (len !== 1) return badLength('1');
      const origin = ORIGINS[value[0]!];
      if (origin === undefined) return fault(NA_ERR_BGP_INVALID_ORIGIN, s.malformed, value[0]);
      out.origin = origin;
      return undefined;
    }
    case AttrType.AsPath:
    case AttrType.As4Path: {
      const as4 = type === AttrType.As4Path;
      if (as4 && len < 6) return badLength('at least 6');
      const path = decodeAsPath(value, 0, len, as4 || ctx.asn4 ? 4 : 2);
      if (typeof path === 'string') return fault(NA_ERR_BGP_MALFORMED_AS_PATH, s.malformed, path);
      if (hasAsZero(path)) return fault(NA_ERR_BGP_MALFORMED_AS_PATH, s.malformed, 'AS 0 is reserved (RFC 7607)');
      if (!as4) {
        if (!ctx.ibgp && hasConfedSegment(path)) return fault(NA_ERR_BGP_MALFORMED_AS_PATH, s.malformed, 'confederation segment from an external peer (RFC 5065 §5)');
        out.asPath = path;
        return undefined;
      }
      if (!hasConfedSegment(path)) {
        out.as4Path = path;
        return undefined;
      }
      // RFC 6793 §3: confederation segments in AS4_PATH are discarded, the rest is used.
      const kept = path.filter((seg) => !isConfedSegment(seg));
      if (kept.length > 0) out.as4Path = kept;
      return fault(NA_ERR_BGP_MALFORMED_AS_PATH, 'attribute-discard', `confederation segments discarded${kept.length > 0 ? '' : ', nothing left'} (RFC 6793 §3)`);
    }
    case AttrType.NextHop:
      if (len !== 4) return badLength('4');
      if (!usableIPv4NextHop(value)) return fault(NA_ERR_BGP_INVALID_NEXT_HOP, s.malformed, formatIPv4(value));
      out.nextHop = formatIPv4(value);
      return undefined;
    case AttrType.MultiExitDisc:
    case AttrType.LocalPref:
      if (len !== 4) return badLength('4');
      if (type === AttrType.MultiExitDisc) out.med = value.readUInt32BE(0);
      else out.localPref = value.readUInt32BE(0);
      return undefined;
    case AttrType.AtomicAggregate:
      if (len !== 0) return badLength('0');
      out.atomicAggregate = true;
      return undefined;
    case AttrType.Aggregator:
    case AttrType.As4Aggregator: {
      const size = type === AttrType.As4Aggregator || ctx.asn4 ? 4 : 2;
      if (len !== size + 4) return badLength(String(size + 4));
      const asn = size === 4 ? value.readUInt32BE(0) : value.readUInt16BE(0);
      if (asn === 0) return fault(NA_ERR_BGP_OPTIONAL_ATTRIBUTE, s.malformed, 'AS 0 is reserved (RFC 7607)');
      const agg = { asn, address: formatIPv4(value, size) };
      if (type === AttrType.Aggregator) out.aggregator = agg;
      else out.as4Aggregator = agg;
      return undefined;
    }
    case AttrType.Communities:
    case AttrType.ClusterList: {
      if (!lengthOk(len, 4, false)) return badLength('a non-zero multiple of 4');
      if (type === AttrType.Communities) {
        const list: number[] = [];
        for (let i = 0; i < len; i += 4) list.push(value.readUInt32BE(i));
        out.communities = list;
      } else {
        const list: string[] = [];
        for (let i = 0; i < len; i += 4) list.push(formatIPv4(value, i));
        out.clusterList = list;
      }
      return undefined;
    }
    case AttrType.OriginatorId:
      if (len !== 4) return badLength('4');
      out.originatorId = formatIPv4(value);
      return undefined;
    case AttrType.LargeCommunities: {
      if (!lengthOk(len, 12, false)) return badLength('a non-zero multiple of 12');
      const list: LargeCommunity[] = [];
      for (let i = 0; i < len; i += 12) {
        list.push({ globalAdmin: value.readUInt32BE(i), localData1: value.readUInt32BE(i + 4), localData2: value.readUInt32BE(i + 8) });
      }
      out.largeCommunities = list;
      return undefined;
    }
    default:
      // MP_REACH_NLRI / MP_UNREACH_NLRI are decoded by the UPDATE decoder itself.
      return undefined;
  }
}

function invalid(path: string, what: string): Error {
  return NA_ERR_BGP_INVALID_MESSAGE(`${path}: ${what}`);
}

function u32(v: unknown, path: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 0xffffffff) throw invalid(path, `expected an integer ${min}..4294967295, got ${JSON.stringify(v)}`);
  return v;
}

function ipv4(v: unknown, path: string): Buffer {
  const b = typeof v === 'string' ? ipv4Bytes(v) : undefined;
  if (b === undefined) throw invalid(path, `expected an IPv4 address, got ${JSON.stringify(v)}`);
  return b;
}

function nonEmpty<X>(v: unknown, path: string): readonly X[] {
  if (!Array.isArray(v) || v.length === 0) throw invalid(path, 'expected a non-empty list');
  return v as X[];
}

function aggregatorBytes(agg: Aggregator, size: 2 | 4, path: string): (w: ByteWriter) => void {
  if (agg === null || typeof agg !== 'object') throw invalid(path, 'expected { asn, address }');
  const asn = u32(agg.asn, `${path}.asn`, 1);
  const addr = ipv4(agg.address, `${path}.address`);
  return (w) => {
    if (size === 4) w.u32(asn);
    else w.u16(asn > 0xffff ? AS_TRANS : asn);
    w.bytes(addr);
  };
}

/**
 * Checks and writes the attributes (all but MP_REACH_NLRI / MP_UNREACH_NLRI), ordered by type
 * code. On a 2-octet session, AS numbers above 65535 become AS_TRANS and AS4_PATH /
 * AS4_AGGREGATOR are added unless given (RFC 6793 §4.2.2).
 */
export function writeAttributes(w: ByteWriter, a: PathAttributes, ctx: SessionContext, path: string): void {
  if (a === null || typeof a !== 'object') throw invalid(path, 'expected an object');
  const items: [number, number, (w: ByteWriter) => void][] = [];
  const add = (type: number, flags: number, body: (w: ByteWriter) => void): void => {
    items.push([type, flags, body]);
  };
  const ibgpOnly = (key: string): void => {
    if (!ctx.ibgp) throw invalid(`${path}.${key}`, 'is not sent to an external peer');
  };
  if (a.origin !== undefined) {
    const i = ORIGINS.indexOf(a.origin);
    if (i < 0) throw invalid(`${path}.origin`, `expected igp, egp or incomplete, got ${JSON.stringify(a.origin)}`);
    add(AttrType.Origin, T, (w) => w.u8(i));
  }
  const asSize = ctx.asn4 ? 4 : 2;
  if (a.asPath !== undefined) {
    const p = checkAsPath(a.asPath, `${path}.asPath`);
    if (!ctx.ibgp && hasConfedSegment(p)) throw invalid(`${path}.asPath`, 'confederation segments are not sent to an external peer');
    add(AttrType.AsPath, T, (w) => writeAsPath(w, p, asSize));
  }
  if (a.nextHop !== undefined) {
    const nh = ipv4(a.nextHop, `${path}.nextHop`);
    if (!usableIPv4NextHop(nh)) throw invalid(`${path}.nextHop`, `${a.nextHop} is not a usable next hop`);
    add(AttrType.NextHop, T, (w) => w.bytes(nh));
  }
  if (a.med !== undefined) {
    const v = u32(a.med, `${path}.med`);
    add(AttrType.MultiExitDisc, O, (w) => w.u32(v));
  }
  if (a.localPref !== undefined) {
    ibgpOnly('localPref');
    const v = u32(a.localPref, `${path}.localPref`);
    add(AttrType.LocalPref, T, (w) => w.u32(v));
  }
  if (a.atomicAggregate !== undefined) {
    if (a.atomicAggregate !== true) throw invalid(`${path}.atomicAggregate`, 'expected true or absent');
    add(AttrType.AtomicAggregate, T, () => undefined);
  }
  if (a.aggregator !== undefined) add(AttrType.Aggregator, O | T, aggregatorBytes(a.aggregator, asSize, `${path}.aggregator`));
  if (a.communities !== undefined) {
    const list = nonEmpty<number>(a.communities, `${path}.communities`).map((c, i) => u32(c, `${path}.communities[${i}]`));
    add(AttrType.Communities, O | T, (w) => list.forEach((c) => w.u32(c)));
  }
  if (a.originatorId !== undefined) {
    ibgpOnly('originatorId');
    const id = ipv4(a.originatorId, `${path}.originatorId`);
    add(AttrType.OriginatorId, O, (w) => w.bytes(id));
  }
  if (a.clusterList !== undefined) {
    ibgpOnly('clusterList');
    const ids = nonEmpty<string>(a.clusterList, `${path}.clusterList`).map((c, i) => ipv4(c, `${path}.clusterList[${i}]`));
    add(AttrType.ClusterList, O, (w) => ids.forEach((id) => w.bytes(id)));
  }
  writeAs4(a, ctx, path, add);
  if (a.largeCommunities !== undefined) {
    const list = nonEmpty<LargeCommunity>(a.largeCommunities, `${path}.largeCommunities`).map((c, i) => {
      const p = `${path}.largeCommunities[${i}]`;
      if (c === null || typeof c !== 'object') throw invalid(p, 'expected { globalAdmin, localData1, localData2 }');
      return [u32(c.globalAdmin, `${p}.globalAdmin`), u32(c.localData1, `${p}.localData1`), u32(c.localData2, `${p}.localData2`)];
    });
    add(AttrType.LargeCommunities, O | T, (w) => list.forEach((c) => c.forEach((x) => w.u32(x))));
  }
  writeUnknown(a.unknown, path, add);
  items.sort((x, y) => x[0] - y[0]);
  for (const [type, flags, body] of items) w.attribute(flags, type, body);
}

type Add = (type: number, flags: number, body: (w: ByteWriter) => void) => void;

function writeAs4(a: PathAttributes, ctx: SessionContext, path: string, add: Add): void {
  if (ctx.asn4) {
    if (a.as4Path !== undefined) throw invalid(`${path}.as4Path`, 'is not sent on a 4-octet AS session (RFC 6793 §4.1)');
    if (a.as4Aggregator !== undefined) throw invalid(`${path}.as4Aggregator`, 'is not sent on a 4-octet AS session (RFC 6793 §4.1)');
    return;
  }
  let as4Path: AsPath | undefined;
  if (a.as4Path !== undefined) {
    as4Path = checkAsPath(a.as4Path, `${path}.as4Path`);
    if (as4Path.length === 0 || hasConfedSegment(as4Path)) throw invalid(`${path}.as4Path`, 'expected segments without confederation types (RFC 6793 §3)');
  } else if (a.asPath !== undefined && needsFourOctets(a.asPath)) {
    const auto = a.asPath.filter((s) => !isConfedSegment(s));
    if (auto.length > 0) as4Path = auto;
  }
  if (as4Path !== undefined) {
    const p = as4Path;
    add(AttrType.As4Path, O | T, (w) => writeAsPath(w, p, 4));
  }
  const agg4 = a.as4Aggregator ?? (a.aggregator !== undefined && a.aggregator.asn > 0xffff ? a.aggregator : undefined);
  if (agg4 !== undefined) add(AttrType.As4Aggregator, O | T, aggregatorBytes(agg4, 4, `${path}.as4Aggregator`));
}

function writeUnknown(list: readonly UnknownAttribute[] | undefined, path: string, add: Add): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw invalid(`${path}.unknown`, 'expected a list');
  const seen = new Set<number>();
  list.forEach((u, i) => {
    const p = `${path}.unknown[${i}]`;
    if (u === null || typeof u !== 'object') throw invalid(p, 'expected { typeCode, partial, value }');
    if (!Number.isInteger(u.typeCode) || u.typeCode < 0 || u.typeCode > 255 || ATTRIBUTE_SPECS.has(u.typeCode)) {
      throw invalid(`${p}.typeCode`, `expected a type code 0..255 this codec does not recognise, got ${JSON.stringify(u.typeCode)}`);
    }
    if (seen.has(u.typeCode)) throw invalid(`${p}.typeCode`, `type ${u.typeCode} appears twice`);
    seen.add(u.typeCode);
    if (!Buffer.isBuffer(u.value)) throw invalid(`${p}.value`, 'expected a Buffer');
    add(u.typeCode, O | T | (u.partial ? AttrFlag.Partial : 0), (w) => w.bytes(u.value));
  });
}

/**
 * The attributes to pass on to another peer: unrecognised optional transitive attributes get
 * the Partial bit (RFC 4271 §5). Unrecognised non-transitive ones were dropped on receipt.
 */
export function forwardable(a: PathAttributes): PathAttributes {
  if (a.unknown === undefined || a.unknown.every((u) => u.partial)) return a;
  return { ...a, unknown: a.unknown.map((u) => (u.partial ? u : { ...u, partial: true })) };
}
