import { test } from 'vitest';
import assert from 'node:assert/strict';
import { registryTests } from '@netaccel/errors/testing';
import { BPF_ERRORS, NA_ERR_BPF_PERM, NA_ERR_BPF_SYSCALL, syscallError } from './errors.js';

registryTests(BPF_ERRORS, new URL('../README.md', import.meta.url), { area: 'BPF', atLeast: 17 });

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
