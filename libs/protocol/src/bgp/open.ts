/**
 * OPEN message (RFC 4271 §4.2) with the Capabilities optional parameter (RFC 5492) and the
 * extended optional parameters length of RFC 9072, its checks (§6.2) and the `open()` builder.
 *
 * Checks, in order: version 4 (else 2/1, data = 0x0004, the largest version supported), My AS not
 * 0 (2/2, RFC 7607), hold time not 1 or 2 s (2/6), BGP identifier not 0 (2/3, RFC 6286),
 * optional parameters consistent with the message length (2/0) and of type Capabilities (else
 * 2/4). Checks that need the local configuration (expected peer AS, identifier collision,
 * required capabilities) are made by `negotiate()`.
 */
import { formatIPv4, ipv4Bytes } from './address.js';
import { AS_TRANS, BGP_VERSION, FAMILIES, OptionalParameter, afiSafiOf } from './constants.js';
import type { Family } from './constants.js';
import type { Capability } from './capabilities.js';
import { decodeCapabilities, writeCapability } from './capabilities.js';
import {
  NA_ERR_BGP_BAD_BGP_IDENTIFIER,
  NA_ERR_BGP_BAD_PEER_AS,
  NA_ERR_BGP_INVALID_MESSAGE,
  NA_ERR_BGP_INVALID_OPTIONS,
  NA_ERR_BGP_OPEN_MALFORMED,
  NA_ERR_BGP_UNACCEPTABLE_HOLD_TIME,
  NA_ERR_BGP_UNSUPPORTED_OPTIONAL_PARAMETER,
  NA_ERR_BGP_UNSUPPORTED_VERSION,
  bgpError,
} from './errors.js';
import { ByteWriter } from './wire.js';

export interface OpenMessage {
  readonly type: 'open';
  /** The 2-octet My AS field: the AS, or AS_TRANS (23456) when the AS needs 4 octets. */
  readonly myAs: number;
  /** Seconds: 0 (no keepalives) or 3..65535. */
  readonly holdTime: number;
  /** BGP identifier, dotted quad. */
  readonly routerId: string;
  /** All capabilities of all Capabilities optional parameters, in order. */
  readonly capabilities: readonly Capability[];
}

/** The sender's AS: the 4-octet AS capability's when present, else the My AS field. */
export function openAsn(msg: OpenMessage): number {
  for (const c of msg.capabilities) if (c.type === 'four-octet-as') return c.asn;
  return msg.myAs;
}

/** Decodes the body of an OPEN message (after the 19-octet header). */
export function decodeOpen(body: Buffer): OpenMessage {
  const path = 'OPEN';
  const version = body[0]!;
  if (version !== BGP_VERSION) throw bgpError(NA_ERR_BGP_UNSUPPORTED_VERSION, { data: Uint8Array.of(0, BGP_VERSION) }, path, version);
  const myAs = body.readUInt16BE(1);
  if (myAs === 0) throw bgpError(NA_ERR_BGP_BAD_PEER_AS, {}, `${path}.myAs`, 0, 'AS 0 is reserved (RFC 7607)');
  const holdTime = body.readUInt16BE(3);
  if (holdTime === 1 || holdTime === 2) throw bgpError(NA_ERR_BGP_UNACCEPTABLE_HOLD_TIME, {}, `${path}.holdTime`, holdTime, 3);
  const id = body.readUInt32BE(5);
  if (id === 0) throw bgpError(NA_ERR_BGP_BAD_BGP_IDENTIFIER, {}, `${path}.routerId`, '0.0.0.0', 'it must not be zero (RFC 6286)');
  const optLen = body[9]!;
  let pos = 10;
  let end = 10 + optLen;
  let wideLengths = false;
  if (optLen === 255 && body.length >= 11 && body[10] === OptionalParameter.ExtendedLength) {
    if (body.length < 13) throw bgpError(NA_ERR_BGP_OPEN_MALFORMED, {}, path, 'extended optional parameters length is truncated');
    wideLengths = true;
    pos = 13;
    end = 13 + body.readUInt16BE(11);
  }
  if (end !== body.length) {
    throw bgpError(NA_ERR_BGP_OPEN_MALFORMED, {}, path, `optional parameters end at octet ${end + 19} but the message has ${body.length + 19}`);
  }
  const capabilities: Capability[] = [];
  const head = wideLengths ? 3 : 2;
  while (pos < end) {
    if (end - pos < head) throw bgpError(NA_ERR_BGP_OPEN_MALFORMED, {}, path, 'optional parameter header is truncated');
    const type = body[pos]!;
    const len = wideLengths ? body.readUInt16BE(pos + 1) : body[pos + 1]!;
    const start = pos + head;
    if (start + len > end) throw bgpError(NA_ERR_BGP_OPEN_MALFORMED, {}, path, `optional parameter type ${type} of length ${len} overruns the message`);
    if (type !== OptionalParameter.Capabilities) throw bgpError(NA_ERR_BGP_UNSUPPORTED_OPTIONAL_PARAMETER, {}, path, type);
    decodeCapabilities(body, start, start + len, path, capabilities);
    pos = start + len;
  }
  return { type: 'open', myAs, holdTime, routerId: formatIPv4(body, 5), capabilities };
}

