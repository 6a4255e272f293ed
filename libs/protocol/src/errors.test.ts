import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { undocumentedCodes } from '@netaccel/errors';
import { registryTests } from '@netaccel/errors/testing';
import { NA_ERR_PACKET_TRUNCATED, packetErrors } from './errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

registryTests(packetErrors, new URL('../README.md', import.meta.url), { area: 'PACKET', atLeast: 12 });

test('the README check would catch a missing code', () => {
  const without = readme.replaceAll('NA_ERR_PACKET_TRUNCATED', 'NA_ERR_PACKET_GONE');
  assert.deepEqual(undocumentedCodes(packetErrors, without), [NA_ERR_PACKET_TRUNCATED.code]);
});
