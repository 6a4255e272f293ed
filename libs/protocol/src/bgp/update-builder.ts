/**
 * `update()`: turns a list of announcements and withdrawals into as few UPDATE messages as the
 * session's maximum length allows. Announcements with the same next hop and attributes share
 * UPDATEs; IPv4 goes in the NLRI / Withdrawn Routes fields, IPv6 in MP_REACH_NLRI /
 * MP_UNREACH_NLRI. Following RFC 7606 §5.1, each UPDATE carries only one of: withdrawn routes,
 * NLRI, MP_REACH_NLRI, MP_UNREACH_NLRI, with the MP attribute first.
 */
import { nlriPrefix } from './address.js';
import type { PathAttributes } from './attributes.js';
import { writeAttributes } from './attributes.js';
import { HEADER_LENGTH } from './constants.js';
import type { Family } from './constants.js';
import type { SessionContext } from './context.js';
import { DEFAULT_CONTEXT, addPathOn, maxMessageLength } from './context.js';
import { NA_ERR_BGP_INVALID_MESSAGE, NA_ERR_BGP_MESSAGE_TOO_LARGE } from './errors.js';
import { nextHopField } from './multiprotocol.js';
import type { Nlri, PreparedNlri } from './nlri.js';
import { nlriLength, prepareNlri } from './nlri.js';
import type { UpdateMessage } from './update.js';
import { ByteWriter, attributeHeaderLength } from './wire.js';

/** Path attributes of an announcement; the next hop is given beside them. */
export type RouteAttributes = Omit<PathAttributes, 'nextHop'>;

export interface Announcement {
  readonly prefix: string;
  /** Path identifier, when add-path is negotiated for sending the family (default 0 then). */
  readonly pathId?: number;
  /** IPv4 next hop for an IPv4 prefix, global IPv6 next hop for an IPv6 prefix. */
  readonly nextHop: string;
  readonly linkLocalNextHop?: string;
  /** Default: ORIGIN IGP and an empty AS_PATH (prepend the local AS for external peers). */
  readonly attrs?: RouteAttributes;
}

export type Withdrawal = string | { readonly prefix: string; readonly pathId?: number };

export interface UpdateInput {
  readonly announce?: readonly Announcement[];
  readonly withdraw?: readonly Withdrawal[];
}

const ROUTE_DEFAULTS: RouteAttributes = { origin: 'igp', asPath: [] };

/** Octets of an UPDATE without withdrawn routes, attributes or NLRI. */
const EMPTY_UPDATE = HEADER_LENGTH + 4;

interface Group {
  readonly family: Family;
  readonly attributes: PathAttributes;
  readonly attrLength: number;
  readonly nextHop: string;
  readonly linkLocalNextHop: string | undefined;
  readonly nextHopLength: number;
  readonly items: PreparedNlri[];
}

function invalid(path: string, what: string): Error {
  return NA_ERR_BGP_INVALID_MESSAGE(`${path}: ${what}`);
}

function toNlri(p: PreparedNlri): Nlri {
  return p.pathId === undefined ? { prefix: p.prefix } : { prefix: p.prefix, pathId: p.pathId };
}

function prepare(n: { prefix: string; pathId?: number }, ctx: SessionContext, path: string): PreparedNlri {
  const parsed = nlriPrefix(n?.prefix);
  if (typeof parsed === 'string') throw invalid(`${path}.prefix`, parsed);
  if (!ctx.families.includes(parsed.family)) throw invalid(`${path}.prefix`, `${parsed.family} is not a family of this session`);
  return prepareNlri(n, parsed.family, addPathOn(ctx, parsed.family, 'send'), path);
}

/**
 * Greedily packs `items` into messages: `total(n)` is the size of a message holding `n` octets of
 * NLRI; `emit` builds a message from one batch.
 */
function pack(items: readonly PreparedNlri[], max: number, total: (nlriOctets: number) => number, emit: (batch: Nlri[]) => UpdateMessage, out: UpdateMessage[]): void {
  let batch: Nlri[] = [];
  let octets = 0;
  for (const it of items) {
    const size = nlriLength(it.length, it.pathId !== undefined);
    if (total(octets + size) > max) {
      if (batch.length === 0) throw NA_ERR_BGP_MESSAGE_TOO_LARGE(`UPDATE for ${it.prefix}`, total(size), max);
      out.push(emit(batch));
      batch = [];
      octets = 0;
    }
    batch.push(toNlri(it));
    octets += size;
  }
  if (batch.length > 0) out.push(emit(batch));
}