function invalid(path: string, what: string): Error {
  return NA_ERR_BGP_INVALID_MESSAGE(`${path}: ${what}`);
}

/** Writes the body of an OPEN message. */
export function writeOpen(w: ByteWriter, msg: OpenMessage, path = 'open'): void {
  if (!Number.isInteger(msg.myAs) || msg.myAs < 1 || msg.myAs > 0xffff) throw invalid(`${path}.myAs`, `expected an integer 1..65535, got ${JSON.stringify(msg.myAs)}`);
  const ht = msg.holdTime;
  if (!Number.isInteger(ht) || (ht !== 0 && (ht < 3 || ht > 0xffff))) throw invalid(`${path}.holdTime`, `expected 0 or 3..65535, got ${JSON.stringify(ht)}`);
  const id = ipv4Bytes(msg.routerId);
  if (id === undefined || id.readUInt32BE(0) === 0) throw invalid(`${path}.routerId`, `expected a non-zero IPv4 address, got ${JSON.stringify(msg.routerId)}`);
  w.u8(BGP_VERSION).u16(msg.myAs).u16(ht).bytes(id);
  // Pack the capabilities into Capabilities parameters of at most 255 octets each.
  const params: Buffer[] = [];
  let cur = new ByteWriter(256);
  msg.capabilities.forEach((cap, i) => {
    const one = new ByteWriter(16);
    writeCapability(one, cap, `${path}.capabilities[${i}]`);
    if (cur.length + one.length > 255) {
      params.push(cur.finish());
      cur = new ByteWriter(256);
    }
    cur.bytes(one.finish());
  });
  if (cur.length > 0) params.push(cur.finish());
  const total = params.reduce((n, p) => n + 2 + p.length, 0);
  if (total <= 255) {
    w.u8(total);
    for (const p of params) w.u8(OptionalParameter.Capabilities).u8(p.length).bytes(p);
    return;
  }
  // RFC 9072: the extended format, with one parameter of 2-octet length holding everything.
  const all = Buffer.concat(params);
  w.u8(255).u8(OptionalParameter.ExtendedLength).u16(3 + all.length);
  w.u8(OptionalParameter.Capabilities).u16(all.length).bytes(all);
}

export type AddPathMode = 'send' | 'receive' | 'both';

export interface OpenOptions {
  /** This speaker's AS, 1..4294967295. */
  asn: number;
  /** BGP identifier, a non-zero dotted quad. */
  routerId: string;
  /** Seconds, 0 or 3..65535. */
  holdTime?: number;
  /** One multiprotocol capability each. */
  families?: readonly Family[];
  routeRefresh?: boolean;
  enhancedRouteRefresh?: boolean;
  /** Forced on when `asn` needs 4 octets. */
  fourOctetAs?: boolean;
  extendedMessages?: boolean;
  addPath?: Partial<Record<Family, AddPathMode>>;
  gracefulRestart?: { restartTime: number; restarting?: boolean; notification?: boolean; forwardingPreserved?: readonly Family[] };
  /** The complete capability list, instead of the options above (which must then be absent). */
  capabilities?: readonly Capability[];
}

const OPEN_DEFAULTS = {
  holdTime: 90, // s
  families: ['ipv4-unicast'] as readonly Family[],
  routeRefresh: true,
  enhancedRouteRefresh: false,
  fourOctetAs: true,
  extendedMessages: false,
  addPath: {} as Partial<Record<Family, AddPathMode>>, // no add-path
} as const;

const GENERATED = ['families', 'routeRefresh', 'enhancedRouteRefresh', 'fourOctetAs', 'extendedMessages', 'addPath', 'gracefulRestart'] as const;
const OPEN_KEYS = new Set<string>(['asn', 'routerId', 'holdTime', 'capabilities', ...GENERATED]);

function optErr(path: string, what: string): Error {
  return NA_ERR_BGP_INVALID_OPTIONS(`${path}: ${what}`);
}

/**
 * Builds an OPEN message from options, validated once; the result is frozen. Generated
 * capabilities come in code order, as BIRD sends them: multiprotocol, route refresh, extended
 * message, graceful restart, 4-octet AS, add-path, enhanced route refresh.
 */
