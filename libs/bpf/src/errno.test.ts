import { test } from 'vitest';
import assert from 'node:assert/strict';
import { ERRNO, describeErrno, errnoKind, errnoMessage, errnoName, errnoNumber, normalizeErrno } from './errno.js';

test('libbpf returns -errno; both signs name the same errno', () => {
  assert.equal(normalizeErrno(-13), 13);
  assert.equal(normalizeErrno(13), 13);
  assert.equal(errnoName(-13), 'EACCES');
  assert.equal(errnoName(2), 'ENOENT');
  assert.equal(errnoNumber('EBUSY'), 16);
  assert.equal(errnoNumber('ENOPE'), undefined);
});

test('messages are glibc strerror texts, libbpf codes included; unknown numbers say so', () => {
  assert.equal(errnoMessage(-1), 'Operation not permitted');
  assert.equal(describeErrno(-22), 'Invalid argument (EINVAL)');
  assert.equal(describeErrno(4007), 'Kernel verifier blocks program loading (LIBBPF_ERRNO__VERIFY)');
  assert.equal(describeErrno(524), 'Operation is not supported (ENOTSUPP)');
  assert.equal(errnoName(9999), 'errno 9999');
  assert.equal(describeErrno(-9999), 'Unknown error 9999');
});

test('each errno maps to the kind a caller can act on', () => {
  const cases: [number, string][] = [
    [ERRNO.EPERM, 'permission-denied'],
    [ERRNO.EACCES, 'permission-denied'],
    [ERRNO.ENOENT, 'not-found'],
    [ERRNO.ENODEV, 'not-found'],
    [ERRNO.EEXIST, 'already-exists'],
    [ERRNO.EBUSY, 'failed-precondition'],
    [ERRNO.EINVAL, 'invalid-argument'],
    [ERRNO.E2BIG, 'resource-exhausted'],
    [ERRNO.ENOSPC, 'resource-exhausted'],
    [ERRNO.EAGAIN, 'unavailable'],
    [ERRNO.EOPNOTSUPP, 'failed-precondition'],
    [110, 'deadline-exceeded'],
    [9999, 'internal'],
  ];
  for (const [errno, kind] of cases) assert.equal(errnoKind(-errno), kind, `${errnoName(errno)} -> ${kind}`);
});

test('the ERRNO constants agree with the table', () => {
  for (const [name, n] of Object.entries(ERRNO)) assert.equal(errnoName(n), name);
});
