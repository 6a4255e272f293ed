/**
 * The pino logger every netaccel daemon uses: one JSON object per line (NDJSON) with ISO
 * timestamps, level labels, the base fields `app`, `pid` and `hostname`, errors serialized under
 * `err` (with `code`, `kind` and `details` for a NetaccelError, and its `cause` chain), and secrets
 * redacted. When the output is a terminal the lines are pretty-printed by pino-pretty instead.
 *
 *   const log = createLogger({ name: 'lbd', level: 'debug' });
 *   const fsmLog = childLogger(log, 'bgp-fsm');
 *   fsmLog.info({ peer, state }, 'bgp session established');
 */
import { hostname } from 'node:os';
import process from 'node:process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { errorMessage } from '@netaccel/errors';
import type { Logger } from '@netaccel/errors';
import { describe, failOption, join, nonEmptyString, oneOf, optional, record } from './validate.js';

/**
 * The logger type of every netaccel package (defined in @netaccel/errors, so that the libraries
 * below this one share it); `createLogger` makes a pino logger, which is one.
 */
export type { DestinationStream, Logger };

export const LOG_LEVELS = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const);
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Paths redacted from every log line, whatever the caller adds. `*` matches one level of nesting;
 * the values are replaced by `REDACTED`.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = Object.freeze(
  [
    'password',
    'passphrase',
    'secret',
    'token',
    'apiKey',
    'privateKey',
    'authorization',
    'cookie',
  ].flatMap((key) => [key, `*.${key}`]).concat(['req.headers.authorization', 'req.headers.cookie']),
);

export const REDACTED = '[redacted]';

export interface LoggerOptions {
  /** The daemon's name, logged as `app` on every line. */
  name: string;
  /** The lowest level written. */
  level?: LogLevel;
  /** `'auto'`: pretty-print when the destination is a terminal; `true` / `false` force it. */
  pretty?: boolean | 'auto';
  /** Where lines go; stdout when absent. Tests pass `createLogCapture().stream`. */
  destination?: DestinationStream;
  /** Extra paths to redact, in pino's path syntax (`tls.key`, `peers[*].md5Password`). */
  redact?: readonly string[];
}

/** Options after validation and defaults, frozen. */
export interface ResolvedLoggerOptions {
  readonly name: string;
  readonly level: LogLevel;
  readonly pretty: boolean | 'auto';
  readonly destination: DestinationStream | undefined;
  readonly redact: readonly string[];
}

const DEFAULTS = Object.freeze({
  level: 'info' as LogLevel,
  pretty: 'auto' as boolean | 'auto',
  redact: Object.freeze([]) as readonly string[],
});

const KNOWN_OPTIONS = ['name', 'level', 'pretty', 'destination', 'redact'] as const;

export function resolveLoggerOptions(options: LoggerOptions): ResolvedLoggerOptions {
  const o = record(options, '', KNOWN_OPTIONS);
  return Object.freeze({
    name: nonEmptyString(o.name, 'name'),
    level: optional(o.level, DEFAULTS.level, (v) => oneOf(v, LOG_LEVELS, 'level')),
    pretty: optional(o.pretty, DEFAULTS.pretty, (v) => {
      if (v === true || v === false || v === 'auto') return v;
      throw failOption('pretty', `expected true, false or "auto", got ${describe(v)}`);
    }),
    destination: optional<DestinationStream | undefined>(o.destination, undefined, (v) => {
      if (typeof v === 'object' && v !== null && typeof (v as { write?: unknown }).write === 'function') {
        return v as DestinationStream;
      }
      throw failOption('destination', `expected a stream with a write method, got ${describe(v)}`);
    }),
    redact: optional(o.redact, DEFAULTS.redact, (v) => {
      if (!Array.isArray(v)) throw failOption('redact', `expected an array of paths, got ${describe(v)}`);
      return Object.freeze(v.map((p: unknown, i) => nonEmptyString(p, join('redact', i))));
    }),
  });
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * `t` as `Date.prototype.toISOString` writes it (years 0..9999), built from the UTC fields:
 * toISOString pulls in ~0.7 MiB of node's ICU data on its first call, which every daemon kept
 * for its life only to stamp its log lines (bench/bgp's idle RSS).
 */
export function isoTime(t: number): string {
  const d = new Date(t);
  const year = d.getUTCFullYear();
  const y = year < 1000 ? `${year}`.padStart(4, '0') : `${year}`;
  return `${y}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${pad3(d.getUTCMilliseconds())}Z`;
}

/** pino's `timestamp` hook: the line's `"time"` field, as pino.stdTimeFunctions.isoTime writes it. */
const isoTimeField = (): string => `,"time":"${isoTime(Date.now())}"`;

/** True when `pretty` asks for pretty output on this destination (stdout when absent). */
export function wantsPretty(pretty: boolean | 'auto', destination?: DestinationStream): boolean {
  if (pretty !== 'auto') return pretty;
  const target: unknown = destination ?? process.stdout;
  return (target as { isTTY?: unknown }).isTTY === true;
}

/**
 * Creates a daemon's root logger: a pino logger (its `level` can be changed while it runs), which
 * is a `Logger`. Throws NA_ERR_TELEMETRY_OPTIONS_INVALID on bad options.
 */
export function createLogger(options: LoggerOptions): PinoLogger {
  const o = resolveLoggerOptions(options);
  const pretty = wantsPretty(o.pretty, o.destination);
  const stream = pretty ? prettyStream(o.destination) : o.destination;
  const pinoOptions = {
    level: o.level,
    base: { app: o.name, pid: process.pid, hostname: hostname() },
    timestamp: isoTimeField,
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.errWithCause },
    redact: { paths: [...DEFAULT_REDACT_PATHS, ...o.redact], censor: REDACTED },
  };
  try {
    return stream === undefined ? pino(pinoOptions) : pino(pinoOptions, stream);
  } catch (err) {
    // pino checks the redaction paths when it builds the logger.
    throw failOption('redact', errorMessage(err));
  }
}

function prettyStream(destination: DestinationStream | undefined): DestinationStream {
  return PinoPretty({
    destination: destination === undefined ? 1 : asNodeStream(destination),
    sync: true,
    colorize: wantsPretty('auto', destination),
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'app,pid,hostname,component',
    messageFormat: '{if component}[{component}] {end}{msg}',
  });
}

/** pino-pretty pipes into its destination, so a bare `{ write }` object is wrapped in a Writable. */
function asNodeStream(destination: DestinationStream): NodeJS.WritableStream {
  if (typeof (destination as { on?: unknown }).on === 'function') return destination as unknown as NodeJS.WritableStream;
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      destination.write(chunk.toString());
      callback();
    },
  });
}

/** The logger of one module: `log.child({ component })`. */
export function childLogger(log: Logger, component: string): Logger {
  return log.child({ component: nonEmptyString(component, 'component') });
}