export function open(opts: OpenOptions): OpenMessage {
  const p = 'open';
  if (opts === null || typeof opts !== 'object') throw optErr(p, 'expected an object');
  for (const k of Object.keys(opts)) if (!OPEN_KEYS.has(k)) throw optErr(`${p}.${k}`, 'unknown option');
  const { asn } = opts;
  if (!Number.isInteger(asn) || asn < 1 || asn > 0xffffffff) throw optErr(`${p}.asn`, `expected an integer 1..4294967295, got ${JSON.stringify(asn)}`);
  const holdTime = opts.holdTime ?? OPEN_DEFAULTS.holdTime;
  if (!Number.isInteger(holdTime) || (holdTime !== 0 && (holdTime < 3 || holdTime > 0xffff))) {
    throw optErr(`${p}.holdTime`, `expected 0 or 3..65535, got ${JSON.stringify(holdTime)}`);
  }
  const id = ipv4Bytes(opts.routerId);
  if (id === undefined || id.readUInt32BE(0) === 0) throw optErr(`${p}.routerId`, `expected a non-zero IPv4 address, got ${JSON.stringify(opts.routerId)}`);
  let capabilities: Capability[];
  if (opts.capabilities !== undefined) {
    for (const k of GENERATED) if (opts[k] !== undefined) throw optErr(`${p}.${k}`, 'must be absent when capabilities are given');
    if (!Array.isArray(opts.capabilities)) throw optErr(`${p}.capabilities`, 'expected a list of capabilities');
    capabilities = [...opts.capabilities];
    if (asn > 0xffff && !capabilities.some((c) => c.type === 'four-octet-as' && c.asn === asn)) {
      throw optErr(`${p}.capabilities`, `AS ${asn} needs a four-octet-as capability carrying it`);
    }
  } else {
    capabilities = generatedCapabilities(opts, p);
  }
  const msg: OpenMessage = { type: 'open', myAs: asn > 0xffff ? AS_TRANS : asn, holdTime, routerId: opts.routerId, capabilities };
  writeOpen(new ByteWriter(), msg, p); // validates the capabilities
  return Object.freeze({ ...msg, capabilities: Object.freeze(capabilities) });
}

function bool(v: unknown, dflt: boolean, path: string): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw optErr(path, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function familyList(v: unknown, path: string): readonly Family[] {
  if (!Array.isArray(v)) throw optErr(path, 'expected a list of families');
  v.forEach((f, i) => {
    if (!FAMILIES.includes(f as Family)) throw optErr(`${path}[${i}]`, `expected ${FAMILIES.join(' or ')}, got ${JSON.stringify(f)}`);
  });
  return [...new Set(v as Family[])];
}

function generatedCapabilities(opts: OpenOptions, p: string): Capability[] {
  const caps: Capability[] = [];
  const families = familyList(opts.families ?? OPEN_DEFAULTS.families, `${p}.families`);
  for (const f of families) caps.push({ type: 'multiprotocol', ...afiSafiOf(f) });
  if (bool(opts.routeRefresh, OPEN_DEFAULTS.routeRefresh, `${p}.routeRefresh`)) caps.push({ type: 'route-refresh' });
  if (bool(opts.extendedMessages, OPEN_DEFAULTS.extendedMessages, `${p}.extendedMessages`)) caps.push({ type: 'extended-message' });
  const gr = opts.gracefulRestart;
  if (gr !== undefined) {
    if (gr === null || typeof gr !== 'object') throw optErr(`${p}.gracefulRestart`, 'expected an object');
    const preserved = familyList(gr.forwardingPreserved ?? [], `${p}.gracefulRestart.forwardingPreserved`);
    if (!Number.isInteger(gr.restartTime) || gr.restartTime < 0 || gr.restartTime > 4095) {
      throw optErr(`${p}.gracefulRestart.restartTime`, `expected 0..4095 s, got ${JSON.stringify(gr.restartTime)}`);
    }
    caps.push({
      type: 'graceful-restart',
      restarting: bool(gr.restarting, false, `${p}.gracefulRestart.restarting`),
      notification: bool(gr.notification, false, `${p}.gracefulRestart.notification`),
      restartTime: gr.restartTime,
      families: families.map((f) => ({ ...afiSafiOf(f), forwardingPreserved: preserved.includes(f) })),
    });
  }
  const asn4 = bool(opts.fourOctetAs, OPEN_DEFAULTS.fourOctetAs, `${p}.fourOctetAs`);
  if (!asn4 && opts.asn > 0xffff) throw optErr(`${p}.fourOctetAs`, `must be true for AS ${opts.asn}`);
  if (asn4) caps.push({ type: 'four-octet-as', asn: opts.asn });
  const addPath = opts.addPath ?? OPEN_DEFAULTS.addPath;
  if (addPath === null || typeof addPath !== 'object') throw optErr(`${p}.addPath`, 'expected an object of family: mode');
  const apFamilies = Object.entries(addPath).map(([f, mode]) => {
    if (!families.includes(f as Family)) throw optErr(`${p}.addPath.${f}`, `expected one of the families ${families.join(', ')}`);
    if (mode !== 'send' && mode !== 'receive' && mode !== 'both') throw optErr(`${p}.addPath.${f}`, `expected send, receive or both, got ${JSON.stringify(mode)}`);
    return { ...afiSafiOf(f as Family), send: mode !== 'receive', receive: mode !== 'send' };
  });
  if (apFamilies.length > 0) caps.push({ type: 'add-path', families: apFamilies });
  if (bool(opts.enhancedRouteRefresh, OPEN_DEFAULTS.enhancedRouteRefresh, `${p}.enhancedRouteRefresh`)) caps.push({ type: 'enhanced-route-refresh' });
  return caps;
}
