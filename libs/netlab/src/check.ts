/**
 * Small validators shared by the spec and the options: each takes the value and the path of the
 * field and throws one typed error whose message starts with that path
 * (`links[1].mtu: expected a whole number 68..65535, got 70000`).
 */
import type { ErrorFactory } from '@netaccel/errors';
import { NA_ERR_NETLAB_SPEC_INVALID } from './errors.js';

export class Checker {
  constructor(private readonly factory: ErrorFactory = NA_ERR_NETLAB_SPEC_INVALID) {}

  fail(path: string, problem: string): never {
    throw this.factory.with({ details: { path, problem } }, `${path}: ${problem}`);
  }

  object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `expected an object, got ${describe(value)}`);
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.fail(join(path, key), `unknown field (expected one of ${allowed.join(', ')})`);
    }
    return obj;
  }

  /** A plain object used as a map (any keys). */
  record(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `expected an object, got ${describe(value)}`);
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, path: string): readonly unknown[] {
    if (!Array.isArray(value)) this.fail(path, `expected an array, got ${describe(value)}`);
    return value;
  }

  string(value: unknown, path: string, re?: RegExp, expected?: string): string {
    if (typeof value !== 'string') this.fail(path, `expected a string, got ${describe(value)}`);
    if (re !== undefined && !re.test(value)) this.fail(path, `expected ${expected ?? re.source}, got ${JSON.stringify(value)}`);
    return value;
  }

  int(value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `expected a whole number ${min}..${max}, got ${describe(value)}`);
    }
    return value;
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') this.fail(path, `expected true or false, got ${describe(value)}`);
    return value;
  }

  /** A string or an array of strings; returns each item with its own path. */
  stringList(value: unknown, path: string): { value: string; path: string }[] {
    if (typeof value === 'string') return [{ value, path }];
    return this.array(value, path).map((item, i) => ({ value: this.string(item, `${path}[${i}]`), path: `${path}[${i}]` }));
  }
}

/** `a.b` for identifier keys, `a['net.ipv4.ip_forward']` for others. */
export function join(path: string, key: string): string {
  const part = /^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return path === '' ? part.replace(/^\./, '') : `${path}${part}`;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof RegExp) return String(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return typeof value;
  }
}
