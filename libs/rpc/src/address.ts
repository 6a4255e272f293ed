/**
 * Addresses of netaccel daemons: a Unix socket (`unix:///run/netaccel/loader.sock`, `unix:rel`,
 * or a plain path `/run/netaccel/loader.sock`, `./loader.sock`) or TCP (`host:port`,
 * `[v6]:port`). Parsed once into a typed address with the grpc-js target string; a bad address
 * is a NA_ERR_RPC_BAD_ADDRESS that names the field and the input.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { NA_ERR_RPC_BAD_ADDRESS } from './errors.js';

/** sun_path holds 108 bytes including the terminating NUL. */
export const MAX_UNIX_PATH_BYTES = 107;

export interface UnixAddress {
  readonly kind: 'unix';
  /** Absolute path of the socket file. */
  readonly path: string;
  /** What grpc-js binds or connects to: `unix:///abs/path`. */
  readonly target: string;
  /** For messages: the path. */
  readonly display: string;
}

export interface TcpAddress {
  readonly kind: 'tcp';
  /** Host name, IPv4 address or IPv6 address (without brackets). */
  readonly host: string;
  /** 0 (servers only) lets the kernel choose. */
  readonly port: number;
  /** What grpc-js binds or connects to: `host:port` or `[v6]:port`. */
  readonly target: string;
  /** For messages: the same as target. */
  readonly display: string;
}

export type RpcAddress = UnixAddress | TcpAddress;

export interface ParseAddressOptions {
  /** Name of the field, for messages ("address", "loader.address"). Default "address". */
  readonly field?: string;
  /** Accept port 0 (a server that lets the kernel choose). Default false. */
  readonly allowPortZero?: boolean;
}

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const EXPECTED = 'expected unix:///path, an absolute or ./relative socket path, host:port or [ipv6]:port';

/** Parses an address; throws NA_ERR_RPC_BAD_ADDRESS naming `field` and the input. */
export function parseAddress(input: unknown, opts: ParseAddressOptions = {}): RpcAddress {
  const field = opts.field ?? 'address';
  const bad = (why: string): never => {
    throw NA_ERR_RPC_BAD_ADDRESS(field, why, input);
  };
  if (typeof input !== 'string') return bad('expected a string');
  const text = input.trim();
  if (text.length === 0) return bad(EXPECTED);
  if (text.includes('\0')) return bad('contains a NUL byte');

  if (text.startsWith('unix:')) {
    let rest = text.slice('unix:'.length);
    if (rest.startsWith('//')) {
      rest = rest.slice(2);
      if (!rest.startsWith('/')) return bad('unix:// must be followed by an absolute path (unix:///run/netaccel/x.sock)');
    }
    if (rest.length === 0) return bad('unix: without a path');
    return unixAddress(rest, bad);
  }
  if (text.startsWith('/') || text.startsWith('./') || text.startsWith('../')) return unixAddress(text, bad);

  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(text);
    if (m === null) return bad('expected [ipv6]:port');
    host = m[1]!;
    portText = m[2]!;
    if (!isIPv6(host)) return bad(`${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return bad(`${EXPECTED} (a socket path starts with / or ./)`);
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return bad('an IPv6 address needs brackets: [2001:db8::1]:50051');
    if (!isIPv4(host) && !HOSTNAME_RE.test(host)) return bad(`${JSON.stringify(host)} is not a host name or IPv4 address`);
  }
  if (!/^\d{1,5}$/.test(portText)) return bad(`port ${JSON.stringify(portText)} is not a number`);
  const port = Number(portText);
  const min = opts.allowPortZero === true ? 0 : 1;
  if (port < min || port > 65535) return bad(`port ${port} is out of range ${min}..65535`);
  const target = isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  return Object.freeze({ kind: 'tcp', host, port, target, display: target });
}

function unixAddress(pathText: string, bad: (why: string) => never): UnixAddress {
  if (pathText.endsWith('/')) return bad('a socket path names a file, not a directory');
  const path = isAbsolute(pathText) ? resolve(pathText) : resolve(process.cwd(), pathText);
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_PATH_BYTES) return bad(`socket path ${path} is ${bytes} bytes long; Unix sockets allow at most ${MAX_UNIX_PATH_BYTES}`);
  return Object.freeze({ kind: 'unix', path, target: `unix://${path}`, display: path });
}

/** The same TCP address with the port the server actually bound (for port 0). */
export function withPort(addr: TcpAddress, port: number): TcpAddress {
  const target = isIPv6(addr.host) ? `[${addr.host}]:${port}` : `${addr.host}:${port}`;
  return Object.freeze({ ...addr, port, target, display: target });
}
