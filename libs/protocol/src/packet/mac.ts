/**
 * Address helpers: IPv4, IPv6 (RFC 4291 text forms in, RFC 5952 canonical text out), MAC, and
 * IP prefixes (CIDR). Shared by the packet codecs and the BGP codecs.
 *
 * Text is the model format (`'10.0.0.1'`, `'2001:db8::1'`, `'02:00:00:00:00:01'`); bytes are the
 * wire format (4, 16 or 6 bytes, network order). Parsers throw NA_ERR_PACKET_BAD_ADDRESS or
 * NA_ERR_PACKET_BAD_PREFIX whose message starts with `path` (the field that held the text).
 */
import { NA_ERR_PACKET_BAD_ADDRESS, NA_ERR_PACKET_BAD_PREFIX } from '../errors.js';

export type IpFamily = 4 | 6;

/** An IP prefix. `address` is canonical text and may have host bits set (see prefixNetwork). */
export interface Prefix {
  readonly family: IpFamily;
  readonly address: string;
  readonly length: number;
}

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const MAC_RE = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

// --- IPv4 -------------------------------------------------------------------------------------

/** The 4 bytes of dotted-quad text, or undefined when it is not one (the non-throwing parseIPv4). */
export function ipv4Bytes(text: string): Uint8Array | undefined {
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
  const b = typeof text === 'string' ? ipv4Bytes(text) : undefined;
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
  if (text.length < 2 || text.length > 45) return undefined;
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
  const b = typeof text === 'string' ? ipv6Bytes(text) : undefined;
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

/** 4 for IPv4 text, 6 for IPv6 text, undefined for anything else. */
export function ipFamily(text: string): IpFamily | undefined {
  if (typeof text !== 'string') return undefined;
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
  const b = typeof text === 'string' ? (ipv4Bytes(text) ?? ipv6Bytes(text)) : undefined;
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

// --- MAC --------------------------------------------------------------------------------------

/** Parses `aa:bb:cc:dd:ee:ff` (or with dashes, any case) into 6 bytes. */
export function parseMac(text: string, path = 'mac'): Uint8Array {
  if (typeof text !== 'string' || !MAC_RE.test(text)) throw NA_ERR_PACKET_BAD_ADDRESS(path, 'a MAC address', text);
  return Uint8Array.from(text.split(/[:-]/), (h) => parseInt(h, 16));
}

/** Formats 6 bytes at `offset` as lower-case colon-separated text. */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((bytes[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function isMac(text: string): boolean {
  return typeof text === 'string' && MAC_RE.test(text);
}

// --- prefixes ---------------------------------------------------------------------------------

/** Parses `'10.0.0.0/8'` or `'2001:db8::/32'`. Host bits may be set; prefixNetwork clears them. */
export function parsePrefix(text: string, path = 'prefix'): Prefix {
  if (typeof text !== 'string') throw NA_ERR_PACKET_BAD_PREFIX(path, `expected address/length, got ${JSON.stringify(text)}`);
  const slash = text.indexOf('/');
  if (slash === -1) throw NA_ERR_PACKET_BAD_PREFIX(path, `expected address/length, got ${JSON.stringify(text)}`);
  const bytes = parseIp(text.slice(0, slash), path);
  const family: IpFamily = bytes.length === 4 ? 4 : 6;
  const lenText = text.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > max) {
    throw NA_ERR_PACKET_BAD_PREFIX(path, `expected a length 0..${max}, got ${JSON.stringify(lenText)}`);
  }
  return Object.freeze({ family, address: formatIp(bytes), length: Number(lenText) });
}

export function formatPrefix(p: Prefix): string {
  return `${p.address}/${p.length}`;
}

function maskBytes(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, length - 8 * i));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function asPrefix(p: Prefix | string, path: string): Prefix {
  return typeof p === 'string' ? parsePrefix(p, path) : p;
}

/** The prefix with its host bits cleared: `10.1.2.3/8` → `10.0.0.0/8`. */
export function prefixNetwork(prefix: Prefix | string): Prefix {
  const p = asPrefix(prefix, 'prefix');
  const address = formatIp(maskBytes(parseIp(p.address, 'prefix.address'), p.length));
  return Object.freeze({ family: p.family, address, length: p.length });
}

/**
 * True when `inner` (an address, or a prefix as text with `/` or as a Prefix) lies inside
 * `prefix`. Different families never contain each other.
 */
export function prefixContains(prefix: Prefix | string, inner: Prefix | string): boolean {
  const p = asPrefix(prefix, 'prefix');
  const q: Prefix =
    typeof inner === 'string' && !inner.includes('/')
      ? { family: isIPv4(inner) ? 4 : 6, address: inner, length: isIPv4(inner) ? 32 : 128 }
      : asPrefix(inner, 'inner');
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
