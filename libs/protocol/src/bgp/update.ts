/**
 * UPDATE message (RFC 4271 §4.3, RFC 4760) and its error handling as revised by RFC 7606.
 *
 * Decoding yields one of three results, or throws a session-reset `BgpNotificationError`:
 * - `ok`: the UPDATE is sound;
 * - `ok-with-discards`: some attributes were discarded (RFC 7606 "attribute discard"), the rest
 *   of the UPDATE stands;
 * - `treat-as-withdraw`: every prefix the UPDATE announces or withdraws must be treated as
 *   withdrawn (RFC 7606 §2).
 * When several faults occur the strongest action wins (§3(h)). Session resets: Withdrawn Routes
 * Length or Total Path Attribute Length overrunning the message (3/1, §3(b)); NLRI or withdrawn
 * routes that do not parse (3/10, §5.3); a second MP_REACH_NLRI / MP_UNREACH_NLRI (3/1, §3(g));
 * a malformed MP_REACH_NLRI / MP_UNREACH_NLRI, also when it overruns the attribute section; an
 * unrecognised well-known attribute (3/2). Other duplicates are discarded (§3(g)); an attribute
 * overrunning the attribute section, or a truncated attribute header, is treat-as-withdraw (§4);
 * so is a missing ORIGIN or AS_PATH when the UPDATE announces NLRI, or a missing NEXT_HOP when
 * the NLRI field is not empty (§3(d), 3/3 with the type code as data).
 */
import type { PathAttributes, MutablePathAttributes, UnknownAttribute } from './attributes.js';
import { attributeName, decodeAttribute, writeAttributes } from './attributes.js';
import { AttrFlag, AttrType, FAMILIES } from './constants.js';
import type { Family } from './constants.js';
import type { SessionContext } from './context.js';
import { addPathOn } from './context.js';
import {
  NA_ERR_BGP_ATTRIBUTE_LENGTH,
  NA_ERR_BGP_INVALID_MESSAGE,
  NA_ERR_BGP_MALFORMED_ATTRIBUTE_LIST,
  NA_ERR_BGP_MISSING_WELL_KNOWN_ATTRIBUTE,
  bgpError,
} from './errors.js';
import type { BgpNotificationError } from './errors.js';
import type { MpReach, MpUnreach } from './multiprotocol.js';
import { decodeMpReach, decodeMpUnreach, writeMpReach, writeMpUnreach } from './multiprotocol.js';
import type { Nlri } from './nlri.js';
import { decodeNlri, writeNlriList } from './nlri.js';
import type { ByteWriter } from './wire.js';

export interface UpdateMessage {
  readonly type: 'update';
  /** The Withdrawn Routes field (IPv4 unicast). */
  readonly withdrawn: readonly Nlri[];
  readonly attributes: PathAttributes;
  /** The NLRI field (IPv4 unicast, next hop in `attributes.nextHop`). */
  readonly nlri: readonly Nlri[];
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
}

export type UpdateDecodeResult =
  | { readonly type: 'update'; readonly kind: 'ok'; readonly update: UpdateMessage }
  | {
      readonly type: 'update';
      readonly kind: 'ok-with-discards';
      readonly update: UpdateMessage;
      /** One error per discarded attribute (`attributeType`, NOTIFICATION fields for logs). */
      readonly discarded: readonly BgpNotificationError[];
    }
  | {
      readonly type: 'update';
      readonly kind: 'treat-as-withdraw';
      /** Every prefix the UPDATE carried (withdrawn or announced, all families). */
      readonly withdrawn: readonly Nlri[];
      /** The first fault that called for treat-as-withdraw. */
      readonly reason: BgpNotificationError;
      /** All faults found, discards included. */
      readonly faults: readonly BgpNotificationError[];
    };

const V4: Family = 'ipv4-unicast';

function listError(what: string, action: 'session-reset' | 'treat-as-withdraw' | 'attribute-discard' = 'session-reset', attributeType?: number): BgpNotificationError {
  return bgpError(NA_ERR_BGP_MALFORMED_ATTRIBUTE_LIST, { action, ...(attributeType === undefined ? {} : { attributeType }) }, 'UPDATE', what);
}

