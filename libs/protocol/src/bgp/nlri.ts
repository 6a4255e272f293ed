/**
 * NLRI encoding (RFC 4271 §4.3: length in bits, then the fewest octets holding it), with the
 * 4-octet path identifier in front when add-path is negotiated for the family and direction
 * (RFC 7911 §3). Used by the Withdrawn Routes and NLRI fields and inside MP_REACH_NLRI /
 * MP_UNREACH_NLRI (RFC 4760).
 *
 * A field is syntactically incorrect (RFC 7606 §5.3) when a prefix is longer than the family
 * allows or overruns the field; that is a session reset with Invalid Network Field (3/10), since
 * without the NLRI nothing can be withdrawn. Bits past the prefix length are ignored (RFC 4271).
 */
import { formatPrefix, nlriPrefix } from './address.js';
import { maxPrefixBits } from './constants.js';
import type { Family } from './constants.js';
import { NA_ERR_BGP_INVALID_MESSAGE, NA_ERR_BGP_INVALID_NETWORK_FIELD, bgpError } from './errors.js';
import type { ByteWriter } from './wire.js';

export interface Nlri {
  /** CIDR text, `198.51.100.0/24` or `2001:db8::/32` (RFC 5952). */
  readonly prefix: string;
  /** Path identifier (RFC 7911): present exactly when add-path is on for the family and direction. */
  readonly pathId?: number;
}

/** Octets one NLRI takes on the wire. */
export function nlriLength(prefixLength: number, addPath: boolean): number {
  return (addPath ? 4 : 0) + 1 + ((prefixLength + 7) >> 3);
}

/** Decodes the NLRI in `buf[start, end)`; throws 3/10 when the field is not well formed. */
export function decodeNlri(buf: Buffer, start: number, end: number, family: Family, addPath: boolean, path: string): Nlri[] {
  const out: Nlri[] = [];
  const max = maxPrefixBits(family);
  let pos = start;
  while (pos < end) {
    let pathId = 0;
    if (addPath) {
      if (end - pos < 5) throw bgpError(NA_ERR_BGP_INVALID_NETWORK_FIELD, {}, path, `${end - pos} octets left where a path identifier and prefix length are expected`);
      pathId = buf.readUInt32BE(pos);
      pos += 4;
    }
    const len = buf[pos]!;
    if (len > max) throw bgpError(NA_ERR_BGP_INVALID_NETWORK_FIELD, {}, path, `prefix length ${len} exceeds ${max}`);
    const n = (len + 7) >> 3;
    if (pos + 1 + n > end) throw bgpError(NA_ERR_BGP_INVALID_NETWORK_FIELD, {}, path, `prefix /${len} overruns the field by ${pos + 1 + n - end} octets`);
    const prefix = formatPrefix(family, buf, pos + 1, len);
    out.push(addPath ? { prefix, pathId } : { prefix });
    pos += 1 + n;
  }
  return out;
}

/** An NLRI checked for encoding. */
export interface PreparedNlri {
  readonly family: Family;
  readonly bytes: Buffer;
  readonly length: number;
  readonly pathId: number | undefined;
  /** Canonical CIDR text. */
  readonly prefix: string;
}

/**
 * Checks one NLRI to send: the prefix parses, host bits are clear, it belongs to `family` (when
 * given), and a path identifier is present only when add-path is on (it defaults to 0 then).
 */
export function prepareNlri(n: Nlri, family: Family | undefined, addPath: boolean, path: string): PreparedNlri {
  if (n === null || typeof n !== 'object') throw NA_ERR_BGP_INVALID_MESSAGE(`${path}: expected { prefix, pathId? }`);
  const p = nlriPrefix(n.prefix);
  if (typeof p === 'string') throw NA_ERR_BGP_INVALID_MESSAGE(`${path}.prefix: ${p}`);
  if (family !== undefined && p.family !== family) throw NA_ERR_BGP_INVALID_MESSAGE(`${path}.prefix: ${n.prefix} is not ${family}`);
  let pathId: number | undefined;
  if (n.pathId !== undefined) {
    if (!addPath) throw NA_ERR_BGP_INVALID_MESSAGE(`${path}.pathId: add-path is not negotiated for sending ${p.family}`);
    if (!Number.isInteger(n.pathId) || n.pathId < 0 || n.pathId > 0xffffffff) {
      throw NA_ERR_BGP_INVALID_MESSAGE(`${path}.pathId: expected an integer 0..4294967295, got ${JSON.stringify(n.pathId)}`);
    }
    pathId = n.pathId;
  } else if (addPath) {
    pathId = 0;
  }
  return { family: p.family, bytes: p.bytes, length: p.length, pathId, prefix: formatPrefix(p.family, p.bytes, 0, p.length) };
}

export function writePreparedNlri(w: ByteWriter, n: PreparedNlri): void {
  if (n.pathId !== undefined) w.u32(n.pathId);
  w.u8(n.length).bytes(n.bytes.subarray(0, (n.length + 7) >> 3));
}

/** Checks and writes a list of NLRI of one family. */
export function writeNlriList(w: ByteWriter, list: readonly Nlri[], family: Family, addPath: boolean, path: string): void {
  if (!Array.isArray(list)) throw NA_ERR_BGP_INVALID_MESSAGE(`${path}: expected a list of NLRI`);
  list.forEach((n, i) => writePreparedNlri(w, prepareNlri(n, family, addPath, `${path}[${i}]`)));
}
