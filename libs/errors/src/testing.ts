/**
 * `@netaccel/errors/testing`: the tests every package declares for its error registry, in one
 * call from its `src/errors.test.ts`:
 *
 *   registryTests(bgpdErrors, new URL('../README.md', import.meta.url), { area: 'BGPD' });
 *
 * This entry imports vitest and is for tests only; the package's main entry does not, so nothing
 * that runs in production loads vitest. Error codes unique across packages are checked once, by
 * `scripts/error-codes.test.ts`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'vitest';
import { checkRegistry, undocumentedCodes } from './errors.js';
import type { ErrorRegistry } from './errors.js';

export interface RegistryTestOptions {
  /** The package's area, `NA_ERR_<AREA>_<PROBLEM>`: every code uses it. */
  readonly area: string;
  /** Registries of other packages whose codes this one must not repeat (checkRegistry's). */
  readonly uniqueWith?: readonly ErrorRegistry[];
  /** The registry has at least this many codes (a guard against an emptied registry). */
  readonly atLeast?: number;
  /** The registry has exactly this many codes. */
  readonly codes?: number;
}

/** Problems with the codes themselves: not `NA_ERR_<area>_…`, an empty registry, a wrong count. */
export function areaProblems(registry: ErrorRegistry, options: RegistryTestOptions): string[] {
  const prefix = `NA_ERR_${options.area}_`;
  const codes = Object.keys(registry);
  const problems = codes.filter((code) => !new RegExp(`^${prefix}[A-Z0-9_]+$`).test(code)).map((code) => `${code}: not ${prefix}<PROBLEM>`);
  if (codes.length === 0) problems.push('the registry is empty');
  if (options.atLeast !== undefined && codes.length < options.atLeast) problems.push(`${codes.length} codes, expected at least ${options.atLeast}`);
  if (options.codes !== undefined && codes.length !== options.codes) problems.push(`${codes.length} codes, expected ${options.codes}`);
  return problems;
}

/** Codes of the area a README mentions that the registry does not define. */
export function phantomCodes(registry: ErrorRegistry, documentation: string, area: string): string[] {
  const documented = new Set(documentation.match(new RegExp(`\\bNA_ERR_${area}_[A-Z0-9_]+`, 'g')) ?? []);
  return [...documented].filter((code) => !(code in registry));
}

/**
 * Declares, in a `describe` named after the area, the tests of one error registry: every key is
 * its code and no code is defined twice (also across `uniqueWith`), every code uses the area,
 * every code is documented in the README at `readme` (a `file:` URL or path), and the README
 * documents no code of the area that does not exist.
 */
export function registryTests(registry: ErrorRegistry, readme: URL | string, options: RegistryTestOptions): void {
  const { area } = options;
  const prefix = `NA_ERR_${area}_`;
  const readText = (): string => readFileSync(readme, 'utf8');
  describe(`${prefix}* error registry`, () => {
    test('every key is its code and no code is defined twice', () => {
      assert.deepEqual(checkRegistry(registry, ...(options.uniqueWith ?? [])), []);
    });

    test(`every code is ${prefix}<PROBLEM>`, () => {
      assert.deepEqual(areaProblems(registry, options), []);
    });

    test('every code is documented in the README', () => {
      assert.deepEqual(undocumentedCodes(registry, readText()), []);
    });

    test('the README documents no code of the area that does not exist', () => {
      assert.deepEqual(phantomCodes(registry, readText(), area), []);
    });
  });
}
