/**
 * Reads the structure of a zod 4 schema: which schema describes the value at a path, which keys an
 * object knows, whether a value is a secret, whether a leaf takes only strings. Wrappers
 * (optional, nullable, default, readonly, catch, lazy) are seen through; unions, intersections
 * and pipes give several candidates, and a question about a path is answered over all of them.
 */
import type * as z from 'zod';
import { isMarkedSecret } from './secret.js';

export type Schema = z.core.$ZodType;
export type PathSegment = string | number;
export type Path = readonly PathSegment[];

/**
 * Which side of a pipe (`schema.transform(…)`, `z.pipe(a, b)`) to follow: the input side when
 * reading values that are about to be parsed (file, environment), both sides for parsed output.
 */
export type Side = 'input' | 'any';

type Def = z.core.$ZodTypes['_zod']['def'];

function defOf(schema: Schema): Def {
  return (schema as z.core.$ZodTypes)._zod.def;
}

/** The schemas that wrap exactly one inner schema, and that inner schema. */
function innerOf(def: Def): Schema | undefined {
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
    case 'success':
      return def.innerType;
    case 'lazy':
      return def.getter();
    default:
      return undefined;
  }
}

/**
 * The structural schemas a value may be checked against: wrappers removed, unions and
 * intersections spread, pipes followed on the chosen side.
 */
export function structural(schema: Schema, side: Side, seen: ReadonlySet<Schema> = new Set()): Schema[] {
  if (seen.has(schema)) return []; // a recursive z.lazy() that only leads back to itself
  const inside = new Set(seen).add(schema);
  const def = defOf(schema);
  const inner = innerOf(def);
  if (inner !== undefined) return structural(inner, side, inside);
  switch (def.type) {
    case 'union':
      return def.options.flatMap((o) => structural(o, side, inside));
    case 'intersection':
      return [...structural(def.left, side, inside), ...structural(def.right, side, inside)];
    case 'pipe':
      return side === 'input'
        ? structural(def.in, side, inside)
        : [...structural(def.in, side, inside), ...structural(def.out, side, inside)];
    default:
      return [schema];
  }
}

/** The schemas of the value under `key` of a value described by `schema`. */
export function childSchemas(schema: Schema, key: PathSegment, side: Side): Schema[] {
  const out: Schema[] = [];
  for (const s of structural(schema, side)) {
    const def = defOf(s);
    switch (def.type) {
      case 'object': {
        const child = typeof key === 'string' && Object.hasOwn(def.shape, key) ? def.shape[key] : undefined;
        if (child !== undefined) out.push(child);
        break;
      }
      case 'array':
        if (typeof key === 'number') out.push(def.element);
        break;
      case 'tuple': {
        const item = typeof key === 'number' ? def.items[key] : undefined;
        if (item !== undefined) out.push(item);
        else if (typeof key === 'number' && def.rest !== null) out.push(def.rest);
        break;
      }
      case 'record':
      case 'map':
        out.push(def.valueType);
        break;
      default:
        break;
    }
  }
  return out;
}

/** The schemas of the value at `path` under `root` (empty when the path leaves the schema). */
export function schemasAt(root: Schema, path: Path, side: Side): Schema[] {
  let current: Schema[] = [root];
  for (const key of path) {
    current = current.flatMap((s) => childSchemas(s, key, side));
    if (current.length === 0) break;
  }
  return current;
}

/** True when `schema` or one of the wrappers, union options or pipe sides inside it is secret. */
export function isSecretSchema(schema: Schema): boolean {
  if (isMarkedSecret(schema)) return true;
  const def = defOf(schema);
  const inner = innerOf(def);
  if (inner !== undefined) return def.type !== 'lazy' && isSecretSchema(inner);
  switch (def.type) {
    case 'union':
      return def.options.some((o) => isSecretSchema(o));
    case 'intersection':
      return isSecretSchema(def.left) || isSecretSchema(def.right);
    case 'pipe':
      return isSecretSchema(def.in) || isSecretSchema(def.out);
    default:
      return false;
  }
}

/** True when the value at `path`, or anything that contains it, is marked secret. */
export function isSecretPath(root: Schema, path: Path): boolean {
  let current: Schema[] = [root];
  if (current.some(isSecretSchema)) return true;
  for (const key of path) {
    current = current.flatMap((s) => childSchemas(s, key, 'any'));
    if (current.some(isSecretSchema)) return true;
    if (current.length === 0) return false;
  }
  return false;
}

