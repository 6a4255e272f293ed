import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkRegistry, undocumentedCodes } from '@netaccel/errors';
import { NA_ERR_PACKET_TRUNCATED, packetErrors } from './errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('packet error registry: keys match codes, codes are unique and NA_ERR_PACKET_*', () => {
  assert.deepEqual(checkRegistry(packetErrors), []);
  for (const code of Object.keys(packetErrors)) assert.match(code, /^NA_ERR_PACKET_[A-Z0-9_]+$/);
  assert.ok(Object.keys(packetErrors).length >= 12);
});

test('every packet error code is documented in the README', () => {
  assert.deepEqual(undocumentedCodes(packetErrors, readme), []);
});

test('the README check would catch a missing code', () => {
  const without = readme.replaceAll('NA_ERR_PACKET_TRUNCATED', 'NA_ERR_PACKET_GONE');
  assert.deepEqual(undocumentedCodes(packetErrors, without), [NA_ERR_PACKET_TRUNCATED.code]);
});
