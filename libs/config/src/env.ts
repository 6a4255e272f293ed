/**
 * Environment overrides: `NETACCEL_<APP>_<FIELD>=<value>`.
 *
 * - APP is the app name in upper case with `-` as `_`: `bgp-announcer` → `BGP_ANNOUNCER`.
 * - FIELD is the path of the field, one segment per level joined by `__` (two underscores). A
 *   field name is written in upper snake case: camelCase humps and `-` become `_`
 *   (`holdTime` → `HOLD_TIME`, `maxMessageBytes` → `MAX_MESSAGE_BYTES`). A list element is its
 *   index (`BGP__PEERS__1__HOLD_TIME`) and must exist already; an entry of a record is its key
 *   written the same way and must exist already.
 * - The value is taken as written when the field takes only strings. Otherwise a value starting
 *   with `[` or `{` is JSON, and anything else a YAML 1.2 scalar (`90` a number, `true` a
 *   boolean, `null` null, `"90"` a string, `90s` a string).
 * - A value that is a mapping is merged into the mapping it replaces; any other value replaces.
 * - Overrides are applied shallow first (fewer segments), then by variable name.
 * - Every variable with the app's prefix must name a field: anything else is an error naming the
 *   variable.
 */
import { parseDocument, isScalar } from 'yaml';
import { closestName, formatPath } from './format-issues.js';
import type { ConfigIssue } from './format-issues.js';
import { cloneTree, getIn, isPlainObject, mergeTrees, setIn } from './object-tree.js';
import type { PlainObject } from './object-tree.js';
import { acceptsOnlyStrings, childSchemas, envShapeOf, isSecretPath } from './schema-walk.js';
import type { PathSegment, Schema } from './schema-walk.js';

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** One applied override: the variable and the path it set. */
export interface EnvOverride {
  readonly variable: string;
  readonly path: readonly PathSegment[];
}

export interface EnvResult {
  /** The data with every override that could be applied. */
  readonly data: PlainObject;
  /** The overrides applied, in order. */
  readonly overrides: readonly EnvOverride[];
  /** Variables that name no field or whose value cannot be read; `path` is the variable name. */
  readonly issues: readonly ConfigIssue[];
}

/** `bgp-announcer` → `BGP_ANNOUNCER`. */
export function appEnvName(app: string): string {
  return app.replace(/-/g, '_').toUpperCase();
}

/** `NETACCEL_BGP_ANNOUNCER_`: the prefix of every override of this app. */
export function envPrefix(app: string): string {
  return `NETACCEL_${appEnvName(app)}_`;
}

