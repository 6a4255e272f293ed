import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkRegistry, undocumentedCodes } from '@netaccel/errors';
import { BPF_ERRORS } from '@netaccel/bpf';
import { LOADER_ERRORS } from './errors.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('the registry is consistent, unique across @netaccel/bpf too, and every code is documented in README.md', () => {
  assert.deepEqual(checkRegistry(LOADER_ERRORS, BPF_ERRORS), []);
  assert.deepEqual(undocumentedCodes(LOADER_ERRORS, README), []);
});

test('the README documents no NA_ERR_LOADER code that does not exist', () => {
  for (const code of new Set(README.match(/NA_ERR_LOADER_[A-Z0-9_]+/g) ?? [])) assert.ok(code in LOADER_ERRORS, `${code} is documented but not defined`);
});

test('kinds follow the Loader contract (occupied hook ALREADY_EXISTS, outside PERMISSION_DENIED, verifier FAILED_PRECONDITION)', () => {
  assert.equal(LOADER_ERRORS.NA_ERR_LOADER_HOOK_TAKEN.kind, 'already-exists');
  assert.equal(LOADER_ERRORS.NA_ERR_LOADER_PATH_OUTSIDE.kind, 'permission-denied');
  assert.equal(LOADER_ERRORS.NA_ERR_LOADER_VERIFIER.kind, 'failed-precondition');
  assert.equal(LOADER_ERRORS.NA_ERR_LOADER_SHA256_MISMATCH.kind, 'failed-precondition');
  assert.equal(LOADER_ERRORS.NA_ERR_LOADER_HOOK_TAKEN('interface eth0 (XDP)', 'program a/b (kernel id 7)').message,
    'interface eth0 (XDP) is taken by program a/b (kernel id 7): detach it first or attach with replace');
});
