/**
 * Linux errno values as libbpf 1.x returns them (strict mode: a negative errno from int-returning
 * calls, NULL plus errno from pointer-returning ones), with names, glibc's messages and the
 * netaccel error kind each one means. Includes the kernel-internal ENOTSUPP (524) that leaks out
 * of some bpf() commands and libbpf's own codes (LIBBPF_ERRNO__*, 4000..4013).
 */
import type { ErrorKind } from '@netaccel/errors';

interface ErrnoInfo {
  readonly name: string;
  readonly message: string;
  readonly kind: ErrorKind;
}

const TABLE: ReadonlyArray<readonly [number, string, string, ErrorKind]> = [
  [1, 'EPERM', 'Operation not permitted', 'permission-denied'],
  [2, 'ENOENT', 'No such file or directory', 'not-found'],
  [3, 'ESRCH', 'No such process', 'not-found'],
  [4, 'EINTR', 'Interrupted system call', 'unavailable'],
  [5, 'EIO', 'Input/output error', 'internal'],
  [6, 'ENXIO', 'No such device or address', 'not-found'],
  [7, 'E2BIG', 'Argument list too long', 'resource-exhausted'],
  [8, 'ENOEXEC', 'Exec format error', 'invalid-argument'],
  [9, 'EBADF', 'Bad file descriptor', 'invalid-argument'],
  [11, 'EAGAIN', 'Resource temporarily unavailable', 'unavailable'],
  [12, 'ENOMEM', 'Cannot allocate memory', 'resource-exhausted'],
  [13, 'EACCES', 'Permission denied', 'permission-denied'],
  [14, 'EFAULT', 'Bad address', 'internal'],
  [16, 'EBUSY', 'Device or resource busy', 'failed-precondition'],
  [17, 'EEXIST', 'File exists', 'already-exists'],
  [18, 'EXDEV', 'Invalid cross-device link', 'invalid-argument'],
  [19, 'ENODEV', 'No such device', 'not-found'],
  [20, 'ENOTDIR', 'Not a directory', 'invalid-argument'],
  [21, 'EISDIR', 'Is a directory', 'invalid-argument'],
  [22, 'EINVAL', 'Invalid argument', 'invalid-argument'],
  [23, 'ENFILE', 'Too many open files in system', 'resource-exhausted'],
  [24, 'EMFILE', 'Too many open files', 'resource-exhausted'],
  [28, 'ENOSPC', 'No space left on device', 'resource-exhausted'],
  [34, 'ERANGE', 'Numerical result out of range', 'invalid-argument'],
  [36, 'ENAMETOOLONG', 'File name too long', 'invalid-argument'],
  [38, 'ENOSYS', 'Function not implemented', 'failed-precondition'],
  [40, 'ELOOP', 'Too many levels of symbolic links', 'invalid-argument'],
  [61, 'ENODATA', 'No data available', 'not-found'],
  [67, 'ENOLINK', 'Link has been severed', 'failed-precondition'],
  [71, 'EPROTO', 'Protocol error', 'internal'],
  [75, 'EOVERFLOW', 'Value too large for defined data type', 'invalid-argument'],
  [95, 'EOPNOTSUPP', 'Operation not supported', 'failed-precondition'],
  [105, 'ENOBUFS', 'No buffer space available', 'resource-exhausted'],
  [110, 'ETIMEDOUT', 'Connection timed out', 'deadline-exceeded'],
  [114, 'EALREADY', 'Operation already in progress', 'failed-precondition'],
  [125, 'ECANCELED', 'Operation canceled', 'aborted'],
  [524, 'ENOTSUPP', 'Operation is not supported', 'failed-precondition'],
  [4000, 'LIBBPF_ERRNO__LIBELF', 'Something wrong in libelf', 'internal'],
  [4001, 'LIBBPF_ERRNO__FORMAT', 'BPF object format invalid', 'invalid-argument'],
  [4002, 'LIBBPF_ERRNO__KVERSION', "'version' section incorrect or lost", 'invalid-argument'],
  [4003, 'LIBBPF_ERRNO__ENDIAN', 'Endian mismatch', 'invalid-argument'],
  [4004, 'LIBBPF_ERRNO__INTERNAL', 'Internal error in libbpf', 'internal'],
  [4005, 'LIBBPF_ERRNO__RELOC', 'Relocation failed', 'invalid-argument'],
  [4006, 'LIBBPF_ERRNO__LOAD', 'Load BPF object failed', 'failed-precondition'],
  [4007, 'LIBBPF_ERRNO__VERIFY', 'Kernel verifier blocks program loading', 'invalid-argument'],
  [4008, 'LIBBPF_ERRNO__PROG2BIG', 'Program too big', 'invalid-argument'],
  [4009, 'LIBBPF_ERRNO__KVER', 'Incorrect kernel version', 'failed-precondition'],
  [4010, 'LIBBPF_ERRNO__PROGTYPE', 'Kernel does not support this program type', 'failed-precondition'],
  [4011, 'LIBBPF_ERRNO__WRNGPID', 'Wrong pid in netlink message', 'internal'],
  [4012, 'LIBBPF_ERRNO__INVSEQ', 'Invalid netlink sequence', 'internal'],
  [4013, 'LIBBPF_ERRNO__NLPARSE', 'Error parsing netlink message', 'internal'],
];

const BY_NUMBER = new Map<number, ErrnoInfo>(TABLE.map(([n, name, message, kind]) => [n, { name, message, kind }]));
const BY_NAME = new Map<string, number>(TABLE.map(([n, name]) => [name, n]));

/** The errno numbers this module names, for callers that compare (`errno === ERRNO.ENOENT`). */
export const ERRNO = Object.freeze({
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ENOLINK: 67,
  EOPNOTSUPP: 95,
  ENOTSUPP: 524,
} as const);

/** Accepts `-13` (libbpf's return) or `13`; always returns the positive errno. */
export function normalizeErrno(err: number): number {
  return Math.abs(Math.trunc(err));
}

/** `EACCES`, or `errno 999` for numbers this table does not know. */
export function errnoName(err: number): string {
  const n = normalizeErrno(err);
  return BY_NUMBER.get(n)?.name ?? `errno ${n}`;
}

/** The errno for a name (`ENOENT` -> 2), or undefined. */
export function errnoNumber(name: string): number | undefined {
  return BY_NAME.get(name);
}

/** glibc's strerror text (libbpf's for its own codes): `Permission denied`. */
export function errnoMessage(err: number): string {
  const n = normalizeErrno(err);
  return BY_NUMBER.get(n)?.message ?? `Unknown error ${n}`;
}

/** `Permission denied (EACCES)`, the form used in netaccel error messages. */
export function describeErrno(err: number): string {
  const n = normalizeErrno(err);
  const info = BY_NUMBER.get(n);
  return info ? `${info.message} (${info.name})` : `Unknown error ${n}`;
}

/** The error kind an errno means to a caller; unknown numbers are `internal`. */
export function errnoKind(err: number): ErrorKind {
  return BY_NUMBER.get(normalizeErrno(err))?.kind ?? 'internal';
}
