/**
 * Where the telemetry server listens: a TCP `{ host, port }` or a Unix socket `{ path }`.
 * Validates the address, turns listen failures into typed errors, and clears the stale socket
 * file a crashed daemon leaves behind (a socket nobody accepts on) before listening on a path.
 */
import { lstat, unlink } from 'node:fs/promises';
import { connect, isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { isAbsolute } from 'node:path';
import { errorMessage } from '@netaccel/errors';
import type { NetaccelError } from '@netaccel/errors';
import { telemetryErrors } from './errors.js';
import { describe, failWith, integerIn, nonEmptyString, record } from './validate.js';

const {
  NA_ERR_TELEMETRY_LISTEN_ADDRESS_INVALID,
  NA_ERR_TELEMETRY_LISTEN_ADDRESS_IN_USE,
  NA_ERR_TELEMETRY_LISTEN_FAILED,
  NA_ERR_TELEMETRY_LISTEN_PERMISSION_DENIED,
} = telemetryErrors;

export interface TcpListenOptions {
  /** An IP address (`127.0.0.1`, `::`) or a host name (`localhost`). */
  readonly host: string;
  /** 0 picks a free port; `listen()` reports which. */
  readonly port: number;
}

export interface UnixListenOptions {
  /** Absolute path of the Unix socket, at most 107 bytes (the kernel's `sun_path`). */
  readonly path: string;
}

export type ListenOptions = TcpListenOptions | UnixListenOptions;

export type BoundAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly family: string; readonly url: string }
  | { readonly kind: 'unix'; readonly path: string };

export const MAX_UNIX_PATH_BYTES = 107;

const HOSTNAME_RE = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

const failListen = failWith(NA_ERR_TELEMETRY_LISTEN_ADDRESS_INVALID);

/** Validates `listen` and returns a frozen copy. Throws NA_ERR_TELEMETRY_LISTEN_ADDRESS_INVALID. */
export function resolveListenOptions(value: unknown, path = 'listen'): ListenOptions {
  const o = record(value, path, ['host', 'port', 'path'], failListen);
  if (o.path !== undefined) {
    if (o.host !== undefined || o.port !== undefined) {
      throw failListen(path, 'expected either { host, port } or { path }, got both');
    }
    const p = nonEmptyString(o.path, `${path}.path`, failListen);
    if (!isAbsolute(p)) throw failListen(`${path}.path`, `expected an absolute path, got ${describe(p)}`);
    if (Buffer.byteLength(p) > MAX_UNIX_PATH_BYTES) {
      throw failListen(`${path}.path`, `expected at most ${MAX_UNIX_PATH_BYTES} bytes, got ${Buffer.byteLength(p)}`);
    }
    return Object.freeze({ path: p });
  }
  const host = nonEmptyString(o.host, `${path}.host`, failListen);
  if (isIP(host) === 0 && !HOSTNAME_RE.test(host)) {
    throw failListen(`${path}.host`, `expected an IP address or a host name, got ${describe(host)}`);
  }
  const port = integerIn(o.port, 0, 65535, `${path}.port`, failListen);
  return Object.freeze({ host, port });
}

export function isUnix(listen: ListenOptions): listen is UnixListenOptions {
  return 'path' in listen;
}

/** `127.0.0.1:9464`, `[::1]:9464` or the socket path, for messages. */
export function describeListen(listen: ListenOptions): string {
  if (isUnix(listen)) return listen.path;
  return isIP(listen.host) === 6 ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
}

/** The address a listening server is bound to. */
export function boundAddress(address: AddressInfo | string | null): BoundAddress | undefined {
  if (address === null) return undefined;
  if (typeof address === 'string') return Object.freeze({ kind: 'unix', path: address });
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return Object.freeze({
    kind: 'tcp',
    host: address.address,
    port: address.port,
    family: address.family,
    url: `http://${hostPart}:${address.port}`,
  });
}

/** The typed error for a failed `listen(2)`. */
export function listenError(err: unknown, listen: ListenOptions): NetaccelError {
  const where = describeListen(listen);
  const code = (err as { code?: unknown } | null)?.code;
  const opts = { cause: err, details: { address: where, ...(typeof code === 'string' ? { errno: code } : {}) } };
  switch (code) {
    case 'EADDRINUSE':
      return NA_ERR_TELEMETRY_LISTEN_ADDRESS_IN_USE.with(opts, where);
    case 'EACCES':
    case 'EPERM':
      return NA_ERR_TELEMETRY_LISTEN_PERMISSION_DENIED.with(opts, where);
    default:
      return NA_ERR_TELEMETRY_LISTEN_FAILED.with(opts, where, errorMessage(err));
  }
}

/**
 * Before listening on a Unix socket path: removes the file when it is a socket nobody accepts
 * on (left by a daemon that died), and fails when another process serves it or the path is
 * something else.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return;
    throw listenError(err, { path });
  }
  if (!isSocket) {
    throw NA_ERR_TELEMETRY_LISTEN_FAILED.with({ details: { address: path } }, path, 'the path exists and is not a socket');
  }
  const probe = await probeSocket(path);
  if (probe === 'accepts') {
    throw NA_ERR_TELEMETRY_LISTEN_ADDRESS_IN_USE.with({ details: { address: path } }, path);
  }
  if (probe !== 'refused') throw listenError(probe, { path });
  try {
    await unlink(path);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') throw listenError(err, { path });
  }
}

/**
 * Connects to the Unix socket at `path`: `'accepts'` when something serves it, `'refused'` when
 * nobody does (a stale socket), otherwise the connection error.
 */
function probeSocket(path: string): Promise<'accepts' | 'refused' | Error> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepts');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(err.code === 'ECONNREFUSED' ? 'refused' : err);
    });
  });
}
