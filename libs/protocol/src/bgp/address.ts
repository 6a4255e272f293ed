/**
 * The address handling BGP needs on top of the package's IP module (../ip/address.ts and
 * ../ip/prefix.ts, which parse and format the text forms): Buffers for the wire, prefixes in CIDR
 * text as NLRI (address bytes + length), and the next-hop sanity rules of RFC 4271 §6.3 / RFC 2545.
 */
import { formatIPv4, formatIPv6, ipv4Bytes as ipIpv4Bytes, ipv6Bytes as ipIpv6Bytes, parseIp } from '../ip/address.js';
import { isPrefixProblem, tryParsePrefix } from '../ip/prefix.js';
import type { Family } from './constants.js';

export { formatIPv4, formatIPv6 };

/** The 4 octets of a dotted-quad IPv4 address, or undefined when the text is not one. */
export function ipv4Bytes(text: string): Buffer | undefined {
  const b = typeof text === 'string' ? ipIpv4Bytes(text) : undefined;
  return b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The 16 octets of an IPv6 address (no zone index), or undefined when the text is not one. */
export function ipv6Bytes(text: string): Buffer | undefined {
  const b = typeof text === 'string' ? ipIpv6Bytes(text) : undefined;
  return b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A prefix of an NLRI: `bytes` is the whole address (4 or 16 octets). */
export interface NlriPrefix {
  readonly family: Family;
  readonly bytes: Buffer;
  readonly length: number;
}

/**
 * A prefix in CIDR text as an NLRI (address bytes + length), parsed by the package's one prefix
 * parser (../ip/prefix.ts: host bits refused). Returns the problem's message (no field path)
 * instead of throwing, so that callers can prefix the path of the field.
 */
export function nlriPrefix(text: unknown): NlriPrefix | string {
  const p = tryParsePrefix(text);
  if (isPrefixProblem(p)) return p.message;
  const bytes = parseIp(p.address);
  return { family: p.family === 4 ? 'ipv4-unicast' : 'ipv6-unicast', bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), length: p.length };
}

/** CIDR text of a prefix whose first ceil(length / 8) octets sit in `bytes` at `offset`. */
export function formatPrefix(family: Family, bytes: Uint8Array, offset: number, length: number): string {
  const size = family === 'ipv4-unicast' ? 4 : 16;
  const full = new Uint8Array(size);
  const n = (length + 7) >> 3;
  for (let i = 0; i < n; i++) full[i] = bytes[offset + i] ?? 0;
  if ((length & 7) !== 0 && n > 0) full[n - 1] = (full[n - 1] ?? 0) & ((0xff << (8 - (length & 7))) & 0xff);
  return `${family === 'ipv4-unicast' ? formatIPv4(full) : formatIPv6(full)}/${length}`;
}

/**
 * An IPv4 next hop a route can use: not 0.0.0.0/8 ("this network"), not multicast (224/4) and not
 * reserved or broadcast (240/4). RFC 4271 §6.3 calls the others semantically incorrect.
 */
export function usableIPv4NextHop(bytes: Uint8Array, offset = 0): boolean {
  const first = bytes[offset] ?? 0;
  return first !== 0 && first < 224;
}

/** An IPv6 global next hop a route can use: not :: and not multicast (ff00::/8). */
export function usableIPv6NextHop(bytes: Uint8Array, offset = 0): boolean {
  if (bytes[offset] === 0xff) return false;
  for (let i = 0; i < 16; i++) if (bytes[offset + i] !== 0) return true;
  return false;
}
