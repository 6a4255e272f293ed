/**
 * The address helpers netlab needs on top of `@netaccel/protocol`'s IP module (which parses,
 * canonicalises and formats every address and prefix): interface addresses as specs write them,
 * subnet membership, and the hex addresses of `/proc/net/tcp{,6}`. They return undefined or a
 * reason instead of throwing, so callers can word the message with a field path.
 */
import { canonicalIp, formatIp, ipFamily, isPrefixProblem, prefixContains, tryParsePrefix } from '@netaccel/protocol';
import type { IpFamily } from '@netaccel/protocol';

export type { IpFamily };

/** An interface address with its prefix length, e.g. `10.0.0.1/24`. */
export interface Cidr {
  /** The text as written in the spec (`fd00::2/64`). */
  readonly text: string;
  /** The address without prefix length, in canonical form (`fd00::2`). */
  readonly addr: string;
  readonly len: number;
  readonly family: IpFamily;
}

/**
 * Parses an interface address `addr/len` (host bits allowed: `10.0.0.1/24`) with protocol's
 * tryParsePrefix; returns the reason as a string when the text is not one.
 */
export function interfaceAddress(text: string): Cidr | string {
  const p = tryParsePrefix(text, { allowHostBits: true });
  if (isPrefixProblem(p)) return p.message;
  return Object.freeze({ text, addr: p.address, len: p.length, family: p.family });
}

/** True when `addr` (same family) lies inside the subnet of `cidr`. */
export function cidrContains(cidr: Cidr, addr: string): boolean {
  return ipFamily(addr) === cidr.family && prefixContains({ family: cidr.family, address: cidr.addr, length: cidr.len }, addr);
}

/** True when the address of `cidr` has no host bits set (a route destination). */
export function isNetworkAddress(cidr: Cidr): boolean {
  return !isPrefixProblem(tryParsePrefix(`${cidr.addr}/${cidr.len}`));
}

/**
 * Decodes an address of `/proc/net/tcp` (8 hex digits) or `/proc/net/tcp6` (32 hex digits): the
 * kernel prints each 32-bit word in host (little-endian) byte order.
 */
export function procHexToIp(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let w = 0; w < bytes.length; w += 4) {
    for (let i = 0; i < 4; i++) bytes[w + i] = parseInt(hex.slice(2 * (w + 3 - i), 2 * (w + 3 - i) + 2), 16);
  }
  return formatIp(bytes);
}

/** `host:port` or `[v6]:port` → parts; the reason as a string when malformed. */
export function parseHostPort(text: string): { host: string; port: number; family: IpFamily } | string {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const host = m?.[1];
  const portText = m?.[2];
  if (host === undefined || portText === undefined) {
    return `expected addr:port like 10.0.2.2:8080 or [fd00::2]:8080, got ${JSON.stringify(text)}`;
  }
  const family = ipFamily(host);
  if (family === undefined) return `${JSON.stringify(host)} is not an IP address`;
  const port = Number(portText);
  if (port < 1 || port > 65535) return `port must be 1..65535, got ${portText}`;
  return { host: canonicalIp(host), port, family };
}
