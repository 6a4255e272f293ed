/**
 * Error codes are unique across packages. Each package's `src/errors.test.ts` checks its own
 * registry (`registryTests` from `@netaccel/errors/testing`); this test loads every package's
 * registry at once and fails on a code that two packages define, which no single package sees.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SKIP = new Set(['node_modules', 'dist', 'build', 'generated', 'testing', 'fixtures']);
/** The errors library itself: it defines the mechanism, not codes. */
const MECHANISM = 'libs/errors/src/errors.ts';

/** Every `errors.ts` under libs/<name>/src and apps/<name>/src (the BGP codecs' is src/bgp/errors.ts). */
function registryFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (!SKIP.has(e.name)) walk(join(dir, e.name));
      } else if (e.name === 'errors.ts') {
        out.push(relative(ROOT, join(dir, e.name)));
      }
    }
  };
  for (const top of ['libs', 'apps']) {
    for (const pkg of readdirSync(join(ROOT, top), { withFileTypes: true })) {
      const src = join(ROOT, top, pkg.name, 'src');
      if (pkg.isDirectory() && existsSync(src)) walk(src);
    }
  }
  return out.filter((f) => f !== MECHANISM).sort();
}

interface Factory {
  readonly code: string;
  readonly kind: string;
  readonly is: unknown;
}

const isFactory = (v: unknown): v is Factory =>
  typeof v === 'function' && typeof (v as Partial<Factory>).code === 'string' && typeof (v as Partial<Factory>).is === 'function';

/** The codes of every registry (an object whose values are all error factories) a module exports. */
async function registryCodes(file: string): Promise<Set<string>> {
  const mod = (await import(pathToFileURL(join(ROOT, file)).href)) as Record<string, unknown>;
  const codes = new Set<string>();
  for (const value of Object.values(mod)) {
    if (value === null || typeof value !== 'object') continue;
    const entries = Object.values(value);
    if (entries.length > 0 && entries.every(isFactory)) for (const f of entries) codes.add(f.code);
  }
  return codes;
}

const FILES = registryFiles();

test('the registries are found: one errors.ts per package that has errors, each beside its errors.test.ts', () => {
  assert.ok(FILES.length >= 12, `found only ${FILES.join(', ')}`);
  for (const f of ['libs/protocol/src/errors.ts', 'libs/protocol/src/bgp/errors.ts', 'apps/cli/src/errors.ts']) assert.ok(FILES.includes(f), f);
  for (const f of FILES) assert.ok(existsSync(join(ROOT, f.replace(/\.ts$/, '.test.ts'))), `${f} has no errors.test.ts beside it`);
});

test('no error code is defined twice, in one package or across packages', () => {
  const definedIn = new Map<string, string[]>();
  for (const f of FILES) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    const literal = [...text.matchAll(/\bdefineError\(\s*'(NA_ERR_[A-Z0-9_]+)'/g)].map((m) => m[1]!);
    const calls = text.match(/\bdefineError\(/g)?.length ?? 0;
    assert.equal(literal.length, calls, `${f}: every defineError names its code as a string literal, so that it can be checked`);
    for (const code of literal) definedIn.set(code, [...(definedIn.get(code) ?? []), f]);
  }
  const twice = [...definedIn].filter(([, files]) => files.length > 1).map(([code, files]) => `${code}: defined in ${files.join(', ')}`);
  assert.deepEqual(twice, []);
});

test("every package's registry holds the codes its module defines, and no code is in two packages' registries", async () => {
  const registeredIn = new Map<string, string[]>();
  for (const f of FILES) {
    const codes = await registryCodes(f);
    assert.ok(codes.size > 0, `${f} exports no registry`);
    const defined = [...readFileSync(join(ROOT, f), 'utf8').matchAll(/\bdefineError\(\s*'(NA_ERR_[A-Z0-9_]+)'/g)].map((m) => m[1]!);
    assert.deepEqual(defined.filter((c) => !codes.has(c)), [], `${f}: codes defined but in no registry`);
    for (const code of codes) registeredIn.set(code, [...(registeredIn.get(code) ?? []), f]);
  }
  const shared = [...registeredIn].filter(([, files]) => files.length > 1).map(([code, files]) => `${code}: in the registries of ${files.join(', ')}`);
  assert.deepEqual(shared, []);
});
