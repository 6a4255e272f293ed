/**
 * The one logger type of netaccel: the part of pino every package logs through, so that the
 * libraries below @netaccel/telemetry (bpf, rpc, netlab) take a daemon's pino logger without
 * depending on pino. Object first, message second (`log.info({ peer }, 'session established')`),
 * errors under `err`, one child per module with a `component` field. A pino logger fits as it is;
 * @netaccel/telemetry's `createLogger` makes one.
 */
export interface Logger {
  trace(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  fatal(obj: object, msg: string): void;
  /** A logger whose lines carry `bindings` too (`{ component: 'bgp-fsm' }`). */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether a line at `level` would be written (skip formatting what nobody reads). */
  isLevelEnabled(level: string): boolean;
}

const noop = (): void => undefined;

/** Writes nothing; the default of every package that takes an optional logger. */
export const silentLogger: Logger = Object.freeze({
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: (): Logger => silentLogger,
  isLevelEnabled: () => false,
});

/** True when `value` has the methods of a Logger (for option validation). */
export function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'child', 'isLevelEnabled'].every((m) => typeof v[m] === 'function');
}
