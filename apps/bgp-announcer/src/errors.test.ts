import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { checkRegistry, undocumentedCodes } from '@netaccel/errors';
import { bgpdErrors } from './errors.js';

test('every NA_ERR_BGPD code is well formed, unique and documented in the README', () => {
  assert.deepEqual(checkRegistry(bgpdErrors), []);
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.deepEqual(undocumentedCodes(bgpdErrors, readme), []);
  for (const code of Object.keys(bgpdErrors)) assert.match(code, /^NA_ERR_BGPD_/);
});
