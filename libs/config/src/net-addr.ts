/**
 * Pure parsers for the network values a configuration holds: IP addresses, CIDR prefixes,
 * `host:port` listen addresses and DNS host names. They return undefined (or a reason) instead of
 * throwing, so the zod fields in `fields.ts` can word the message.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

export interface Cidr {
  readonly address: string;
  readonly prefixLength: number;
  readonly family: IpFamily;
}

export interface ListenAddress {
  /** IP address or host name, IPv6 without brackets. */
  readonly host: string;
  /** 0..65535; 0 asks the kernel for a free port. */
  readonly port: number;
}

/** 4 for an IPv4 address, 6 for an IPv6 address (a zone such as `%eth0` is allowed), else 0. */
export function ipFamily(text: string): IpFamily | 0 {
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  return 0;
}

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

/** The 16 bytes of a valid IPv6 address without zone (`::ffff:1.2.3.4` included). */
function ipv6Bytes(text: string): number[] {
  let head = text;
  const tail: number[] = [];
  const lastColon = head.lastIndexOf(':');
  const last = head.slice(lastColon + 1);
  if (last.includes('.')) {
    tail.push(...ipv4Bytes(last));
    head = `${head.slice(0, lastColon + 1)}0:0`; // stand-in groups, replaced below
  }
  const [left = '', right] = head.split('::');
  const groupsOf = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const l = groupsOf(left);
  const r = right === undefined ? [] : groupsOf(right);
  const groups = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

function bytesToText(bytes: number[], family: IpFamily): string {
  if (family === 4) return bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on a tie
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Clears the host bits of `bytes` after `prefixLength` bits. */
function maskBytes(bytes: number[], prefixLength: number): number[] {
  return bytes.map((b, i) => {
    const bitsHere = Math.max(0, Math.min(8, prefixLength - i * 8));
    return b & ((0xff << (8 - bitsHere)) & 0xff);
  });
}

export type CidrResult =
  | { readonly ok: true; readonly cidr: Cidr }
  | { readonly ok: false; readonly reason: 'syntax' }
  | { readonly ok: false; readonly reason: 'host-bits'; readonly network: string };

/**
 * Parses `address/prefixLength`. The prefix length is a decimal 0..32 (IPv4) or 0..128 (IPv6)
 * without leading zeros; zones are refused. Unless `allowHostBits`, the bits after the prefix
 * must be zero (`10.0.0.5/24` is refused, and the result names `10.0.0.0/24`).
 */
export function parseCidr(text: string, allowHostBits = false): CidrResult {
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, reason: 'syntax' };
  const address = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  const family = address.includes('%') ? 0 : ipFamily(address);
  if (family === 0 || !/^(0|[1-9]\d{0,2})$/.test(lengthText)) return { ok: false, reason: 'syntax' };
  const prefixLength = Number(lengthText);
  if (prefixLength > (family === 4 ? 32 : 128)) return { ok: false, reason: 'syntax' };
  if (!allowHostBits) {
    const bytes = family === 4 ? ipv4Bytes(address) : ipv6Bytes(address);
    const masked = maskBytes(bytes, prefixLength);
    if (masked.some((b, i) => b !== bytes[i])) {
      return { ok: false, reason: 'host-bits', network: `${bytesToText(masked, family)}/${prefixLength}` };
    }
  }
  return { ok: true, cidr: { address, prefixLength, family } };
}

const HOST_LABEL_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A DNS host name (RFC 1123 labels, at most 253 characters, an optional final dot). */
export function isHostName(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // an all-numeric last label would read as a malformed IPv4 address (`1.2.3`)
  if (/^\d+$/.test(labels[labels.length - 1]!)) return false;
  return labels.every((l) => HOST_LABEL_RE.test(l));
}

/**
 * Parses `host:port`: `127.0.0.1:9100`, `[::1]:9100`, `localhost:9100`, `0.0.0.0:0`. IPv6 hosts
 * need brackets; the port is a decimal 0..65535 without leading zeros.
 */
export function parseListenAddress(text: string): ListenAddress | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    if (close < 0) return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!isIPv6(host)) return undefined;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (!isIPv4(host) && !isHostName(host)) return undefined;
  }
  if (!/^(0|[1-9]\d{0,4})$/.test(portText)) return undefined;
  const port = Number(portText);
  return port <= 65535 ? { host, port } : undefined;
}
