import { test } from 'vitest';
import assert from 'node:assert/strict';
import { BPF_ERRORS } from '@netaccel/bpf';
import { registryTests } from '@netaccel/errors/testing';
import { LOADER_ERRORS } from './errors.js';

registryTests(LOADER_ERRORS, new URL('../README.md', import.meta.url), { area: 'LOADER', uniqueWith: [BPF_ERRORS] });

test('kinds follow the Loader contract (occupied hook ALREADY_EXISTS, outside PERMISSION_DENIED, verifier FAILED_PRECONDITION)', () => {
  assert.equal(LOADER_ERRORS.NA_ERR_LOADER_HOOK_TAKEN.kind, 'already-exists');
  assert.equal(LOADER_ERRORS.NA_ERR_LOADER_PATH_OUTSIDE.kind, 'permission-denied');
  assert.equal(LOADER_ERRORS.NA_ERR_LOADER_VERIFIER.kind, 'failed-precondition');
  assert.equal(LOADER_ERRORS.NA_ERR_LOADER_SHA256_MISMATCH.kind, 'failed-precondition');
  assert.equal(LOADER_ERRORS.NA_ERR_LOADER_HOOK_TAKEN('interface eth0 (XDP)', 'program a/b (kernel id 7)').message,
    'interface eth0 (XDP) is taken by program a/b (kernel id 7): detach it first or attach with replace');
});
