/**
 * The address handling BGP needs on top of the package's address helpers (../packet/addr.ts,
 * which parse and format the text forms): Buffers for the wire, prefixes in CIDR text as NLRI
 * (address bytes + length), and the next-hop sanity rules of RFC 4271 §6.3 / RFC 2545.
 */
import { formatIPv4, formatIPv6, ipv4Bytes as packetIpv4Bytes, ipv6Bytes as packetIpv6Bytes } from '../packet/addr.js';
import type { Family } from './constants.js';

export { formatIPv4, formatIPv6 };

/** The 4 octets of a dotted-quad IPv4 address, or undefined when the text is not one. */
export function ipv4Bytes(text: string): Buffer | undefined {
  const b = typeof text === 'string' ? packetIpv4Bytes(text) : undefined;
  return b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The 16 octets of an IPv6 address (no zone index), or undefined when the text is not one. */
export function ipv6Bytes(text: string): Buffer | undefined {
  const b = typeof text === 'string' ? packetIpv6Bytes(text) : undefined;
  return b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A prefix in CIDR text, parsed. `bytes` is the whole address (4 or 16 octets). */
export interface ParsedPrefix {
  readonly family: Family;
  readonly bytes: Buffer;
  readonly length: number;
}

/**
 * Parses `a.b.c.d/len` or `x::y/len`. Returns a problem description (a string) instead of
 * throwing, so that callers can prefix the path of the field.
 */
export function parsePrefix(text: unknown): ParsedPrefix | string {
  if (typeof text !== 'string') return `expected a prefix in CIDR notation, got ${typeof text}`;
  const slash = text.indexOf('/');
  if (slash < 0) return `expected a prefix in CIDR notation, got ${JSON.stringify(text)}`;
  const addr = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  const v4 = ipv4Bytes(addr);
  const bytes = v4 ?? ipv6Bytes(addr);
  if (bytes === undefined) return `expected a prefix in CIDR notation, got ${JSON.stringify(text)}`;
  const family: Family = v4 !== undefined ? 'ipv4-unicast' : 'ipv6-unicast';
  const max = bytes.length * 8;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > max) {
    return `prefix length of ${JSON.stringify(text)} must be 0..${max}`;
  }
  const length = Number(lenText);
  if (!hostBitsZero(bytes, length)) return `${text} has host bits set beyond /${length}`;
  return { family, bytes, length };
}

/** True when every bit of `bytes` after the first `length` bits is zero. */
export function hostBitsZero(bytes: Uint8Array, length: number): boolean {
  for (let bit = length; bit < bytes.length * 8; ) {
    const i = bit >> 3;
    const mask = 0xff >> (bit & 7);
    if (((bytes[i] ?? 0) & mask) !== 0) return false;
    bit = (i + 1) * 8;
  }
  return true;
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

/** The canonical text of a prefix (RFC 5952 for IPv6), or undefined when it does not parse. */
export function canonicalPrefix(text: string): string | undefined {
  const p = parsePrefix(text);
  return typeof p === 'string' ? undefined : formatPrefix(p.family, p.bytes, 0, p.length);
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
