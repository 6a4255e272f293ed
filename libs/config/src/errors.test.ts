import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { checkRegistry, undocumentedCodes } from '@netaccel/errors';
import { configErrors } from './errors.js';

test('every error code is well formed, unique and documented in the README', async () => {
  assert.deepEqual(checkRegistry(configErrors), []);
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  assert.deepEqual(undocumentedCodes(configErrors, readme), []);
  assert.ok(Object.keys(configErrors).length >= 7);
});
