/**
 * The one source of a daemon's version: the `version` of its package.json, found from the module
 * that asks (`packageVersion(import.meta.url)`), so `src/main.ts` under tsx, `dist/main.js` and an
 * installed tree (whose package.json is installed beside dist, packaging/install.sh) all answer
 * the same without a copy of the number in the code.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '@netaccel/errors';
import { NA_ERR_DAEMON_VERSION } from './errors.js';

/** Folders searched upwards from the module for its package.json. */
const MAX_LEVELS = 8;

/** The name and version of the package that holds `moduleUrl` (a `file:` URL or a path). */
export function packageOf(moduleUrl: string): { readonly name: string; readonly version: string; readonly file: string } {
  const start = moduleUrl.startsWith('file:') ? fileURLToPath(moduleUrl) : moduleUrl;
  let dir = dirname(start);
  for (let i = 0; i < MAX_LEVELS; i++) {
    const file = join(dir, 'package.json');
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      let pkg: { name?: unknown; version?: unknown };
      try {
        pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
      } catch (err) {
        throw NA_ERR_DAEMON_VERSION.with({ cause: err }, start, `${file}: ${errorMessage(err)}`);
      }
      if (typeof pkg.name !== 'string' || typeof pkg.version !== 'string' || pkg.version === '') {
        throw NA_ERR_DAEMON_VERSION(start, `${file} has no name and version`);
      }
      return Object.freeze({ name: pkg.name, version: pkg.version, file });
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw NA_ERR_DAEMON_VERSION(start, 'no package.json above it');
}

/** The version of the package that holds `moduleUrl`: `packageVersion(import.meta.url)`. */
export function packageVersion(moduleUrl: string): string {
  return packageOf(moduleUrl).version;
}
