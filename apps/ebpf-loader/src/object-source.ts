/**
 * Where objects come from, and what makes two loads the same object. A path is taken relative to
 * the object directory (or absolute inside it); symlinks are resolved before the check, so a link
 * that points outside is refused like a path that is outside. The bytes are read once, and the
 * loader hashes and loads those same bytes (no window for the file to change in between).
 *
 * Identity: an object is its file's sha256 plus its globals. Loading the same bytes with the same
 * globals again answers the object already loaded; other globals make another object. The id is
 * readable and stable: `<file name>-<12 hex of sha256(file sha256, globals)>`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { NA_ERR_LOADER_INVALID_REQUEST, NA_ERR_LOADER_OBJECT_NOT_FOUND, NA_ERR_LOADER_PATH_OUTSIDE } from './errors.js';

export interface ObjectSource {
  /** The path after symlinks, inside the object directory. */
  readonly path: string;
  readonly bytes: Buffer;
  /** sha256 of the bytes, lower-case hex. */
  readonly sha256: string;
  /** The file name without `.bpf.o` / `.o`, reduced to [A-Za-z0-9_-]. */
  readonly name: string;
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Resolves `requested` inside `objectDir` and reads it; PERMISSION_DENIED outside, NOT_FOUND when missing. */
export function readObject(objectDir: string, requested: string): ObjectSource {
  if (typeof requested !== 'string' || requested.trim() === '' || requested.includes('\0')) {
    throw NA_ERR_LOADER_INVALID_REQUEST(`path: expected the path of an object file in ${objectDir}, got ${JSON.stringify(requested)}`);
  }
  let dir: string;
  try {
    dir = realpathSync(objectDir);
  } catch {
    throw NA_ERR_LOADER_OBJECT_NOT_FOUND.with({ details: { objectDir } }, `the object directory ${objectDir} does not exist`);
  }
  const wanted = isAbsolute(requested) ? resolve(requested) : resolve(dir, requested);
  // A path that is outside as written is refused before anything about it is revealed.
  if (!inside(dir, wanted) && !inside(resolve(objectDir), wanted)) throw NA_ERR_LOADER_PATH_OUTSIDE(requested, wanted, dir);
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    throw NA_ERR_LOADER_OBJECT_NOT_FOUND.with({ details: { path: requested, objectDir: dir } }, `no object file ${requested} in ${dir}`);
  }
  if (!inside(dir, real)) throw NA_ERR_LOADER_PATH_OUTSIDE(requested, real, dir);
  if (!statSync(real).isFile()) throw NA_ERR_LOADER_INVALID_REQUEST(`path: ${requested} is not a file`);
  const bytes = readFileSync(real);
  return { path: real, bytes, sha256: sha256Hex(bytes), name: objectName(real) };
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `selftest.bpf.o` → `selftest`; odd characters become `_`; at most 32 characters. */
export function objectName(path: string): string {
  const base = basename(path).replace(/(\.bpf)?\.o$/, '');
  const clean = base.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32);
  return clean === '' ? 'object' : clean;
}

/** Canonical globals: sorted by name, values as lower-case hex. */
export function canonicalGlobals(globals: Readonly<Record<string, Uint8Array>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(globals).sort()) out[name] = Buffer.from(globals[name]!).toString('hex');
  return out;
}

/** Canonical map sizes: sorted by map name. */
export function canonicalMapSizes(sizes: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(sizes).sort()) out[name] = sizes[name]!;
  return out;
}

/** The object id for a file hash, its globals and map sizes: same inputs, same id, across restarts. */
export function objectId(name: string, sha256: string, globals: Readonly<Record<string, string>>, mapSizes: Readonly<Record<string, number>> = {}): string {
  const lines = [sha256, ...Object.keys(globals).sort().map((k) => `${k}=${globals[k]}`), ...Object.keys(mapSizes).sort().map((k) => `map ${k}=${mapSizes[k]}`)];
  return `${name}-${sha256Hex(lines.join('\n')).slice(0, 12)}`;
}
