/**
 * Capabilities advertised in OPEN (RFC 5492): multiprotocol (RFC 4760), route refresh (RFC 2918),
 * enhanced route refresh (RFC 7313), extended messages (RFC 8654), graceful restart (RFC 4724,
 * with the N bit of RFC 8538), 4-octet AS (RFC 6793) and add-path (RFC 7911). Others are kept as
 * `unknown` with their value, so that they can be logged or passed on.
 *
 * A recognised capability with an impossible length is a malformed OPEN (2/0, RFC 4271 §6.2:
 * "recognized, but malformed"); a 4-octet AS capability carrying AS 0 is a Bad Peer AS (2/2, RFC
 * 7607); an add-path capability with a Send/Receive value other than 1..3 is not understood and
 * is kept as `unknown` (RFC 7911 §4).
 */
import { CapabilityCode } from './constants.js';
import { NA_ERR_BGP_BAD_PEER_AS, NA_ERR_BGP_INVALID_MESSAGE, NA_ERR_BGP_OPEN_MALFORMED, bgpError } from './errors.js';
import type { ByteWriter } from './wire.js';

export interface AddPathFamily {
  readonly afi: number;
  readonly safi: number;
  readonly send: boolean;
  readonly receive: boolean;
}

export interface GracefulRestartFamily {
  readonly afi: number;
  readonly safi: number;
  /** F bit: forwarding state was preserved across the restart. */
  readonly forwardingPreserved: boolean;
}

export type Capability =
  | { readonly type: 'multiprotocol'; readonly afi: number; readonly safi: number }
  | { readonly type: 'route-refresh' }
  | { readonly type: 'enhanced-route-refresh' }
  | { readonly type: 'extended-message' }
  | { readonly type: 'four-octet-as'; readonly asn: number }
  | { readonly type: 'add-path'; readonly families: readonly AddPathFamily[] }
  | {
      readonly type: 'graceful-restart';
      /** R bit: the sender has restarted. */
      readonly restarting: boolean;
      /** N bit (RFC 8538): graceful restart also covers NOTIFICATION messages. */
      readonly notification: boolean;
      /** Seconds, 0..4095. */
      readonly restartTime: number;
      readonly families: readonly GracefulRestartFamily[];
    }
  | { readonly type: 'unknown'; readonly code: number; readonly value: Buffer };

export type CapabilityType = Capability['type'];

const CODES: Readonly<Record<Exclude<CapabilityType, 'unknown'>, number>> = {
  multiprotocol: CapabilityCode.Multiprotocol,
  'route-refresh': CapabilityCode.RouteRefresh,
  'enhanced-route-refresh': CapabilityCode.EnhancedRouteRefresh,
  'extended-message': CapabilityCode.ExtendedMessage,
  'four-octet-as': CapabilityCode.FourOctetAs,
  'add-path': CapabilityCode.AddPath,
  'graceful-restart': CapabilityCode.GracefulRestart,
};

/** The capability code of a capability. */
export function capabilityCode(cap: Capability): number {
  return cap.type === 'unknown' ? cap.code : CODES[cap.type];
}

function malformed(path: string, what: string): Error {
  return bgpError(NA_ERR_BGP_OPEN_MALFORMED, {}, path, what);
}

function fixedLength(code: number, value: Buffer, expected: number, path: string): void {
  if (value.length !== expected) throw malformed(path, `capability ${code} has length ${value.length}, expected ${expected}`);
}

