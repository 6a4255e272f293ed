import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkRegistry, undocumentedCodes } from '@netaccel/errors';
import { netlabErrors } from './errors.js';

test('the registry is consistent', () => {
  assert.deepEqual(checkRegistry(netlabErrors), []);
  assert.ok(Object.keys(netlabErrors).every((code) => code.startsWith('NA_ERR_NETLAB_')));
});

test('every code is documented in the README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.deepEqual(undocumentedCodes(netlabErrors, readme), []);
});
