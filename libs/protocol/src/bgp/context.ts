/**
 * The session context the codecs need: what the two OPEN messages negotiated (4-octet AS numbers,
 * add-path per family and direction, extended messages, route refresh, families) and whether the
 * peer is internal. `negotiate()` produces one; `createContext()` builds one from options for
 * tests and for the time before the OPEN exchange.
 */
import { FAMILIES, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from './constants.js';
import type { Family } from './constants.js';
import { NA_ERR_BGP_INVALID_OPTIONS } from './errors.js';

export interface Directions {
  /** In messages this speaker sends. */
  readonly send: boolean;
  /** In messages this speaker receives. */
  readonly receive: boolean;
}

export interface SessionContext {
  /** AS numbers are 4 octets in AS_PATH and AGGREGATOR (RFC 6793): both OPENs carried capability 65. */
  readonly asn4: boolean;
  /** Messages up to 65535 octets (RFC 8654) in each direction; 4096 otherwise. */
  readonly extendedMessages: Directions;
  /** Families whose NLRI carry path identifiers (RFC 7911), per direction. */
  readonly addPath: { readonly send: readonly Family[]; readonly receive: readonly Family[] };
  /** Families accepted in MP_REACH_NLRI / MP_UNREACH_NLRI and allowed in UPDATEs sent. */
  readonly families: readonly Family[];
  /** ROUTE-REFRESH messages (RFC 2918) may be sent (the peer advertised the capability) / are accepted (this speaker did). */
  readonly routeRefresh: Directions;
  /** The peer is internal (same AS, or a member of the same confederation). */
  readonly ibgp: boolean;
}

export interface SessionContextOptions {
  asn4?: boolean;
  extendedMessages?: boolean | { send?: boolean; receive?: boolean };
  addPath?: { send?: readonly Family[]; receive?: readonly Family[] };
  families?: readonly Family[];
  routeRefresh?: boolean | { send?: boolean; receive?: boolean };
  ibgp?: boolean;
}

/** Defaults: what holds before the OPEN exchange, between two RFC 4271 speakers. */
const DEFAULTS = {
  asn4: false, // 2-octet AS numbers
  extendedMessages: false, // 4096 octets per message
  addPathSend: [] as readonly Family[], // no path identifiers
  addPathReceive: [] as readonly Family[],
  families: ['ipv4-unicast'] as readonly Family[], // implied without multiprotocol capabilities (RFC 4760)
  routeRefresh: false,
  ibgp: false, // external peer
} as const;

const KEYS = new Set(['asn4', 'extendedMessages', 'addPath', 'families', 'routeRefresh', 'ibgp']);

function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw NA_ERR_BGP_INVALID_OPTIONS(`${path}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function families(v: unknown, path: string, dflt: readonly Family[]): readonly Family[] {
  if (v === undefined) return dflt;
  if (!Array.isArray(v)) throw NA_ERR_BGP_INVALID_OPTIONS(`${path}: expected a list of families, got ${JSON.stringify(v)}`);
  v.forEach((f: unknown, i) => {
    if (!FAMILIES.includes(f as Family)) {
      throw NA_ERR_BGP_INVALID_OPTIONS(`${path}[${i}]: expected ${FAMILIES.join(' or ')}, got ${JSON.stringify(f)}`);
    }
  });
  return Object.freeze([...new Set(v as Family[])]);
}

function directions(v: unknown, path: string, dflt: boolean): Directions {
  if (v === undefined || typeof v === 'boolean') {
    const on = bool(v, path, dflt);
    return Object.freeze({ send: on, receive: on });
  }
  if (typeof v !== 'object' || v === null) throw NA_ERR_BGP_INVALID_OPTIONS(`${path}: expected a boolean or { send, receive }`);
  const d = v as { send?: unknown; receive?: unknown };
  for (const k of Object.keys(d)) if (k !== 'send' && k !== 'receive') throw NA_ERR_BGP_INVALID_OPTIONS(`${path}.${k}: unknown option`);
  return Object.freeze({ send: bool(d.send, `${path}.send`, dflt), receive: bool(d.receive, `${path}.receive`, dflt) });
}

/** Validates options once and returns a frozen context; absent options take the defaults. */
export function createContext(opts: SessionContextOptions = {}, path = 'context'): SessionContext {
  if (opts === null || typeof opts !== 'object') throw NA_ERR_BGP_INVALID_OPTIONS(`${path}: expected an object`);
  for (const k of Object.keys(opts)) if (!KEYS.has(k)) throw NA_ERR_BGP_INVALID_OPTIONS(`${path}.${k}: unknown option`);
  const extendedMessages = directions(opts.extendedMessages, `${path}.extendedMessages`, DEFAULTS.extendedMessages);
  const ap = opts.addPath ?? {};
  if (typeof ap !== 'object' || ap === null) throw NA_ERR_BGP_INVALID_OPTIONS(`${path}.addPath: expected { send, receive }`);
  return Object.freeze({
    asn4: bool(opts.asn4, `${path}.asn4`, DEFAULTS.asn4),
    extendedMessages,
    addPath: Object.freeze({
      send: families(ap.send, `${path}.addPath.send`, DEFAULTS.addPathSend),
      receive: families(ap.receive, `${path}.addPath.receive`, DEFAULTS.addPathReceive),
    }),
    families: families(opts.families, `${path}.families`, DEFAULTS.families),
    routeRefresh: directions(opts.routeRefresh, `${path}.routeRefresh`, DEFAULTS.routeRefresh),
    ibgp: bool(opts.ibgp, `${path}.ibgp`, DEFAULTS.ibgp),
  });
}

/** The context before the OPEN exchange. */
export const DEFAULT_CONTEXT: SessionContext = createContext();

/** Largest message, header included, this speaker may send (`'send'`) or accept (`'receive'`). */
export function maxMessageLength(ctx: SessionContext, direction: 'send' | 'receive'): number {
  return ctx.extendedMessages[direction] ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/** True when NLRI of `family` carry path identifiers in `direction`. */
export function addPathOn(ctx: SessionContext, family: Family, direction: 'send' | 'receive'): boolean {
  return ctx.addPath[direction].includes(family);
}