/** Decodes the body of an UPDATE message (after the 19-octet header). */
export function decodeUpdate(body: Buffer, ctx: SessionContext): UpdateDecodeResult {
  const end = body.length;
  if (end < 4) throw listError(`body of ${end} octets is shorter than the two length fields`);
  const wrLen = body.readUInt16BE(0);
  if (4 + wrLen > end) throw listError(`withdrawn routes length ${wrLen} overruns the message`);
  const taLen = body.readUInt16BE(2 + wrLen);
  const attrStart = 4 + wrLen;
  const attrEnd = attrStart + taLen;
  if (attrEnd > end) throw listError(`total path attribute length ${taLen} overruns the message`);
  const v4AddPath = addPathOn(ctx, V4, 'receive');
  const withdrawn = decodeNlri(body, 2, 2 + wrLen, V4, v4AddPath, 'UPDATE withdrawn routes');
  const nlri = decodeNlri(body, attrEnd, end, V4, v4AddPath, 'UPDATE NLRI');

  const attrs: MutablePathAttributes = {};
  const unknown: UnknownAttribute[] = [];
  const faults: BgpNotificationError[] = [];
  const seen = new Uint8Array(256);
  let mpReach: MpReach | undefined;
  let mpUnreach: MpUnreach | undefined;
  let pos = attrStart;
  while (pos < attrEnd) {
    const flags = body[pos]!;
    const head = (flags & AttrFlag.ExtendedLength) !== 0 ? 4 : 3;
    if (attrEnd - pos < head) {
      faults.push(listError(`${attrEnd - pos} octets left where an attribute header of ${head} is expected (RFC 7606 §4)`, 'treat-as-withdraw'));
      break;
    }
    const type = body[pos + 1]!;
    const len = head === 4 ? body.readUInt16BE(pos + 2) : body[pos + 2]!;
    const vStart = pos + head;
    const vEnd = vStart + len;
    const mp = type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri;
    if (vEnd > attrEnd) {
      const err = bgpError(
        NA_ERR_BGP_ATTRIBUTE_LENGTH,
        { data: body.subarray(pos, attrEnd), action: mp ? 'session-reset' : 'treat-as-withdraw', attributeType: type },
        `UPDATE ${attributeName(type)}`,
        len,
        `at most ${attrEnd - vStart}, the rest of the path attributes (RFC 7606 §4)`,
      );
      if (mp) throw err;
      faults.push(err);
      break;
    }
    const raw = body.subarray(pos, vEnd);
    const value = body.subarray(vStart, vEnd);
    pos = vEnd;
    if (seen[type] !== 0) {
      if (mp) throw listError(`${attributeName(type)} appears more than once (RFC 7606 §3(g))`, 'session-reset', type);
      faults.push(listError(`${attributeName(type)} appears more than once; all but the first are discarded (RFC 7606 §3(g))`, 'attribute-discard', type));
      continue;
    }
    seen[type] = 1;
    if (mp) {
      if (type === AttrType.MpReachNlri) {
        const r = decodeMpReach(flags, value, raw, ctx);
        mpReach = r.value;
        if (r.fault !== undefined) faults.push(r.fault);
      } else {
        const r = decodeMpUnreach(flags, value, raw, ctx);
        mpUnreach = r.value;
        if (r.fault !== undefined) faults.push(r.fault);
      }
      continue;
    }
    const fault = decodeAttribute(type, flags, value, raw, ctx, attrs, unknown);
    if (fault === undefined) continue;
    if (fault.action === 'session-reset') throw fault;
    faults.push(fault);
  }
  if (unknown.length > 0) attrs.unknown = unknown.sort((x, y) => x.typeCode - y.typeCode);

  if (nlri.length > 0 || (mpReach !== undefined && mpReach.nlri.length > 0)) {
    const required: number[] = [AttrType.Origin, AttrType.AsPath];
    if (nlri.length > 0) required.push(AttrType.NextHop);
    for (const t of required) {
      if (seen[t] === 0) {
        faults.push(bgpError(NA_ERR_BGP_MISSING_WELL_KNOWN_ATTRIBUTE, { data: Uint8Array.of(t), action: 'treat-as-withdraw', attributeType: t }, 'UPDATE', attributeName(t)));
      }
    }
  }

  const reason = faults.find((f) => f.action === 'treat-as-withdraw');
  if (reason !== undefined) {
    const all = [...withdrawn, ...(mpUnreach?.withdrawn ?? []), ...nlri, ...(mpReach?.nlri ?? [])];
    return { type: 'update', kind: 'treat-as-withdraw', withdrawn: all, reason, faults };
  }
  const update: UpdateMessage = {
    type: 'update',
    withdrawn,
    attributes: attrs,
    nlri,
    ...(mpReach === undefined ? {} : { mpReach }),
    ...(mpUnreach === undefined ? {} : { mpUnreach }),
  };
  if (faults.length > 0) return { type: 'update', kind: 'ok-with-discards', update, discarded: faults };
  return { type: 'update', kind: 'ok', update };
}

