import { test } from 'vitest';
import assert from 'node:assert/strict';
import { registryTests } from '@netaccel/errors/testing';
import { rpcErrors } from './errors.js';
import * as index from './index.js';

registryTests(rpcErrors, new URL('../README.md', import.meta.url), { area: 'RPC', atLeast: 15 });

test('every code is exported from the package', () => {
  for (const code of Object.keys(rpcErrors)) assert.equal((index as Record<string, unknown>)[code], rpcErrors[code as keyof typeof rpcErrors], code);
});
