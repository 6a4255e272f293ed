/**
 * Pure IP address helpers for specs and readiness checks: parse addresses and CIDRs to numbers,
 * test subnet membership, and decode the hex addresses of `/proc/net/tcp{,6}`. They return
 * undefined or a reason instead of throwing, so callers can word the message with a field path.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

/** An interface address with its prefix length, e.g. `10.0.0.1/24`. */
export interface Cidr {
  /** The text as written in the spec (`fd00::2/64`). */
  readonly text: string;
  /** The address without prefix length, in canonical form (`fd00::2`). */
  readonly addr: string;
  readonly len: number;
  readonly family: IpFamily;
}

export function ipFamily(text: string): IpFamily | 0 {
  if (isIPv4(text)) return 4;
  if (isIPv6(text) && !text.includes('%')) return 6;
  return 0;
}

/** The address as a number (32 or 128 bits); undefined when `text` is not an address. */
export function ipToBigInt(text: string): bigint | undefined {
  const family = ipFamily(text);
  if (family === 4) return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  if (family !== 6) return undefined;
  let head = text;
  let v4tail: bigint | undefined;
  const lastColon = head.lastIndexOf(':');
  if (head.slice(lastColon + 1).includes('.')) {
    v4tail = ipToBigInt(head.slice(lastColon + 1));
    head = `${head.slice(0, lastColon + 1)}0:0`;
  }
  const [left = '', right] = head.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const all = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  let value = all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
  if (v4tail !== undefined) value = (value & ~0xffffffffn) | v4tail;
  return value;
}

/** Canonical text of a numeric address (RFC 5952 for IPv6). */
export function bigIntToIp(value: bigint, family: IpFamily): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => Number((value >> s) & 0xffn)).join('.');
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Canonical form of an address (`FD00:0::2` → `fd00::2`), or undefined when it is none. */
export function canonicalIp(text: string): string | undefined {
  const family = ipFamily(text);
  const value = ipToBigInt(text);
  return family === 0 || value === undefined ? undefined : bigIntToIp(value, family);
}

/** Parses `addr/len`; returns the reason as a string when the text is not one. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  if (slash < 0) return `expected address/prefix-length like 10.0.0.1/24 or fd00::1/64, got ${JSON.stringify(text)}`;
  const addrText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  const family = ipFamily(addrText);
  if (family === 0) return `${JSON.stringify(addrText)} is not an IPv4 or IPv6 address`;
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
    return `prefix length must be 0..${max}, got ${JSON.stringify(lenText)}`;
  }
  return Object.freeze({ text, addr: canonicalIp(addrText)!, len: Number(lenText), family });
}

function maskOf(len: number, family: IpFamily): bigint {
  const bits = family === 4 ? 32n : 128n;
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(len))) - 1n);
}

/** True when `addr` (same family) lies inside the subnet of `cidr`. */
export function cidrContains(cidr: Cidr, addr: string): boolean {
  if (ipFamily(addr) !== cidr.family) return false;
  const mask = maskOf(cidr.len, cidr.family);
  return (ipToBigInt(addr)! & mask) === (ipToBigInt(cidr.addr)! & mask);
}

/** True when the address of `cidr` has no host bits set (a route destination). */
export function isNetworkAddress(cidr: Cidr): boolean {
  const value = ipToBigInt(cidr.addr)!;
  return (value & maskOf(cidr.len, cidr.family)) === value;
}

/** True for IPv6 link-local addresses (fe80::/10). */
export function isLinkLocal6(addr: string): boolean {
  const value = ipToBigInt(addr);
  return ipFamily(addr) === 6 && value !== undefined && value >> 118n === 0x3fan;
}

/**
 * Decodes an address of `/proc/net/tcp` (8 hex digits) or `/proc/net/tcp6` (32 hex digits): the
 * kernel prints each 32-bit word in host (little-endian) byte order.
 */
export function procHexToIp(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  let value = 0n;
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    const le = word.match(/../g)!.reverse().join('');
    value = (value << 32n) | BigInt(`0x${le}`);
  }
  return bigIntToIp(value, hex.length === 8 ? 4 : 6);
}

/** `host:port` or `[v6]:port` → parts; the reason as a string when malformed. */
export function parseHostPort(text: string): { host: string; port: number; family: IpFamily } | string {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const host = m?.[1];
  const portText = m?.[2];
  if (host === undefined || portText === undefined) {
    return `expected addr:port like 10.0.0.2:8080 or [fd00::2]:8080, got ${JSON.stringify(text)}`;
  }
  const family = ipFamily(host);
  if (family === 0) return `${JSON.stringify(host)} is not an IP address`;
  const port = Number(portText);
  if (port < 1 || port > 65535) return `port must be 1..65535, got ${portText}`;
  return { host: canonicalIp(host)!, port, family };
}
