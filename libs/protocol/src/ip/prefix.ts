/**
 * IP prefixes in CIDR text (`10.0.0.0/8`, `2001:db8::/32`): the one prefix parser netaccel has.
 *
 * Behaviour, decided once:
 * - The address is plain (./address.ts: no zone, no leading zeros); the length is decimal without
 *   leading zeros, 0..32 for IPv4 and 0..128 for IPv6 (an IPv4-mapped address is IPv6: 0..128).
 * - Host bits (bits after the length) are refused unless `allowHostBits`: a route, an NLRI or an
 *   allow-list is a network, while an interface address (`10.0.0.1/24`) is not. The refusal names
 *   the network meant.
 * - The result holds the canonical address text (RFC 5952), host bits kept when allowed.
 * - `tryParsePrefix` returns a problem (with a message that has no field path) so that a caller
 *   can word its own error; `parsePrefix` throws NA_ERR_PACKET_BAD_PREFIX (NA_ERR_PACKET_BAD_ADDRESS
 *   when the address part is bad) whose message starts with `path`.
 */
import { NA_ERR_PACKET_BAD_ADDRESS, NA_ERR_PACKET_BAD_PREFIX } from '../errors.js';
import { formatIp, ipv4Bytes, ipv6Bytes, parseIp } from './address.js';
import type { IpFamily } from './address.js';

/** An IP prefix. `address` is canonical text (with host bits only where they were allowed). */
export interface Prefix {
  readonly family: IpFamily;
  readonly address: string;
  readonly length: number;
}

/** Why text is not a prefix. `message` has no field path; the caller adds its own. */
export type PrefixProblem =
  | { readonly reason: 'syntax' | 'address' | 'length'; readonly message: string }
  | { readonly reason: 'host-bits'; readonly message: string; readonly network: string };

export interface PrefixOptions {
  /** Accept bits set after the prefix length (an interface address like `10.0.0.1/24`). Default false. */
  readonly allowHostBits?: boolean;
}

const LENGTH_RE = /^(0|[1-9][0-9]{0,2})$/;

/** True when the result of tryParsePrefix is a problem, not a prefix. */
export function isPrefixProblem(r: Prefix | PrefixProblem): r is PrefixProblem {
  return 'reason' in r;
}

/**
 * Parses `address/length` without throwing: the prefix, or the problem (`reason` syntax, address,
 * length or host-bits, and a message such as `10.1.0.1/16 has host bits set beyond /16`; a
 * host-bits problem also names the `network` meant, `10.1.0.0/16`).
 */
export function tryParsePrefix(text: unknown, options: PrefixOptions = {}): Prefix | PrefixProblem {
  const shown = typeof text === 'string' ? JSON.stringify(text) : typeof text;
  const syntax = { reason: 'syntax', message: `expected a prefix in CIDR notation (address/prefix-length like 10.0.0.0/24 or 2001:db8::/32), got ${shown}` } as const;
  if (typeof text !== 'string') return syntax;
  const slash = text.indexOf('/');
  if (slash === -1) return syntax;
  const addressText = text.slice(0, slash);
  const bytes = ipv4Bytes(addressText) ?? ipv6Bytes(addressText);
  if (bytes === undefined) return { reason: 'address', message: `${JSON.stringify(addressText)} is not an IPv4 or IPv6 address` };
  const family: IpFamily = bytes.length === 4 ? 4 : 6;
  const lengthText = text.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!LENGTH_RE.test(lengthText) || Number(lengthText) > max) {
    return { reason: 'length', message: `prefix length of ${JSON.stringify(text)} must be 0..${max}` };
  }
  const length = Number(lengthText);
  if (options.allowHostBits !== true && !hostBitsZero(bytes, length)) {
    const network = `${formatIp(maskBytes(bytes, length))}/${length}`;
    return { reason: 'host-bits', message: `${text} has host bits set beyond /${length}`, network };
  }
  return Object.freeze({ family, address: formatIp(bytes), length });
}

/**
 * Parses `'10.0.0.0/8'` or `'2001:db8::/32'` (see tryParsePrefix); throws NA_ERR_PACKET_BAD_ADDRESS
 * for a bad address part and NA_ERR_PACKET_BAD_PREFIX otherwise, the message starting with `path`.
 */
export function parsePrefix(text: string, path = 'prefix', options: PrefixOptions = {}): Prefix {
  const r = tryParsePrefix(text, options);
  if (!isPrefixProblem(r)) return r;
  if (r.reason === 'address') throw NA_ERR_PACKET_BAD_ADDRESS(path, 'an IPv4 or IPv6 address', text.slice(0, text.indexOf('/')));
  throw NA_ERR_PACKET_BAD_PREFIX(path, r.message);
}

export function formatPrefix(p: Prefix): string {
  return `${p.address}/${p.length}`;
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

/** `bytes` with every bit after the first `length` cleared (a copy). */
export function maskBytes(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, length - 8 * i));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function asPrefix(p: Prefix | string, path: string): Prefix {
  return typeof p === 'string' ? parsePrefix(p, path, { allowHostBits: true }) : p;
}

/** The prefix with its host bits cleared: `10.1.2.3/8` → `10.0.0.0/8`. */
export function prefixNetwork(prefix: Prefix | string): Prefix {
  const p = asPrefix(prefix, 'prefix');
  const address = formatIp(maskBytes(parseIp(p.address, 'prefix.address'), p.length));
  return Object.freeze({ family: p.family, address, length: p.length });
}

/**
 * True when `inner` (an address, or a prefix as text with `/` or as a Prefix) lies inside
 * `prefix`. Different families never contain each other; host bits of either are ignored.
 */
export function prefixContains(prefix: Prefix | string, inner: Prefix | string): boolean {
  const p = asPrefix(prefix, 'prefix');
  let q: Prefix;
  if (typeof inner === 'string' && !inner.includes('/')) {
    const bytes = parseIp(inner, 'inner');
    q = { family: bytes.length === 4 ? 4 : 6, address: inner, length: bytes.length * 8 };
  } else {
    q = asPrefix(inner, 'inner');
  }
  if (p.family !== q.family || q.length < p.length) return false;
  const a = maskBytes(parseIp(p.address, 'prefix.address'), p.length);
  const b = maskBytes(parseIp(q.address, 'inner'), p.length);
  return a.every((v, i) => v === b[i]);
}

/** The netmask of a prefix length as address text: `netmask(4, 20)` → `'255.255.240.0'`. */
export function netmask(family: IpFamily, length: number): string {
  const max = family === 4 ? 32 : 128;
  if (!Number.isInteger(length) || length < 0 || length > max) {
    throw NA_ERR_PACKET_BAD_PREFIX('length', `expected 0..${max}, got ${length}`);
  }
  return formatIp(maskBytes(new Uint8Array(family === 4 ? 4 : 16).fill(0xff), length));
}

/** The prefix length of a contiguous netmask (`'255.255.240.0'` → 20); throws for holes. */
export function netmaskLength(mask: string, path = 'netmask'): number {
  const bytes = parseIp(mask, path);
  let length = 0;
  while (length < bytes.length * 8 && (bytes[length >> 3]! & (0x80 >> (length & 7))) !== 0) length++;
  const full = maskBytes(new Uint8Array(bytes.length).fill(0xff), length);
  if (!full.every((v, i) => v === bytes[i])) throw NA_ERR_PACKET_BAD_PREFIX(path, `${mask} is not a contiguous netmask`);
  return length;
}
