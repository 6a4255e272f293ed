/**
 * zod fields for the values network daemons configure, each with one clear message that says what
 * is expected (`expected 0 or 3..65535`); the loader adds the path and the value found. Units:
 * durations are milliseconds, byte sizes are bytes, hold times are seconds.
 */
import { isAbsolute } from 'node:path';
import * as z from 'zod';
import { ipFamily, isIPv4, isIPv6, isPrefixProblem, tryParsePrefix } from '@netaccel/protocol';
import type { IpFamily } from '@netaccel/protocol';
import { parseListenAddress } from './net-addr.js';
import type { ListenAddress } from './net-addr.js';
import { formatByteSize, formatDuration, parseByteSize, parseDuration } from './units.js';

/** pino's levels, most to least severe, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Longest Unix socket path on Linux: `sun_path` is 108 bytes including the final NUL. */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;

/** A number field that accepts only what `ok` allows, with one message for every failure. */
function numberField(expected: string, ok: (n: number) => boolean): z.ZodType<number, number> {
  return z.number({ error: expected }).refine(ok, { error: expected });
}

/** A string field that accepts only what `ok` allows, with one message for every failure. */
function stringField(expected: string, ok: (s: string) => boolean): z.ZodType<string, string> {
  return z.string({ error: expected }).refine(ok, { error: expected });
}

export interface PortOptions {
  /** Accept 0 (the kernel picks a free port), as listeners in tests do. Default false. */
  readonly allowZero?: boolean;
}

/** A TCP/UDP port: an integer 1..65535 (0..65535 with `allowZero`). */
export function port(options: PortOptions = {}): z.ZodType<number, number> {
  const min = options.allowZero === true ? 0 : 1;
  return numberField(`expected a port ${min}..65535`, (n) => Number.isInteger(n) && n >= min && n <= 65535);
}

/**
 * A BGP hold time in seconds: 0 (no keepalives) or 3..65535 (RFC 4271 §4.2). A value of 1 fails
 * with `expected 0 or 3..65535, got 1`.
 */
export function holdTime(): z.ZodType<number, number> {
  return numberField('expected 0 or 3..65535', (n) => Number.isInteger(n) && (n === 0 || (n >= 3 && n <= 65535)));
}

/** An IPv4 address in dotted-quad form (`10.0.0.1`; no leading zeros). @netaccel/protocol's isIPv4. */
export function ipv4(): z.ZodType<string, string> {
  return stringField('expected an IPv4 address', isIPv4);
}

/**
 * An IPv6 address (`2001:db8::1`, `::ffff:192.0.2.1`). A zone (`fe80::1%eth0`) is refused: every
 * address a daemon configures goes on the wire, into a BPF map or into a socket without a scope id.
 */
export function ipv6(): z.ZodType<string, string> {
  return stringField('expected an IPv6 address', isIPv6);
}

/** An IPv4 or IPv6 address (no zone), as @netaccel/protocol's ipFamily reads it. */
export function ipAddress(): z.ZodType<string, string> {
  return stringField('expected an IPv4 or IPv6 address', (s) => ipFamily(s) !== undefined);
}

export interface CidrOptions {
  /** Only this address family. Default: both. */
  readonly family?: IpFamily;
  /** Accept bits set after the prefix (`10.0.0.5/24`, an interface address). Default false. */
  readonly allowHostBits?: boolean;
}

/**
 * A CIDR prefix (`10.0.0.0/24`, `2001:db8::/32`). Unless `allowHostBits`, the host bits must be
 * zero, and the message names the network meant: `expected a prefix without host bits
 * (10.0.0.0/24)`.
 */
export function cidr(options: CidrOptions = {}): z.ZodType<string, string> {
  const example = options.family === 6 ? '2001:db8::/32' : '10.0.0.0/24';
  const family = options.family === undefined ? 'an IPv4 or IPv6' : `an IPv${options.family}`;
  const expected = `expected ${family} prefix like ${example}`;
  return z.string({ error: expected }).superRefine((s, ctx) => {
    const r = tryParsePrefix(s, { allowHostBits: options.allowHostBits === true });
    if (!isPrefixProblem(r) && (options.family === undefined || r.family === options.family)) return;
    const message = isPrefixProblem(r) && r.reason === 'host-bits' ? `expected a prefix without host bits (${r.network})` : expected;
    ctx.addIssue({ code: 'custom', message, input: s });
  });
}