function invalid(path: string, what: string): Error {
  return NA_ERR_BGP_INVALID_MESSAGE(`${path}: ${what}`);
}

/**
 * Writes the body of an UPDATE message. MP_REACH_NLRI / MP_UNREACH_NLRI come first (RFC 7606
 * §5.1), then the other attributes by type code. An UPDATE announcing NLRI must carry ORIGIN and
 * AS_PATH, and NEXT_HOP when the NLRI field is used.
 */
export function writeUpdate(w: ByteWriter, msg: UpdateMessage, ctx: SessionContext, path = 'update'): void {
  for (const k of ['withdrawn', 'nlri'] as const) {
    if (!Array.isArray(msg[k])) throw invalid(`${path}.${k}`, 'expected a list of NLRI');
    if (msg[k].length > 0 && !ctx.families.includes(V4)) throw invalid(`${path}.${k}`, `${V4} is not a family of this session`);
  }
  const a = msg.attributes;
  if (a === null || typeof a !== 'object') throw invalid(`${path}.attributes`, 'expected an object');
  const announces = msg.nlri.length > 0 || (msg.mpReach !== undefined && Array.isArray(msg.mpReach.nlri) && msg.mpReach.nlri.length > 0);
  if (announces) {
    if (a.origin === undefined) throw invalid(`${path}.attributes.origin`, 'is required when the UPDATE announces NLRI');
    if (a.asPath === undefined) throw invalid(`${path}.attributes.asPath`, 'is required when the UPDATE announces NLRI');
  }
  if (msg.nlri.length > 0 && a.nextHop === undefined) throw invalid(`${path}.attributes.nextHop`, 'is required with the NLRI field');
  const addPath = addPathOn(ctx, V4, 'send');
  const wrAt = w.reserve(2);
  writeNlriList(w, msg.withdrawn, V4, addPath, `${path}.withdrawn`);
  w.setU16(wrAt, w.length - wrAt - 2);
  const taAt = w.reserve(2);
  if (msg.mpReach !== undefined) writeMpReach(w, msg.mpReach, ctx, `${path}.mpReach`);
  if (msg.mpUnreach !== undefined) writeMpUnreach(w, msg.mpUnreach, ctx, `${path}.mpUnreach`);
  writeAttributes(w, a, ctx, `${path}.attributes`);
  w.setU16(taAt, w.length - taAt - 2);
  writeNlriList(w, msg.nlri, V4, addPath, `${path}.nlri`);
}

/** The End-of-RIB marker of a family (RFC 4724 §2). */
export function endOfRib(family: Family): UpdateMessage {
  if (!FAMILIES.includes(family)) throw invalid('endOfRib.family', `expected ${FAMILIES.join(' or ')}, got ${JSON.stringify(family)}`);
  if (family === V4) return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  return { type: 'update', withdrawn: [], attributes: {}, nlri: [], mpUnreach: { family, withdrawn: [] } };
}

/** The family whose End-of-RIB marker this UPDATE is, or undefined when it is not one. */
export function isEndOfRib(msg: UpdateMessage): Family | undefined {
  if (msg.withdrawn.length > 0 || msg.nlri.length > 0 || msg.mpReach !== undefined) return undefined;
  if (Object.keys(msg.attributes).length > 0) return undefined;
  if (msg.mpUnreach === undefined) return V4;
  return msg.mpUnreach.withdrawn.length === 0 ? msg.mpUnreach.family : undefined;
}