/** One field name in an override: `holdTime` → `HOLD_TIME`, `HTTPPort` → `HTTP_PORT`, `max-paths` → `MAX_PATHS`. */
export function fieldEnvName(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/** The variable that overrides `path`: `(NETACCEL_BGP_ANNOUNCER_, ['bgp','peers',1])` → `NETACCEL_BGP_ANNOUNCER_BGP__PEERS__1`. */
export function envVariableFor(prefix: string, path: readonly PathSegment[]): string {
  return prefix + path.map((seg) => (typeof seg === 'number' ? String(seg) : fieldEnvName(seg))).join('__');
}

type Resolved = { readonly ok: true; readonly path: PathSegment[]; readonly schemas: Schema[] } | { readonly ok: false; readonly message: string };

/** Maps the FIELD part of a variable to a path, level by level, against the schema and the data. */
function resolveField(field: string, root: Schema, data: unknown, prefix: string): Resolved {
  const path: PathSegment[] = [];
  let schemas: Schema[] = [root];
  const where = (): string => (path.length === 0 ? 'at the top level' : `under ${formatPath(path)}`);
  for (const seg of field.split('__')) {
    const shape = envShapeOf(schemas);
    const node = getIn(data, path).value;
    const key = shape.keys.find((k) => fieldEnvName(k) === seg);
    if (key !== undefined) {
      path.push(key);
    } else if (shape.indexed && /^(0|[1-9]\d*)$/.test(seg)) {
      const index = Number(seg);
      const length = Array.isArray(node) ? node.length : 0;
      if (index >= length) {
        return {
          ok: false,
          message: `${formatPath(path)} has no element ${index} (it has ${length}); set the whole list with ${envVariableFor(prefix, path)}`,
        };
      }
      path.push(index);
    } else if (shape.keyed) {
      const entry = isPlainObject(node) ? Object.keys(node).find((k) => fieldEnvName(k) === seg) : undefined;
      if (entry === undefined) {
        return { ok: false, message: `${formatPath(path)} has no entry ${seg}; set the whole mapping with ${envVariableFor(prefix, path)}` };
      }
      path.push(entry);
    } else if (shape.keys.length === 0 && path.length > 0) {
      return { ok: false, message: `${formatPath(path)} has no fields, so ${JSON.stringify(seg)} names nothing` };
    } else {
      const hint = closestName(seg, shape.keys.map(fieldEnvName));
      const suggestion = hint === undefined ? '' : `; did you mean ${envVariableFor(prefix, path)}${path.length > 0 ? '__' : ''}${hint}?`;
      return { ok: false, message: `names no field: there is no ${JSON.stringify(seg)} ${where()}${suggestion}` };
    }
    schemas = schemas.flatMap((s) => childSchemas(s, path[path.length - 1]!, 'input'));
  }
  return { ok: true, path, schemas };
}

type Parsed = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/**
 * Reads an override's value: as written for string fields, else JSON or a YAML scalar. For a
 * secret field a JSON error does not quote the value.
 */
export function parseEnvValue(raw: string, stringOnly: boolean, secret = false): Parsed {
  if (stringOnly || raw === '') return { ok: true, value: raw };
  const trimmed = raw.trimStart();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      return { ok: true, value: JSON.parse(raw) as unknown };
    } catch (err) {
      const reason = secret ? 'not valid JSON' : (err as Error).message;
      return { ok: false, message: `expected JSON (the value starts with ${trimmed[0]}): ${reason}` };
    }
  }
  const doc = parseDocument(raw, { schema: 'core', prettyErrors: false });
  const node = doc.contents;
  const plainScalar = doc.errors.length === 0 && doc.warnings.length === 0 && isScalar(node) && node.comment == null && doc.comment == null;
  return { ok: true, value: plainScalar ? (node.toJSON() as unknown) : raw };
}

/**
 * Applies the app's overrides from `env` to a copy of `data`. Problems are collected, not thrown:
 * the caller reports them together with the schema's.
 */
export function applyEnv(root: Schema, prefix: string, env: Env, data: PlainObject): EnvResult {
  const vars = Object.keys(env)
    .filter((name) => name.startsWith(prefix) && env[name] !== undefined)
    .map((name) => ({ name, field: name.slice(prefix.length) }))
    .sort((a, b) => a.field.split('__').length - b.field.split('__').length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let result = cloneTree(data) as PlainObject;
  const overrides: EnvOverride[] = [];
  const issues: ConfigIssue[] = [];
  for (const { name, field } of vars) {
    const resolved = field === '' ? ({ ok: false, message: 'names no field' } as const) : resolveField(field, root, result, prefix);
    if (!resolved.ok) {
      issues.push({ path: name, message: resolved.message });
      continue;
    }
    const parsed = parseEnvValue(env[name]!, acceptsOnlyStrings(resolved.schemas), isSecretPath(root, resolved.path));
    if (!parsed.ok) {
      issues.push({ path: name, message: parsed.message });
      continue;
    }
    const current = getIn(result, resolved.path).value;
    const value = isPlainObject(current) && isPlainObject(parsed.value) ? mergeTrees(current, parsed.value) : parsed.value;
    result = setIn(result, resolved.path, value);
    overrides.push({ variable: name, path: resolved.path });
  }
  return { data: result, overrides, issues };
}