/** Decodes the value of one capability. */
export function decodeCapability(code: number, value: Buffer, path: string): Capability {
  switch (code) {
    case CapabilityCode.Multiprotocol:
      fixedLength(code, value, 4, path);
      return { type: 'multiprotocol', afi: value.readUInt16BE(0), safi: value[3]! };
    case CapabilityCode.RouteRefresh:
      fixedLength(code, value, 0, path);
      return { type: 'route-refresh' };
    case CapabilityCode.EnhancedRouteRefresh:
      fixedLength(code, value, 0, path);
      return { type: 'enhanced-route-refresh' };
    case CapabilityCode.ExtendedMessage:
      fixedLength(code, value, 0, path);
      return { type: 'extended-message' };
    case CapabilityCode.FourOctetAs: {
      fixedLength(code, value, 4, path);
      const asn = value.readUInt32BE(0);
      if (asn === 0) throw bgpError(NA_ERR_BGP_BAD_PEER_AS, {}, path, 0, 'AS 0 is reserved (RFC 7607)');
      return { type: 'four-octet-as', asn };
    }
    case CapabilityCode.AddPath: {
      if (value.length % 4 !== 0) throw malformed(path, `capability ${code} has length ${value.length}, expected a multiple of 4`);
      const families: AddPathFamily[] = [];
      for (let i = 0; i < value.length; i += 4) {
        const mode = value[i + 3]!;
        if (mode < 1 || mode > 3) return { type: 'unknown', code, value: Buffer.from(value) };
        families.push({ afi: value.readUInt16BE(i), safi: value[i + 2]!, send: (mode & 2) !== 0, receive: (mode & 1) !== 0 });
      }
      return { type: 'add-path', families };
    }
    case CapabilityCode.GracefulRestart: {
      if (value.length < 2 || (value.length - 2) % 4 !== 0) {
        throw malformed(path, `capability ${code} has length ${value.length}, expected 2 + a multiple of 4`);
      }
      const word = value.readUInt16BE(0);
      const families: GracefulRestartFamily[] = [];
      for (let i = 2; i < value.length; i += 4) {
        families.push({ afi: value.readUInt16BE(i), safi: value[i + 2]!, forwardingPreserved: (value[i + 3]! & 0x80) !== 0 });
      }
      return { type: 'graceful-restart', restarting: (word & 0x8000) !== 0, notification: (word & 0x4000) !== 0, restartTime: word & 0x0fff, families };
    }
    default:
      return { type: 'unknown', code, value: Buffer.from(value) };
  }
}

/**
 * Decodes the capabilities in `buf[start, end)`, the value of one Capabilities optional parameter,
 * appending them to `out`. A capability overrunning the parameter is a malformed OPEN (2/0).
 */
export function decodeCapabilities(buf: Buffer, start: number, end: number, path: string, out: Capability[]): void {
  let pos = start;
  while (pos < end) {
    if (end - pos < 2) throw malformed(path, `${end - pos} octet left where a capability header of 2 is expected`);
    const code = buf[pos]!;
    const len = buf[pos + 1]!;
    if (pos + 2 + len > end) throw malformed(path, `capability ${code} of length ${len} overruns its optional parameter`);
    out.push(decodeCapability(code, buf.subarray(pos + 2, pos + 2 + len), `${path}.capabilities[${out.length}]`));
    pos += 2 + len;
  }
}

function invalid(path: string, what: string): Error {
  return NA_ERR_BGP_INVALID_MESSAGE(`${path}: ${what}`);
}

function uint(v: unknown, max: number, path: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(path, `expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Writes one capability: code, length, value. */
export function writeCapability(w: ByteWriter, cap: Capability, path: string): void {
  const code = capabilityCode(cap);
  w.u8(code);
  const lenAt = w.reserve(1);
  const start = w.length;
  switch (cap.type) {
    case 'multiprotocol':
      w.u16(uint(cap.afi, 0xffff, `${path}.afi`)).u8(0).u8(uint(cap.safi, 0xff, `${path}.safi`));
      break;
    case 'route-refresh':
    case 'enhanced-route-refresh':
    case 'extended-message':
      break;
    case 'four-octet-as':
      w.u32(uint(cap.asn, 0xffffffff, `${path}.asn`, 1));
      break;
    case 'add-path':
      cap.families.forEach((f, i) => {
        const p = `${path}.families[${i}]`;
        if (!f.send && !f.receive) throw invalid(p, 'at least one of send and receive must be true');
        w.u16(uint(f.afi, 0xffff, `${p}.afi`)).u8(uint(f.safi, 0xff, `${p}.safi`)).u8((f.send ? 2 : 0) | (f.receive ? 1 : 0));
      });
      break;
    case 'graceful-restart':
      w.u16((cap.restarting ? 0x8000 : 0) | (cap.notification ? 0x4000 : 0) | uint(cap.restartTime, 4095, `${path}.restartTime`));
      cap.families.forEach((f, i) => {
        const p = `${path}.families[${i}]`;
        w.u16(uint(f.afi, 0xffff, `${p}.afi`)).u8(uint(f.safi, 0xff, `${p}.safi`)).u8(f.forwardingPreserved ? 0x80 : 0);
      });
      break;
    case 'unknown':
      uint(cap.code, 0xff, `${path}.code`);
      if (!Buffer.isBuffer(cap.value)) throw invalid(`${path}.value`, 'expected a Buffer');
      w.bytes(cap.value);
      break;
    default:
      throw invalid(path, `unknown capability type ${JSON.stringify((cap as { type: unknown }).type)}`);
  }
  const len = w.length - start;
  if (len > 255) throw invalid(path, `value of ${len} octets does not fit the 1-octet capability length`);
  w.setU8(lenAt, len);
}
