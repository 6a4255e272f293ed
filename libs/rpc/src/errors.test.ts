import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkRegistry, undocumentedCodes } from '@netaccel/errors';
import { rpcErrors } from './errors.js';
import * as index from './index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('the registry is consistent and every code is documented in the README', () => {
  assert.deepEqual(checkRegistry(rpcErrors), []);
  assert.deepEqual(undocumentedCodes(rpcErrors, readme), []);
  assert.ok(Object.keys(rpcErrors).length >= 15);
});

test('every code is exported from the package', () => {
  for (const code of Object.keys(rpcErrors)) assert.equal((index as Record<string, unknown>)[code], rpcErrors[code as keyof typeof rpcErrors], code);
});
