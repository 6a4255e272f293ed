/**
 * Operations on plain data trees (objects, lists, scalars) as read from YAML and JSON: copy,
 * merge, read and write at a path, freeze, and list the paths where two trees differ. Keys are
 * written as own properties, so a `__proto__` key in a file stays data and never becomes a
 * prototype.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Path, PathSegment } from './schema-walk.js';

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets an own, enumerable property even for keys like `__proto__`. */
export function setOwn(target: PlainObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy of the plain objects and lists in `value`; anything else is shared. */
export function cloneTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneTree);
  if (isPlainObject(value)) {
    const out: PlainObject = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, cloneTree(v));
    return out;
  }
  return value;
}

/**
 * `override` laid over `base`: mappings are merged key by key, everything else (lists included)
 * is replaced. Neither input is changed; the result shares nothing with them.
 */
export function mergeTrees(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return cloneTree(override);
  const out = cloneTree(base) as PlainObject;
  for (const [k, v] of Object.entries(override)) setOwn(out, k, Object.hasOwn(out, k) ? mergeTrees(out[k], v) : cloneTree(v));
  return out;
}

/** The value at `path`, and whether every step of the path exists. */
export function getIn(tree: unknown, path: Path): { found: boolean; value: unknown } {
  let node = tree;
  for (const seg of path) {
    if (typeof seg === 'number' && Array.isArray(node) && seg < node.length) node = node[seg];
    else if (typeof seg === 'string' && isPlainObject(node) && Object.hasOwn(node, seg)) node = node[seg];
    else return { found: false, value: undefined };
  }
  return { found: true, value: node };
}

/**
 * Writes `value` at `path` inside `tree` (changing it) and returns the tree. Missing or non-mapping
 * steps named by a string become empty mappings; list indexes must exist already.
 */
export function setIn(tree: PlainObject, path: readonly PathSegment[], value: unknown): PlainObject {
  if (path.length === 0) throw new RangeError('setIn: empty path');
  let node: PlainObject | unknown[] = tree;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (typeof seg === 'number') {
      if (!Array.isArray(node) || seg >= node.length) throw new RangeError(`setIn: no list element ${seg}`);
      if (last) node[seg] = value;
      else {
        if (!isPlainObject(node[seg]) && !Array.isArray(node[seg])) node[seg] = {};
        node = node[seg] as PlainObject | unknown[];
      }
    } else {
      if (Array.isArray(node)) throw new RangeError(`setIn: ${seg} is not a list index`);
      if (last) setOwn(node, seg, value);
      else {
        const next: unknown = Object.hasOwn(node, seg) ? node[seg] : undefined;
        if (!isPlainObject(next) && !Array.isArray(next)) setOwn(node, seg, {});
        node = node[seg] as PlainObject | unknown[];
      }
    }
  }
  return tree;
}

/** Freezes `value` and every object and list inside it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The paths at which `next` differs from `prev`, as deep as both sides are mappings or lists:
 * a changed leaf, an added or removed key, a list element added or removed.
 */
export function changedPaths(prev: unknown, next: unknown, path: PathSegment[] = []): PathSegment[][] {
  if (isPlainObject(prev) && isPlainObject(next)) {
    const keys = new Set([...Object.keys(prev), ...Object.keys(next)]);
    return [...keys].flatMap((k) => {
      if (!Object.hasOwn(prev, k) || !Object.hasOwn(next, k)) return [[...path, k]];
      return changedPaths(prev[k], next[k], [...path, k]);
    });
  }
  if (Array.isArray(prev) && Array.isArray(next)) {
    const out: PathSegment[][] = [];
    for (let i = 0; i < Math.max(prev.length, next.length); i++) {
      if (i >= prev.length || i >= next.length) out.push([...path, i]);
      else out.push(...changedPaths(prev[i], next[i], [...path, i]));
    }
    return out;
  }
  return isDeepStrictEqual(prev, next) ? [] : [path];
}