/**
 * Builds the UPDATE messages for `input` on a session: withdrawals first (IPv4, then IPv6), then
 * announcements grouped by next hop and attributes. Every prefix appears exactly once; each
 * message encodes within the session's maximum length (4096, or 65535 with extended messages).
 */
export function update(input: UpdateInput, ctx: SessionContext = DEFAULT_CONTEXT): UpdateMessage[] {
  if (input === null || typeof input !== 'object') throw invalid('update', 'expected { announce, withdraw }');
  for (const k of Object.keys(input)) if (k !== 'announce' && k !== 'withdraw') throw invalid(`update.${k}`, 'unknown field');
  const announce = input.announce ?? [];
  const withdraw = input.withdraw ?? [];
  if (!Array.isArray(announce)) throw invalid('update.announce', 'expected a list');
  if (!Array.isArray(withdraw)) throw invalid('update.withdraw', 'expected a list');
  const max = maxMessageLength(ctx, 'send');
  const seen = new Set<string>();
  const once = (p: PreparedNlri, path: string): void => {
    const key = `${p.prefix}#${p.pathId ?? 0}`;
    if (seen.has(key)) throw invalid(`${path}.prefix`, `${p.prefix}${p.pathId === undefined ? '' : ` (path ${p.pathId})`} appears more than once`);
    seen.add(key);
  };

  const v4Withdrawn: PreparedNlri[] = [];
  const v6Withdrawn: PreparedNlri[] = [];
  withdraw.forEach((x, i) => {
    const path = `update.withdraw[${i}]`;
    const p = prepare(typeof x === 'string' ? { prefix: x } : x, ctx, path);
    once(p, path);
    (p.family === 'ipv4-unicast' ? v4Withdrawn : v6Withdrawn).push(p);
  });

  const groups = new Map<string, Group>();
  announce.forEach((a, i) => {
    const path = `update.announce[${i}]`;
    if (a === null || typeof a !== 'object') throw invalid(path, 'expected { prefix, nextHop, attrs }');
    const p = prepare(a, ctx, path);
    once(p, path);
    const attrs = a.attrs ?? {};
    if (attrs === null || typeof attrs !== 'object') throw invalid(`${path}.attrs`, 'expected an object');
    if ('nextHop' in attrs) throw invalid(`${path}.attrs.nextHop`, 'give the next hop as announce[].nextHop');
    const nh = nextHopField(p.family, a.nextHop, a.linkLocalNextHop, path);
    const v4 = p.family === 'ipv4-unicast';
    const attributes: PathAttributes = v4 ? { ...ROUTE_DEFAULTS, ...attrs, nextHop: a.nextHop } : { ...ROUTE_DEFAULTS, ...attrs };
    const w = new ByteWriter(128);
    writeAttributes(w, attributes, ctx, `${path}.attrs`);
    const bytes = w.finish();
    const key = `${p.family}|${nh.toString('hex')}|${bytes.toString('latin1')}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        family: p.family,
        attributes,
        attrLength: bytes.length,
        nextHop: a.nextHop,
        linkLocalNextHop: a.linkLocalNextHop,
        nextHopLength: nh.length,
        items: [],
      };
      groups.set(key, g);
    }
    g.items.push(p);
  });

  const out: UpdateMessage[] = [];
  pack(v4Withdrawn, max, (n) => EMPTY_UPDATE + n, (withdrawn) => ({ type: 'update', withdrawn, attributes: {}, nlri: [] }), out);
  pack(
    v6Withdrawn,
    max,
    (n) => EMPTY_UPDATE + attributeHeaderLength(3 + n) + 3 + n,
    (withdrawn) => ({ type: 'update', withdrawn: [], attributes: {}, nlri: [], mpUnreach: { family: 'ipv6-unicast', withdrawn } }),
    out,
  );
  for (const g of groups.values()) {
    if (g.family === 'ipv4-unicast') {
      pack(g.items, max, (n) => EMPTY_UPDATE + g.attrLength + n, (nlri) => ({ type: 'update', withdrawn: [], attributes: g.attributes, nlri }), out);
      continue;
    }
    const mpFixed = 5 + g.nextHopLength;
    const ll = g.linkLocalNextHop === undefined ? {} : { linkLocalNextHop: g.linkLocalNextHop };
    pack(
      g.items,
      max,
      (n) => EMPTY_UPDATE + g.attrLength + attributeHeaderLength(mpFixed + n) + mpFixed + n,
      (nlri) => ({ type: 'update', withdrawn: [], attributes: g.attributes, nlri: [], mpReach: { family: g.family, nextHop: g.nextHop, ...ll, nlri } }),
      out,
    );
  }
  return out;
}
