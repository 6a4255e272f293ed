/**
 * IP addresses: the one place netaccel parses and formats IPv4 and IPv6 text. Every package uses
 * these (through `@netaccel/protocol`) instead of `node:net`'s isIP or a parser of its own, so an
 * address means the same thing in a configuration, a lab spec, a gRPC request and on the wire.
 *
 * Behaviour, decided once:
 * - IPv4 is dotted-quad text without leading zeros (`010.0.0.1` is refused: it reads as octal
 *   elsewhere). IPv6 is any RFC 4291 text form, including an embedded IPv4 tail
 *   (`::ffff:192.0.2.1`).
 * - Canonical text is RFC 5952: lower case, no leading zeros, the longest run of two or more zero
 *   groups as `::` (the first on a tie), and IPv4-mapped addresses in mixed notation
 *   (`::ffff:192.0.2.1`, §5).
 * - A zone suffix (`%eth0`, RFC 4007 §11) is refused by every function here except
 *   `parseScopedIp`, which accepts it on an IPv6 link-local address (fe80::/10) only: that is the
 *   one kind of address an interface name makes meaningful (a link-local next hop or listener).
 *   Addresses that go on the wire, into BPF maps or into a socket without a scope id are plain.
 * - `ipFamily`, `ipv4Bytes` and `ipv6Bytes` answer undefined for anything else; `parse*` and
 *   `canonicalIp` throw NA_ERR_PACKET_BAD_ADDRESS whose message starts with `path`, the field
 *   that held the text (`bgp.peers[1].address: expected an IPv4 address, got "1.2.3"`).
 */
import { NA_ERR_PACKET_BAD_ADDRESS } from '../errors.js';

export type IpFamily = 4 | 6;

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
/** An interface name (at most 15 bytes, IFNAMSIZ - 1) or index; nothing that ends a bracket or path. */
const ZONE_RE = /^[^\s%/:[\]]{1,15}$/;

// --- IPv4 -------------------------------------------------------------------------------------

/** The 4 bytes of dotted-quad text, or undefined when it is not one (the non-throwing parseIPv4). */
export function ipv4Bytes(text: string): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!DEC_OCTET.test(p)) return undefined; // no leading zeros: "010" would be octal elsewhere
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/** Parses dotted-quad text (`'192.0.2.1'`, no leading zeros) into 4 bytes. */
export function parseIPv4(text: string, path = 'address'): Uint8Array {
  const b = ipv4Bytes(text);
  if (b === undefined) throw NA_ERR_PACKET_BAD_ADDRESS(path, 'an IPv4 address', text);
  return b;
}

/** Formats 4 bytes at `offset` as dotted-quad text. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/** The address as an unsigned 32-bit number. */
export function ipv4ToNumber(text: string, path = 'address'): number {
  const b = parseIPv4(text, path);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** Dotted-quad text of an unsigned 32-bit number. */
export function ipv4FromNumber(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

// --- IPv6 -------------------------------------------------------------------------------------

function groupsToWords(groups: string[], allowDotted: boolean, words: number[]): boolean {
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (g.includes('.')) {
      if (!allowDotted || i !== groups.length - 1) return false;
      const v4 = ipv4Bytes(g);
      if (v4 === undefined) return false;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!HEX_GROUP.test(g)) return false;
      words.push(parseInt(g, 16));
    }
  }
  return true;
}

/** The 16 bytes of IPv6 text (no zone), or undefined when it is not one (the non-throwing parseIPv6). */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length < 2 || text.length > 45) return undefined;
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return undefined;
  const head = dbl === -1 ? text : text.slice(0, dbl);
  const tail = dbl === -1 ? '' : text.slice(dbl + 2);
  const headWords: number[] = [];
  const tailWords: number[] = [];
  if (head !== '' && !groupsToWords(head.split(':'), dbl === -1, headWords)) return undefined;
  if (tail !== '' && !groupsToWords(tail.split(':'), true, tailWords)) return undefined;
  const n = headWords.length + tailWords.length;
  if (dbl === -1 ? n !== 8 : n > 7) return undefined;
  const words = [...headWords, ...new Array<number>(8 - n).fill(0), ...tailWords];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 255;
  });
  return out;
}

