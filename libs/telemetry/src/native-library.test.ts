/**
 * Unit: lazyLibrary binds a C library's functions by prototype on first use (libc here): the
 * calls work, errno is the last failure's, and a function the library lacks fails on first use,
 * not when the binding is declared.
 */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { lazyLibrary } from './native-library.js';

interface Calls {
  getpid(): number;
  close(fd: number): number;
}

test('binds on first use: getpid is this process, close(-1) fails with EBADF', () => {
  const libc = lazyLibrary<Calls>('libc.so.6', { getpid: 'int getpid(void)', close: 'int close(int)' });
  const fns = libc.fns();
  assert.equal(fns.getpid(), process.pid);
  assert.equal(libc.fns(), fns, 'bound once');
  assert.equal(fns.close(-1), -1);
  assert.equal(libc.errno(), 9);
});

test('a function the library lacks fails when first asked for, not when declared', () => {
  const lib = lazyLibrary<{ qdx_absent(): number }>('libc.so.6', { qdx_absent: 'int qdx_absent(void)' });
  assert.throws(() => lib.fns(), /qdx_absent/);
});
