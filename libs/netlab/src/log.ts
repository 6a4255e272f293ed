/**
 * The logger netlab writes to: the subset of pino's API it uses, so callers pass their pino
 * logger (`createLab(spec, { log: pino() })`) and netlab needs no logging dependency. Object
 * first, message second; errors under `err`; one child per module with a `component` field.
 */
export interface LabLogger {
  child(bindings: Record<string, unknown>): LabLogger;
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

const noop = (): void => {};

/** Discards everything; the default. */
export const silentLogger: LabLogger = Object.freeze({
  child: () => silentLogger,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});
