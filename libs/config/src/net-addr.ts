/**
 * Pure parsers for the network values a configuration holds that are not plain IP addresses or
 * prefixes: `host:port` listen addresses and DNS host names. IP addresses and prefixes are
 * `@netaccel/protocol`'s (`ipFamily`, `parseScopedIp`, `tryParsePrefix`), the one IP module. These
 * return undefined instead of throwing, so the zod fields in `fields.ts` can word the message.
 */
import { isIPv4, parseScopedIp } from '@netaccel/protocol';

export interface ListenAddress {
  /** IP address or host name, IPv6 without brackets (a link-local one may carry its `%interface`). */
  readonly host: string;
  /** 0..65535; 0 asks the kernel for a free port. */
  readonly port: number;
}

/** True for IPv6 text, plain or link-local with a zone (`fe80::1%eth0`): a listener may bind to it. */
function isListenIPv6(text: string): boolean {
  try {
    return parseScopedIp(text).family === 6;
  } catch {
    return false;
  }
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
 * Parses `host:port`: `127.0.0.1:9100`, `[::1]:9100`, `[fe80::1%eth0]:9100`, `localhost:9100`,
 * `0.0.0.0:0`. IPv6 hosts need brackets, and may name their interface only when link-local (the
 * one case a zone means something to bind()); the port is a decimal 0..65535 without leading zeros.
 */
export function parseListenAddress(text: string): ListenAddress | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    if (close < 0) return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!isListenIPv6(host)) return undefined;
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
