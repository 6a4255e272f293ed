/**
 * Lab options: validated once against the defaults table, result frozen. Runs that share a
 * `prefix` must share `stateDir` — that is where they see each other's ownership records.
 */
import { isAbsolute, join } from 'node:path';
import { tmpdir } from 'node:os';
import { Checker } from './check.js';
import { NA_ERR_NETLAB_OPTIONS_INVALID } from './errors.js';
import { isLogger, silentLogger } from '@netaccel/errors';
import type { Logger } from '@netaccel/errors';
import { DEFAULT_PREFIX, prefixProblem } from './names.js';

export interface LabOptions {
  /** First part of every namespace name (`<prefix>-<runId>-<node>`). */
  readonly prefix?: string;
  /** Ownership records: `<stateDir>/<prefix>/<runId>.json`. */
  readonly stateDir?: string;
  /** Process logs and build files: `<logDir>/<prefix>-<runId>/`. Kept after down() for post-mortems. */
  readonly logDir?: string;
  /** Run `cleanStale()` before building. */
  readonly cleanStale?: boolean;
  /** Tear down on SIGINT, SIGTERM and SIGHUP (teardown on process exit is always on). */
  readonly handleSignals?: boolean;
  readonly killGraceMs?: number;
  readonly readyTimeoutMs?: number;
  readonly execTimeoutMs?: number;
  readonly pollIntervalMs?: number;
  readonly logRetentionMs?: number;
  readonly log?: Logger;
}

export type ResolvedLabOptions = { readonly [K in keyof LabOptions]-?: NonNullable<LabOptions[K]> };

/** Defaults; `logDir` falls back to $NETLAB_LOG_DIR, then the OS temp folder. */
export const LAB_DEFAULTS = Object.freeze({
  prefix: DEFAULT_PREFIX,
  stateDir: '/run/netaccel-netlab',
  cleanStale: true,
  handleSignals: true,
  killGraceMs: 2_000, // 2 s from SIGTERM to SIGKILL
  readyTimeoutMs: 10_000, // 10 s for a spawned process to become ready
  execTimeoutMs: 30_000, // 30 s for one exec()
  pollIntervalMs: 25, // 25 ms between readiness probes
  logRetentionMs: 3 * 24 * 3600_000, // 3 days: cleanStale() removes older log folders of finished runs
});

const KEYS = [
  'prefix', 'stateDir', 'logDir', 'cleanStale', 'handleSignals', 'killGraceMs', 'readyTimeoutMs',
  'execTimeoutMs', 'pollIntervalMs', 'logRetentionMs', 'log',
];
const HOUR_MS = 3600_000;

export function defaultLogDir(): string {
  const env = process.env.NETLAB_LOG_DIR;
  return env !== undefined && isAbsolute(env) ? env : join(tmpdir(), 'netaccel-netlab');
}

export function resolveLabOptions(input: LabOptions = {}): ResolvedLabOptions {
  const c = new Checker(NA_ERR_NETLAB_OPTIONS_INVALID);
  const o = c.object(input, 'options', KEYS);
  const prefix = o.prefix === undefined ? LAB_DEFAULTS.prefix : c.string(o.prefix, 'options.prefix');
  const problem = prefixProblem(prefix);
  if (problem !== undefined) c.fail('options.prefix', problem);
  const dir = (key: 'stateDir' | 'logDir', fallback: string): string => {
    if (o[key] === undefined) return fallback;
    const value = c.string(o[key], `options.${key}`);
    if (!isAbsolute(value) || /\s/.test(value)) c.fail(`options.${key}`, `expected an absolute path without spaces, got ${JSON.stringify(value)}`);
    return value;
  };
  const ms = (key: 'killGraceMs' | 'readyTimeoutMs' | 'execTimeoutMs' | 'pollIntervalMs' | 'logRetentionMs', min: number, max: number): number =>
    o[key] === undefined ? LAB_DEFAULTS[key] : c.int(o[key], `options.${key}`, min, max);
  const log = o.log === undefined ? silentLogger : o.log;
  if (!isLogger(log)) return c.fail('options.log', 'expected a pino-like logger (a Logger of @netaccel/errors)');
  return Object.freeze({
    prefix,
    stateDir: dir('stateDir', LAB_DEFAULTS.stateDir),
    logDir: dir('logDir', defaultLogDir()),
    cleanStale: o.cleanStale === undefined ? LAB_DEFAULTS.cleanStale : c.boolean(o.cleanStale, 'options.cleanStale'),
    handleSignals: o.handleSignals === undefined ? LAB_DEFAULTS.handleSignals : c.boolean(o.handleSignals, 'options.handleSignals'),
    killGraceMs: ms('killGraceMs', 0, 60_000),
    readyTimeoutMs: ms('readyTimeoutMs', 1, 24 * HOUR_MS),
    execTimeoutMs: ms('execTimeoutMs', 1, 24 * HOUR_MS),
    pollIntervalMs: ms('pollIntervalMs', 1, 10_000),
    logRetentionMs: ms('logRetentionMs', 0, 365 * 24 * HOUR_MS),
    log,
  });
}
