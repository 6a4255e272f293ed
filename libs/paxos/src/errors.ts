/**
 * Error registry of @netaccel/paxos (`NA_ERR_PAXOS_*`). Bad bytes from the network are never
 * thrown: the replica counts and drops them (the codec's NA_ERR_PAXOSWIRE_* code is the counter's
 * label). These are the errors of local input and of the client API.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

export const NA_ERR_PAXOS_INVALID_OPTIONS = defineError('NA_ERR_PAXOS_INVALID_OPTIONS', '%s: %s', 'invalid-argument');
export const NA_ERR_PAXOS_OP_TOO_LARGE = defineError('NA_ERR_PAXOS_OP_TOO_LARGE', '%s: %d bytes exceed the largest operation, %d (one message per packet)', 'invalid-argument');
export const NA_ERR_PAXOS_TIMEOUT = defineError('NA_ERR_PAXOS_TIMEOUT', 'request %s of client %s: no reply within %d ms; it may or may not have been executed', 'deadline-exceeded');
export const NA_ERR_PAXOS_REJECTED = defineError('NA_ERR_PAXOS_REJECTED', 'request %s of client %s: the state machine refused it: %s', 'failed-precondition');
export const NA_ERR_PAXOS_SESSION_EXPIRED = defineError(
  'NA_ERR_PAXOS_SESSION_EXPIRED',
  'request %s of session %s: the group has no row for the session (evicted: no request executed for clientRetainOps ops, or maxClients newer clients); not executed now, but an earlier send of it may have been (outcome unknown); the client registers a new session for its next request',
  'aborted',
);
export const NA_ERR_PAXOS_CLOSED = defineError('NA_ERR_PAXOS_CLOSED', '%s is closed', 'unavailable');
export const NA_ERR_PAXOS_BAD_KV_OP = defineError('NA_ERR_PAXOS_BAD_KV_OP', '%s: %s', 'invalid-argument');
export const NA_ERR_PAXOS_BAD_CONFIG_OP = defineError('NA_ERR_PAXOS_BAD_CONFIG_OP', '%s: %s', 'invalid-argument');
export const NA_ERR_PAXOS_BAD_CHECKPOINT = defineError('NA_ERR_PAXOS_BAD_CHECKPOINT', '%s: %s', 'invalid-argument');
export const NA_ERR_PAXOS_BAD_REGISTRATION = defineError('NA_ERR_PAXOS_BAD_REGISTRATION', 'session registration (request %s): the group answered %s, not a session id (8 bytes, top bit set); no session registered', 'internal');
export const NA_ERR_PAXOS_CONFIG_CONFLICT = defineError('NA_ERR_PAXOS_CONFIG_CONFLICT', 'config %s: still changed by others after %d attempts; the last version seen is %d', 'aborted');

export const paxosErrors = {
  NA_ERR_PAXOS_INVALID_OPTIONS,
  NA_ERR_PAXOS_OP_TOO_LARGE,
  NA_ERR_PAXOS_TIMEOUT,
  NA_ERR_PAXOS_REJECTED,
  NA_ERR_PAXOS_SESSION_EXPIRED,
  NA_ERR_PAXOS_CLOSED,
  NA_ERR_PAXOS_BAD_KV_OP,
  NA_ERR_PAXOS_BAD_CONFIG_OP,
  NA_ERR_PAXOS_CONFIG_CONFLICT,
  NA_ERR_PAXOS_BAD_CHECKPOINT,
  NA_ERR_PAXOS_BAD_REGISTRATION,
} as const satisfies ErrorRegistry;
