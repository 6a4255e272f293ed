import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkRegistry, undocumentedCodes } from '@netaccel/errors';
import { lbErrors } from './errors.js';

test('every NA_ERR_LB_* code is unique, keyed by its code and documented in the README', () => {
  assert.deepEqual(checkRegistry(lbErrors), []);
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.deepEqual(undocumentedCodes(lbErrors, readme), []);
  for (const code of Object.keys(lbErrors)) assert.match(code, /^NA_ERR_LB_[A-Z0-9_]+$/);
});
