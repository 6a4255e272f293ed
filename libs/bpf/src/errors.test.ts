import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkRegistry, undocumentedCodes } from '@netaccel/errors';
import { BPF_ERRORS, NA_ERR_BPF_PERM, NA_ERR_BPF_SYSCALL, syscallError } from './errors.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('the registry is consistent and every code is documented in README.md', () => {
  assert.deepEqual(checkRegistry(BPF_ERRORS), []);
  assert.deepEqual(undocumentedCodes(BPF_ERRORS, README), []);
  assert.ok(Object.keys(BPF_ERRORS).length >= 17);
});

test('the README table lists no code that does not exist', () => {
  const documented = new Set(README.match(/NA_ERR_BPF_[A-Z0-9_]+/g) ?? []);
  for (const code of documented) assert.ok(code in BPF_ERRORS, `${code} is documented but not defined`);
});

test('syscallError: EPERM and EACCES are permission errors, the rest carry the errno', () => {
  const perm = syscallError('bpf_map_create(x)', -1);
  assert.ok(NA_ERR_BPF_PERM.is(perm));
  assert.equal(perm.kind, 'permission-denied');
  assert.match(perm.message, /^bpf_map_create\(x\): Operation not permitted \(EPERM\)/);
  const other = syscallError('bpf_obj_get_info_by_fd(m)', -9, { map: 'm' });
  assert.ok(NA_ERR_BPF_SYSCALL.is(other));
  assert.equal(other.message, 'bpf_obj_get_info_by_fd(m) failed: Bad file descriptor (EBADF)');
  assert.deepEqual(other.details, { op: 'bpf_obj_get_info_by_fd(m)', errno: 9, errnoName: 'EBADF', map: 'm' });
});