/** Parses any RFC 4291 text form (`'2001:db8::1'`, `'::ffff:192.0.2.1'`; no zone) into 16 bytes. */
export function parseIPv6(text: string, path = 'address'): Uint8Array {
  const b = ipv6Bytes(text);
  if (b === undefined) throw NA_ERR_PACKET_BAD_ADDRESS(path, 'an IPv6 address', text);
  return b;
}

/**
 * Formats 16 bytes at `offset` per RFC 5952: lower case, no leading zeros, the longest run of two
 * or more zero groups (the first on a tie) as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d`.
 */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(':');
  if (bestStart === -1) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

// --- either family ----------------------------------------------------------------------------

/** 4 for IPv4 text, 6 for IPv6 text, undefined for anything else (a zone suffix included). */
export function ipFamily(text: string): IpFamily | undefined {
  if (ipv4Bytes(text) !== undefined) return 4;
  return ipv6Bytes(text) !== undefined ? 6 : undefined;
}

export function isIPv4(text: string): boolean {
  return ipFamily(text) === 4;
}

export function isIPv6(text: string): boolean {
  return ipFamily(text) === 6;
}

/** Parses IPv4 or IPv6 text into 4 or 16 bytes. */
export function parseIp(text: string, path = 'address'): Uint8Array {
  const b = ipv4Bytes(text) ?? ipv6Bytes(text);
  if (b === undefined) throw NA_ERR_PACKET_BAD_ADDRESS(path, 'an IPv4 or IPv6 address', text);
  return b;
}

/** Formats 4 or 16 bytes as canonical text. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIPv4(bytes);
  if (bytes.length === 16) return formatIPv6(bytes);
  throw NA_ERR_PACKET_BAD_ADDRESS('bytes', '4 or 16 bytes', bytes.length);
}

/** Canonical text of an address given in any accepted form (`'2001:DB8:0::1'` → `'2001:db8::1'`). */
export function canonicalIp(text: string, path = 'address'): string {
  return formatIp(parseIp(text, path));
}

/** True for an IPv6 link-local unicast address (fe80::/10), as text or 16 bytes. */
export function isLinkLocalIPv6(address: string | Uint8Array): boolean {
  const b = typeof address === 'string' ? ipv6Bytes(address) : address;
  return b !== undefined && b.length === 16 && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
}

// --- interface-scoped addresses ---------------------------------------------------------------

/** An address with the interface it is scoped to (a zone), as `parseScopedIp` returns it. */
export interface ScopedIp {
  readonly family: IpFamily;
  /** Canonical text without the zone. */
  readonly address: string;
  /** The interface name or index after `%`; only ever set on an IPv6 link-local address. */
  readonly zone?: string;
}

/**
 * Parses an address that may name its interface: `'fe80::1%eth0'` → `{ family: 6, address:
 * 'fe80::1', zone: 'eth0' }`. The zone (an interface name or index, 1..15 characters) is accepted
 * on IPv6 link-local addresses (fe80::/10) only, where the same address can exist on every link;
 * on any other address it is refused, because it would be ignored. Without a zone this is
 * `canonicalIp` with the family. Throws NA_ERR_PACKET_BAD_ADDRESS starting with `path`.
 */
export function parseScopedIp(text: string, path = 'address'): ScopedIp {
  const pct = typeof text === 'string' ? text.indexOf('%') : -1;
  if (pct === -1) {
    const bytes = parseIp(text, path);
    return Object.freeze({ family: bytes.length === 4 ? 4 : 6, address: formatIp(bytes) });
  }
  const bytes = ipv6Bytes(text.slice(0, pct));
  const zone = text.slice(pct + 1);
  if (bytes === undefined || !ZONE_RE.test(zone)) {
    throw NA_ERR_PACKET_BAD_ADDRESS(path, 'an IPv4 or IPv6 address, or an IPv6 link-local address with an interface (fe80::1%eth0)', text);
  }
  if (!isLinkLocalIPv6(bytes)) throw NA_ERR_PACKET_BAD_ADDRESS(path, 'a zone (%interface) only on an IPv6 link-local address (fe80::/10)', text);
  return Object.freeze({ family: 6, address: formatIPv6(bytes), zone });
}

/** Text of a scoped address: `fe80::1%eth0`, or the plain address without a zone. */
export function formatScopedIp(s: ScopedIp): string {
  return s.zone === undefined ? s.address : `${s.address}%${s.zone}`;
}
