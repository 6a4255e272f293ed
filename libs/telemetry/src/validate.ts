/**
 * Small validators for option objects. Every failure names the path of the bad field first
 * (`listen.port: expected an integer in 0..65535, got 70000`) and is thrown as the typed error
 * the caller chooses (`NA_ERR_TELEMETRY_OPTIONS_INVALID` by default).
 */
import type { ErrorFactory, NetaccelError } from '@netaccel/errors';
import { telemetryErrors } from './errors.js';

/** Builds the error for a bad field: `fail(path, problem)`. */
export type Fail = (path: string, problem: string) => NetaccelError;

export const failOption: Fail = (path, problem) =>
  telemetryErrors.NA_ERR_TELEMETRY_OPTIONS_INVALID.with({ details: { path } }, path, problem);

export function failWith(factory: ErrorFactory): Fail {
  return (path, problem) => factory.with({ details: { path } }, path, problem);
}

/** A short, unambiguous rendering of a bad value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return 'an object';
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Checks that `value` is a plain object whose keys are all in `known`; returns it. */
export function record(
  value: unknown,
  path: string,
  known: readonly string[],
  fail: Fail = failOption,
): Record<string, unknown> {
  if (!isPlainObject(value)) throw fail(path === '' ? 'options' : path, `expected an object, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw fail(join(path, key), `unknown option (known: ${known.join(', ')})`);
  }
  return value;
}

export function nonEmptyString(value: unknown, path: string, fail: Fail = failOption): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw fail(path, `expected a non-empty string, got ${describe(value)}`);
  }
  return value;
}

export function integerIn(value: unknown, min: number, max: number, path: string, fail: Fail = failOption): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fail(path, `expected an integer in ${min}..${max}, got ${describe(value)}`);
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string, fail: Fail = failOption): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw fail(path, `expected one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

export function matches(value: unknown, re: RegExp, what: string, path: string, fail: Fail = failOption): string {
  if (typeof value !== 'string' || !re.test(value)) throw fail(path, `expected ${what}, got ${describe(value)}`);
  return value;
}

export function fn<T extends (...args: never[]) => unknown>(value: unknown, path: string, fail: Fail = failOption): T {
  if (typeof value !== 'function') throw fail(path, `expected a function, got ${describe(value)}`);
  return value as T;
}

/** The value of an optional field: `fallback` when absent, otherwise `check(value)`. */
export function optional<T>(value: unknown, fallback: T, check: (v: unknown) => T): T {
  return value === undefined ? fallback : check(value);
}