export interface RangeOptions {
  /** Smallest accepted value (in the field's unit). */
  readonly min?: number;
  /** Largest accepted value (in the field's unit). */
  readonly max?: number;
}

function unitField(
  noun: string,
  examples: string,
  parse: (v: number | string) => number | undefined,
  format: (n: number) => string,
  range: RangeOptions,
): z.ZodType<number, number | string> {
  const { min, max } = range;
  const bounds =
    min !== undefined && max !== undefined
      ? ` from ${format(min)} to ${format(max)}`
      : min !== undefined
        ? ` of at least ${format(min)}`
        : max !== undefined
          ? ` of at most ${format(max)}`
          : '';
  const message = `expected ${noun}${bounds} (like ${examples})`;
  return z.union([z.number(), z.string()], { error: message }).transform((v, ctx) => {
    const n = parse(v);
    if (n === undefined || (min !== undefined && n < min) || (max !== undefined && n > max)) {
      ctx.addIssue({ code: 'custom', message, input: v });
      return z.NEVER;
    }
    return n;
  });
}

/**
 * A duration, parsed to milliseconds: `"90s"`, `"1m30s"`, `"1.5s"`, `"500ms"`, `"2h"`, `"1d"`, or
 * a plain whole number of milliseconds. `min` and `max` are in milliseconds.
 */
export function duration(range: RangeOptions = {}): z.ZodType<number, number | string> {
  return unitField('a duration', '"90s", "1m30s", "500ms" or a number of milliseconds', parseDuration, formatDuration, range);
}

/**
 * A byte size, parsed to bytes: `"64KiB"`, `"1.5MB"`, `"4Gi"`, `"512"`, or a plain whole number of
 * bytes. SI units (kB, MB, GB, TB) are powers of 1000, IEC units (KiB, MiB, GiB, TiB) of 1024.
 * `min` and `max` are in bytes.
 */
export function byteSize(range: RangeOptions = {}): z.ZodType<number, number | string> {
  return unitField('a byte size', '"64KiB", "1MB" or a number of bytes', parseByteSize, formatByteSize, range);
}

export interface FilePathOptions {
  /** Require an absolute path. Default false. */
  readonly absolute?: boolean;
}

/** A file path: a non-empty string without NUL bytes; absolute when `absolute` is set. */
export function filePath(options: FilePathOptions = {}): z.ZodType<string, string> {
  const absolute = options.absolute === true;
  return stringField(absolute ? 'expected an absolute file path' : 'expected a file path', (s) => {
    return s.length > 0 && !s.includes('\0') && (!absolute || isAbsolute(s));
  });
}

/** An absolute Unix domain socket path of at most 107 bytes (the Linux `sun_path` limit). */
export function unixSocketPath(): z.ZodType<string, string> {
  return stringField(`expected an absolute Unix socket path of at most ${MAX_UNIX_SOCKET_PATH_BYTES} bytes`, (s) => {
    return isAbsolute(s) && !s.includes('\0') && Buffer.byteLength(s) <= MAX_UNIX_SOCKET_PATH_BYTES;
  });
}

/** A pino log level: fatal, error, warn, info, debug, trace or silent. */
export function logLevel(): z.ZodType<LogLevel, LogLevel> {
  return z.enum(LOG_LEVELS, { error: `expected a log level (${LOG_LEVELS.join(', ')})` });
}

/**
 * A listen address `host:port`, parsed to `{ host, port }`: `127.0.0.1:9100`, `[::1]:9100`,
 * `localhost:0`. IPv6 hosts go in brackets; the port is 0..65535 (0: the kernel picks one).
 */
export function listenAddress(): z.ZodType<ListenAddress, string> {
  const expected = 'expected host:port with a port 0..65535 (IPv6 in brackets, like [::1]:9100)';
  return z.string({ error: expected }).transform((s, ctx) => {
    const parsed = parseListenAddress(s);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: expected, input: s });
      return z.NEVER;
    }
    return parsed;
  });
}
