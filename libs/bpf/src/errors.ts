/**
 * The error registry of @netaccel/bpf (documented in README.md, checked by errors.test.ts), and
 * the one place that turns a failed libbpf call (negative errno) into a typed error.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorFactory, NetaccelError } from '@netaccel/errors';
import { ERRNO, describeErrno, errnoName, normalizeErrno } from './errno.js';

export const NA_ERR_BPF_LIBBPF = defineError('NA_ERR_BPF_LIBBPF', 'libbpf is not usable: %s', 'unavailable');
export const NA_ERR_BPF_INVALID = defineError('NA_ERR_BPF_INVALID', '%s', 'invalid-argument');
export const NA_ERR_BPF_OPEN = defineError('NA_ERR_BPF_OPEN', 'cannot open BPF object %s: %s', 'invalid-argument');
export const NA_ERR_BPF_LOAD = defineError('NA_ERR_BPF_LOAD', 'cannot load BPF object %s: %s', 'failed-precondition');
export const NA_ERR_BPF_VERIFIER = defineError(
  'NA_ERR_BPF_VERIFIER',
  'the verifier rejected program %s of %s: %s',
  'invalid-argument',
);
export const NA_ERR_BPF_NOT_FOUND = defineError('NA_ERR_BPF_NOT_FOUND', '%s not found', 'not-found');
export const NA_ERR_BPF_STATE = defineError('NA_ERR_BPF_STATE', '%s: cannot %s, it is %s', 'failed-precondition');
export const NA_ERR_BPF_KEY_SIZE = defineError(
  'NA_ERR_BPF_KEY_SIZE',
  'map %s: key has %d bytes, expected %d',
  'invalid-argument',
);
export const NA_ERR_BPF_VALUE_SIZE = defineError(
  'NA_ERR_BPF_VALUE_SIZE',
  'map %s: value has %d bytes, expected %d',
  'invalid-argument',
);
export const NA_ERR_BPF_EXISTS = defineError('NA_ERR_BPF_EXISTS', 'map %s: the key exists already', 'already-exists');
export const NA_ERR_BPF_MAP_FULL = defineError('NA_ERR_BPF_MAP_FULL', 'map %s is full (%d entries)', 'resource-exhausted');
export const NA_ERR_BPF_NO_IFACE = defineError('NA_ERR_BPF_NO_IFACE', 'no network interface %s', 'not-found');
export const NA_ERR_BPF_BUSY = defineError(
  'NA_ERR_BPF_BUSY',
  'interface %s already has an XDP program (id %d): detach it or attach with replace',
  'failed-precondition',
);
export const NA_ERR_BPF_HOOK_BUSY = defineError(
  'NA_ERR_BPF_HOOK_BUSY',
  '%s is taken by program id %d: detach it first or replace it',
  'failed-precondition',
);
export const NA_ERR_BPF_PERM = defineError(
  'NA_ERR_BPF_PERM',
  '%s: %s; BPF needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON)',
  'permission-denied',
);
export const NA_ERR_BPF_TEST_RUN = defineError('NA_ERR_BPF_TEST_RUN', 'test run of program %s failed: %s', 'invalid-argument');
export const NA_ERR_BPF_BTF = defineError('NA_ERR_BPF_BTF', 'BTF of %s: %s', 'invalid-argument');
export const NA_ERR_BPF_SYSCALL = defineError('NA_ERR_BPF_SYSCALL', '%s failed: %s', 'internal');

export const BPF_ERRORS = Object.freeze({
  NA_ERR_BPF_LIBBPF,
  NA_ERR_BPF_INVALID,
  NA_ERR_BPF_OPEN,
  NA_ERR_BPF_LOAD,
  NA_ERR_BPF_VERIFIER,
  NA_ERR_BPF_NOT_FOUND,
  NA_ERR_BPF_STATE,
  NA_ERR_BPF_KEY_SIZE,
  NA_ERR_BPF_VALUE_SIZE,
  NA_ERR_BPF_EXISTS,
  NA_ERR_BPF_MAP_FULL,
  NA_ERR_BPF_NO_IFACE,
  NA_ERR_BPF_BUSY,
  NA_ERR_BPF_HOOK_BUSY,
  NA_ERR_BPF_PERM,
  NA_ERR_BPF_TEST_RUN,
  NA_ERR_BPF_BTF,
  NA_ERR_BPF_SYSCALL,
} satisfies Record<string, ErrorFactory>);

/** Details every errno-based error carries: `{ errno: 13, errnoName: 'EACCES', op }`. */
export function errnoDetails(op: string, err: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const n = normalizeErrno(err);
  return { op, errno: n, errnoName: errnoName(n), ...extra };
}

/**
 * The typed error for a failed libbpf call `op` (e.g. `bpf_map_update_elem(verdict_stats)`):
 * EPERM/EACCES become NA_ERR_BPF_PERM, everything else NA_ERR_BPF_SYSCALL (whose kind is internal;
 * the errno is in details). Callers handle the errnos that mean something specific to them
 * (ENOENT for a missing key, EEXIST for BPF_NOEXIST …) before falling back to this.
 */
export function syscallError(op: string, err: number, extra: Record<string, unknown> = {}): NetaccelError {
  const n = normalizeErrno(err);
  const details = errnoDetails(op, n, extra);
  if (n === ERRNO.EPERM || n === ERRNO.EACCES) return NA_ERR_BPF_PERM.with({ details }, op, describeErrno(n));
  return NA_ERR_BPF_SYSCALL.with({ details }, op, describeErrno(n));
}
