/**
 * The error registry of @netaccel/craq, the NetCRAQ client (`NA_ERR_CRAQCLIENT_*`; the wire codec
 * in @netaccel/protocol and the scheduler own theirs). Every code is documented in README.md;
 * errors.test.ts checks it.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

// Options
export const NA_ERR_CRAQCLIENT_OPTIONS_INVALID = defineError('NA_ERR_CRAQCLIENT_OPTIONS_INVALID', '%s: %s', 'invalid-argument');

// Requests over the chain
export const NA_ERR_CRAQCLIENT_TIMEOUT = defineError('NA_ERR_CRAQCLIENT_TIMEOUT', '%s %s: no reply from the chain after %d attempts (%d ms)', 'deadline-exceeded');
export const NA_ERR_CRAQCLIENT_RETRIES_EXHAUSTED = defineError('NA_ERR_CRAQCLIENT_RETRIES_EXHAUSTED', '%s %s: the chain answered %s to each of %d attempts', 'unavailable');
export const NA_ERR_CRAQCLIENT_BAD_REQUEST = defineError('NA_ERR_CRAQCLIENT_BAD_REQUEST', '%s %s: the chain node %s refused the request as malformed', 'invalid-argument');
export const NA_ERR_CRAQCLIENT_VALUE_TOO_LARGE = defineError('NA_ERR_CRAQCLIENT_VALUE_TOO_LARGE', 'put %s: value of %d bytes is over the chain limit of %d bytes and the key is placed', 'invalid-argument');
export const NA_ERR_CRAQCLIENT_CLOSED = defineError('NA_ERR_CRAQCLIENT_CLOSED', 'the CRAQ client is closed', 'failed-precondition');
export const NA_ERR_CRAQCLIENT_OUTCOME_UNKNOWN = defineError('NA_ERR_CRAQCLIENT_OUTCOME_UNKNOWN', '%s %s: outcome unknown: %d attempt(s) to the chain went unanswered and the key then left the chain, so the chain may have applied it; not sent to etcd, where it would be applied a second time (read the key to learn whether it took effect)', 'aborted');
export const NA_ERR_CRAQCLIENT_NO_NODES = defineError('NA_ERR_CRAQCLIENT_NO_NODES', 'key %s is placed but the chain has no %s node', 'unavailable');

// The placement view
export const NA_ERR_CRAQCLIENT_PLACEMENT_UNAVAILABLE = defineError('NA_ERR_CRAQCLIENT_PLACEMENT_UNAVAILABLE', 'cannot refresh the placement from the scheduler: %s', 'unavailable');

/** Every code of @netaccel/craq. */
export const craqClientErrors = {
  NA_ERR_CRAQCLIENT_OPTIONS_INVALID,
  NA_ERR_CRAQCLIENT_TIMEOUT,
  NA_ERR_CRAQCLIENT_RETRIES_EXHAUSTED,
  NA_ERR_CRAQCLIENT_BAD_REQUEST,
  NA_ERR_CRAQCLIENT_VALUE_TOO_LARGE,
  NA_ERR_CRAQCLIENT_CLOSED,
  NA_ERR_CRAQCLIENT_OUTCOME_UNKNOWN,
  NA_ERR_CRAQCLIENT_NO_NODES,
  NA_ERR_CRAQCLIENT_PLACEMENT_UNAVAILABLE,
} as const satisfies ErrorRegistry;