/** The field names the object schemas at `path` know (for "did you mean" hints). */
export function knownKeysAt(root: Schema, path: Path): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(root, path, 'input').flatMap((x) => structural(x, 'input'))) {
    const def = defOf(s);
    if (def.type === 'object') for (const k of Object.keys(def.shape)) keys.add(k);
  }
  return [...keys];
}

/** What an environment override may address at one level of the schema. */
export interface EnvShape {
  /** Field names of the object schemas here. */
  readonly keys: readonly string[];
  /** A list or tuple: a decimal segment addresses an element. */
  readonly indexed: boolean;
  /** A record or map: a segment addresses one of the existing entries. */
  readonly keyed: boolean;
}

export function envShapeOf(schemas: readonly Schema[]): EnvShape {
  const keys = new Set<string>();
  let indexed = false;
  let keyed = false;
  for (const s of schemas.flatMap((x) => structural(x, 'input'))) {
    const def = defOf(s);
    if (def.type === 'object') for (const k of Object.keys(def.shape)) keys.add(k);
    else if (def.type === 'array' || def.type === 'tuple') indexed = true;
    else if (def.type === 'record' || def.type === 'map') keyed = true;
  }
  return { keys: [...keys], indexed, keyed };
}

/**
 * True when every schema here accepts only strings (z.string and its formats, string enums and
 * literals, template literals): an environment value for it is taken as written, not as YAML.
 */
export function acceptsOnlyStrings(schemas: readonly Schema[]): boolean {
  const leaves = schemas.flatMap((x) => structural(x, 'input'));
  if (leaves.length === 0) return false;
  return leaves.every((s) => {
    const def = defOf(s);
    switch (def.type) {
      case 'string':
      case 'template_literal':
        return true;
      case 'enum':
        return Object.values(def.entries).every((v) => typeof v === 'string');
      case 'literal':
        return def.values.every((v) => typeof v === 'string');
      default:
        return false;
    }
  });
}

/** One problem of a schema's structure, found by `inspectDefinition`. */
export interface DefinitionProblem {
  readonly where: string;
  readonly problem: string;
}

/**
 * Walks a whole schema and reports object schemas that are not strict (unknown fields must be
 * refused, not dropped) and field names that cannot be told apart in environment variable names.
 * `envName` turns one field name into its environment form.
 */
export function inspectDefinition(root: Schema, envName: (key: string) => string): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const seen = new Set<Schema>();
  const visit = (schema: Schema, where: string): void => {
    if (seen.has(schema)) return;
    seen.add(schema);
    const def = defOf(schema);
    const inner = innerOf(def);
    if (inner !== undefined) return visit(inner, where);
    switch (def.type) {
      case 'object': {
        if (def.catchall === undefined || defOf(def.catchall).type !== 'never') {
          problems.push({ where, problem: 'object schema is not strict (use z.strictObject or .strict())' });
        }
        const byEnvName = new Map<string, string>();
        for (const [key, child] of Object.entries(def.shape)) {
          const name = envName(key);
          if (!/^[A-Z0-9]+(_[A-Z0-9]+)*$/.test(name)) {
            problems.push({ where: join(where, key), problem: `field name gives the environment name ${JSON.stringify(name)}` });
          }
          const other = byEnvName.get(name);
          if (other !== undefined) {
            problems.push({ where: join(where, key), problem: `field has the same environment name ${name} as ${other}` });
          }
          byEnvName.set(name, key);
          visit(child, join(where, key));
        }
        return;
      }
      case 'array':
        return visit(def.element, `${where}[]`);
      case 'tuple':
        def.items.forEach((item, i) => visit(item, `${where}[${i}]`));
        if (def.rest !== null) visit(def.rest, `${where}[]`);
        return;
      case 'record':
      case 'map':
        return visit(def.valueType, `${where}.*`);
      case 'union':
        return def.options.forEach((o) => visit(o, where));
      case 'intersection':
        visit(def.left, where);
        return visit(def.right, where);
      case 'pipe':
        visit(def.in, where);
        return visit(def.out, where);
      default:
        return;
    }
  };
  visit(root, '');
  return problems;
}

function join(where: string, key: string): string {
  return where === '' ? key : `${where}.${key}`;
}
