/**
 * Error registry of @netaccel/linearizability: a history that cannot be checked (an operation
 * without a key, a completion before its invocation, an unknown kind). A history that is not
 * linearizable is a result, not an error.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

export const NA_ERR_LIN_INVALID_HISTORY = defineError('NA_ERR_LIN_INVALID_HISTORY', '%s: %s', 'invalid-argument');
export const NA_ERR_LIN_INVALID_OPTIONS = defineError('NA_ERR_LIN_INVALID_OPTIONS', '%s: %s', 'invalid-argument');

export const linearizabilityErrors = {
  NA_ERR_LIN_INVALID_HISTORY,
  NA_ERR_LIN_INVALID_OPTIONS,
} as const satisfies ErrorRegistry;
