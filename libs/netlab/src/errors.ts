/**
 * Error registry of @netaccel/netlab. Every code is documented in the package README (a test
 * checks it). Messages name what to read next: the field path of a bad spec, the log file of a
 * process that did not become ready, the failing `ip` command.
 */
import { defineError } from '@netaccel/errors';

/** A topology spec is malformed; the message starts with the field path (`links[2].aAddr[0]: …`). */
export const NA_ERR_NETLAB_SPEC_INVALID = defineError('NA_ERR_NETLAB_SPEC_INVALID', '%s', 'invalid-argument');

/** Lab options (or the options of one call) are malformed; the message starts with the option name. */
export const NA_ERR_NETLAB_OPTIONS_INVALID = defineError('NA_ERR_NETLAB_OPTIONS_INVALID', '%s', 'invalid-argument');

export const NA_ERR_NETLAB_NOT_ROOT = defineError(
  'NA_ERR_NETLAB_NOT_ROOT',
  'netlab builds network namespaces and needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN); running as uid %d',
  'permission-denied',
);

export const NA_ERR_NETLAB_BAD_STATE = defineError(
  'NA_ERR_NETLAB_BAD_STATE',
  'lab %s is %s; %s needs it to be %s',
  'failed-precondition',
);

export const NA_ERR_NETLAB_UNKNOWN_NODE = defineError(
  'NA_ERR_NETLAB_UNKNOWN_NODE',
  'lab %s has no node %j (nodes: %s)',
  'not-found',
);

export const NA_ERR_NETLAB_UNKNOWN_IFACE = defineError(
  'NA_ERR_NETLAB_UNKNOWN_IFACE',
  'node %s has no interface %j (interfaces: %s)',
  'not-found',
);

export const NA_ERR_NETLAB_NO_ADDR = defineError(
  'NA_ERR_NETLAB_NO_ADDR',
  'interface %s:%s has no %s address in the spec',
  'not-found',
);

export const NA_ERR_NETLAB_IP_FAILED = defineError('NA_ERR_NETLAB_IP_FAILED', '%s failed: %s', 'internal');

export const NA_ERR_NETLAB_UP_FAILED = defineError(
  'NA_ERR_NETLAB_UP_FAILED',
  'bringing up lab %s (run %s) failed and was rolled back: %s',
  'internal',
);

export const NA_ERR_NETLAB_DOWN_FAILED = defineError(
  'NA_ERR_NETLAB_DOWN_FAILED',
  'tearing down lab %s (run %s) left namespaces behind: %s',
  'internal',
);

export const NA_ERR_NETLAB_REGISTRY_FAILED = defineError(
  'NA_ERR_NETLAB_REGISTRY_FAILED',
  'cannot record run %s in %s: %s',
  'internal',
);

export const NA_ERR_NETLAB_SPAWN_FAILED = defineError('NA_ERR_NETLAB_SPAWN_FAILED', 'cannot start %j: %s', 'internal');

export const NA_ERR_NETLAB_EXEC_FAILED = defineError(
  'NA_ERR_NETLAB_EXEC_FAILED',
  'command %j in node %s exited with %s; stderr: %s',
  'internal',
);

export const NA_ERR_NETLAB_EXEC_TIMEOUT = defineError(
  'NA_ERR_NETLAB_EXEC_TIMEOUT',
  'command %j in node %s did not finish within %d ms and was killed',
  'deadline-exceeded',
);

export const NA_ERR_NETLAB_PROC_NAME_TAKEN = defineError(
  'NA_ERR_NETLAB_PROC_NAME_TAKEN',
  'lab %s already runs a process named %j; give spawn() another name',
  'already-exists',
);

export const NA_ERR_NETLAB_READY_TIMEOUT = defineError(
  'NA_ERR_NETLAB_READY_TIMEOUT',
  'process %s in node %s was not ready (%s) within %d ms and was stopped; log %s; last lines:\n%s',
  'deadline-exceeded',
);

export const NA_ERR_NETLAB_PROC_EXITED = defineError(
  'NA_ERR_NETLAB_PROC_EXITED',
  'process %s in node %s exited (%s) before it was ready (%s); log %s; last lines:\n%s',
  'unavailable',
);

export const NA_ERR_NETLAB_WAIT_TIMEOUT = defineError(
  'NA_ERR_NETLAB_WAIT_TIMEOUT',
  'timed out after %d ms waiting for %s%s',
  'deadline-exceeded',
);

/** The whole registry, for `checkRegistry` and the README check. */
export const netlabErrors = {
  NA_ERR_NETLAB_SPEC_INVALID,
  NA_ERR_NETLAB_OPTIONS_INVALID,
  NA_ERR_NETLAB_NOT_ROOT,
  NA_ERR_NETLAB_BAD_STATE,
  NA_ERR_NETLAB_UNKNOWN_NODE,
  NA_ERR_NETLAB_UNKNOWN_IFACE,
  NA_ERR_NETLAB_NO_ADDR,
  NA_ERR_NETLAB_IP_FAILED,
  NA_ERR_NETLAB_UP_FAILED,
  NA_ERR_NETLAB_DOWN_FAILED,
  NA_ERR_NETLAB_REGISTRY_FAILED,
  NA_ERR_NETLAB_SPAWN_FAILED,
  NA_ERR_NETLAB_EXEC_FAILED,
  NA_ERR_NETLAB_EXEC_TIMEOUT,
  NA_ERR_NETLAB_PROC_NAME_TAKEN,
  NA_ERR_NETLAB_READY_TIMEOUT,
  NA_ERR_NETLAB_PROC_EXITED,
  NA_ERR_NETLAB_WAIT_TIMEOUT,
} as const;
