/**
 * `defineConfig`: one app's configuration — its name (which gives the environment prefix), its
 * zod schema and its table of defaults — checked once when the app starts, so a typo in the
 * schema or the defaults is a startup failure in the app's own tests, not a surprise in
 * production.
 */
import type * as z from 'zod';
import { NA_ERR_CONFIG_DEFINITION } from './errors.js';
import { envPrefix, fieldEnvName } from './env.js';
import { expectedErrorMap, issueLine, issuesFromZod } from './format-issues.js';
import { cloneTree, deepFreeze, isPlainObject } from './object-tree.js';
import { inspectDefinition, structural } from './schema-walk.js';

/** Every field optional, recursively; lists are given whole. */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** Read-only all the way down, as the loaded configuration is (it is deep-frozen). */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer E)[]
    ? readonly DeepReadonly<E>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export interface ConfigSpec<S extends z.ZodType> {
  /** The app's name, lower-case words joined by `-`: `bgp-announcer`. */
  readonly app: string;
  /** The schema: strict objects all the way down (`z.strictObject` or `.strict()`). */
  readonly schema: S;
  /**
   * The defaults, as values of the file would be written (`holdTime: 90, // s`,
   * `keepalive: '30s'`). Lists are given whole; defaults of fields inside list elements go in the
   * schema with `.default()`.
   */
  readonly defaults?: DeepPartial<z.input<S>>;
}

export interface ConfigDefinition<S extends z.ZodType = z.ZodType> {
  readonly app: string;
  /** The prefix of the app's environment overrides: `NETACCEL_BGP_ANNOUNCER_`. */
  readonly envPrefix: string;
  readonly schema: S;
  readonly defaults: DeepReadonly<DeepPartial<z.input<S>>>;
}

/** The loaded configuration of a definition: the schema's output, deep read-only. */
export type ConfigOf<D extends ConfigDefinition> = DeepReadonly<z.output<D['schema']>>;

const APP_NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Defines an app's configuration. Throws NA_ERR_CONFIG_DEFINITION when the app name is not
 * lower-case words joined by `-`, when the schema's top level is not an object, when an object
 * schema is not strict, when two field names give the same environment name, or when a default
 * names an unknown field or has a value the schema refuses.
 */
export function defineConfig<S extends z.ZodType>(spec: ConfigSpec<S>): ConfigDefinition<S> {
  const { app, schema } = spec;
  const fail = (problem: string): never => {
    throw NA_ERR_CONFIG_DEFINITION.with({ details: { app } }, app, problem);
  };
  if (!APP_NAME_RE.test(app)) fail(`app name ${JSON.stringify(app)}: expected lower-case words joined by "-", like "bgp-announcer"`);
  const roots = structural(schema, 'input');
  if (roots.length === 0 || roots.some((s) => s._zod.def.type !== 'object')) fail('the schema: expected an object schema at the top level');
  const problems = inspectDefinition(schema, fieldEnvName).map((p) => `${p.where === '' ? '<root>' : p.where}: ${p.problem}`);
  if (problems.length > 0) fail(problems.join('; '));

  const defaults = spec.defaults ?? {};
  if (!isPlainObject(defaults)) fail('defaults: expected a mapping');
  // Missing fields are fine here (the file or the environment may give them); anything else is not.
  const parsed = schema.safeParse(defaults, { error: expectedErrorMap, reportInput: true });
  if (!parsed.success) {
    const wrong = parsed.error.issues.filter((i) => i.code === 'unrecognized_keys' || (i.input !== undefined && i.path.length > 0));
    const lines = issuesFromZod(wrong, schema, () => ({ kind: 'default' })).map(issueLine);
    if (lines.length > 0) fail(lines.join('; '));
  }
  return Object.freeze({
    app,
    envPrefix: envPrefix(app),
    schema,
    defaults: deepFreeze(cloneTree(defaults)) as DeepReadonly<DeepPartial<z.input<S>>>,
  });
}
