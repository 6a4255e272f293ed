/**
 * Typed errors for every netaccel package, after fastify's `@fastify/error`: each error has a
 * stable code (`NA_ERR_<AREA>_<PROBLEM>`), a message template with `%s` / `%d` / `%j`
 * placeholders, and a kind. The kind says what went wrong in terms a caller can act on; it is
 * the single thing `@netaccel/rpc` maps to a gRPC status code, so the mapping lives in one place.
 */
import { format } from 'node:util';

export type ErrorKind =
  | 'invalid-argument' // the request or input is malformed: fix it and retry
  | 'not-found' // the named thing does not exist
  | 'already-exists' // the thing exists already
  | 'failed-precondition' // the system is not in a state that allows this
  | 'permission-denied' // the caller may not do this
  | 'resource-exhausted' // a limit was reached
  | 'unavailable' // a dependency is down; retrying later may work
  | 'deadline-exceeded' // it took too long
  | 'aborted' // a concurrent change got in the way
  | 'internal'; // a bug or an unexpected failure

export interface ErrorDefinition {
  readonly code: string;
  readonly template: string;
  readonly kind: ErrorKind;
}

export interface NetaccelErrorOptions {
  cause?: unknown;
  /** Structured details for logs and API answers (field paths, verifier logs, peers …). */
  details?: Readonly<Record<string, unknown>>;
}

export class NetaccelError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(def: ErrorDefinition, message: string, opts: NetaccelErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'NetaccelError';
    this.code = def.code;
    this.kind = def.kind;
    this.details = Object.freeze({ ...(opts.details ?? {}) });
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, kind: this.kind, message: this.message, details: this.details };
  }
}

export interface ErrorFactory {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly template: string;
  /** Builds the error; the arguments fill the template's placeholders in order. */
  (...args: unknown[]): NetaccelError;
  /** The same, with a cause and details. */
  with(opts: NetaccelErrorOptions, ...args: unknown[]): NetaccelError;
  /** True when `err` was made by this factory. */
  is(err: unknown): err is NetaccelError;
}

const CODE_RE = /^NA_ERR_[A-Z0-9]+(_[A-Z0-9]+)+$/;

/** Defines one error. Codes must have the form NA_ERR_<AREA>_<PROBLEM>. */
export function defineError(code: string, template: string, kind: ErrorKind): ErrorFactory {
  if (!CODE_RE.test(code)) throw new TypeError(`defineError: code ${JSON.stringify(code)} is not NA_ERR_<AREA>_<PROBLEM>`);
  if (template.length === 0) throw new TypeError(`defineError: ${code} has an empty message template`);
  const def: ErrorDefinition = Object.freeze({ code, template, kind });
  const build = (opts: NetaccelErrorOptions, args: unknown[]): NetaccelError =>
    new NetaccelError(def, args.length > 0 ? format(template, ...args) : template, opts);
  const factory = ((...args: unknown[]) => build({}, args)) as ErrorFactory;
  Object.defineProperties(factory, {
    code: { value: code, enumerable: true },
    kind: { value: kind, enumerable: true },
    template: { value: template, enumerable: true },
    with: { value: (opts: NetaccelErrorOptions, ...args: unknown[]) => build(opts, args) },
    is: { value: (err: unknown) => err instanceof NetaccelError && err.code === code },
  });
  return factory;
}

/** A package's registry: a record of factories whose keys are their codes. */
export type ErrorRegistry = Readonly<Record<string, ErrorFactory>>;

/**
 * Checks a registry: every key equals its factory's code and every code is unique across the
 * registries given. Packages call this in a test together with `undocumentedCodes`.
 */
export function checkRegistry(...registries: ErrorRegistry[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const reg of registries) {
    for (const [key, f] of Object.entries(reg)) {
      if (key !== f.code) problems.push(`${key}: key differs from its code ${f.code}`);
      if (seen.has(f.code)) problems.push(`${f.code}: defined twice`);
      seen.add(f.code);
    }
  }
  return problems;
}

/** Codes of `registry` that the documentation text (a package README) does not mention. */
export function undocumentedCodes(registry: ErrorRegistry, documentation: string): string[] {
  return Object.keys(registry).filter((code) => !new RegExp(`\\b${code}\\b`).test(documentation));
}

export function isNetaccelError(err: unknown): err is NetaccelError {
  return err instanceof NetaccelError;
}

/** A message for any thrown value, for logs and error answers. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
