/**
 * The error registry of craq-scheduler (`NA_ERR_CRAQD_*`; the client owns `NA_ERR_CRAQCLIENT_*`,
 * the wire codec `NA_ERR_CRAQWIRE_*`). Every code is documented in README.md; errors.test.ts
 * checks it.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

// Configuration and start
export const NA_ERR_CRAQD_CONFIG_INVALID = defineError('NA_ERR_CRAQD_CONFIG_INVALID', '%s', 'invalid-argument');
export const NA_ERR_CRAQD_DATAPLANE_UNAVAILABLE = defineError('NA_ERR_CRAQD_DATAPLANE_UNAVAILABLE', 'dataPlane.via %s: %s', 'failed-precondition');

// Placement
export const NA_ERR_CRAQD_VALUE_TOO_LARGE = defineError('NA_ERR_CRAQD_VALUE_TOO_LARGE', 'key %s: value of %d bytes is over the chain limit of %d bytes', 'failed-precondition');
export const NA_ERR_CRAQD_OVER_BUDGET = defineError('NA_ERR_CRAQD_OVER_BUDGET', 'key %s: %d bytes do not fit the %d bytes left of the budget (or the %d-key limit)', 'failed-precondition');
export const NA_ERR_CRAQD_DRAIN_TIMEOUT = defineError('NA_ERR_CRAQD_DRAIN_TIMEOUT', 'key %s: %d dirty versions still at the head after %d ms', 'unavailable');
export const NA_ERR_CRAQD_ETCD_FAILED = defineError('NA_ERR_CRAQD_ETCD_FAILED', 'etcd %s of %s failed: %s', 'unavailable');
export const NA_ERR_CRAQD_CHAIN_EMPTY = defineError('NA_ERR_CRAQD_CHAIN_EMPTY', 'no live chain node: %s', 'unavailable');
export const NA_ERR_CRAQD_MEMBERSHIP_INVALID = defineError('NA_ERR_CRAQD_MEMBERSHIP_INVALID', 'the chain configuration stored under %s: %s', 'internal');
export const NA_ERR_CRAQD_NOT_ACTIVE = defineError('NA_ERR_CRAQD_NOT_ACTIVE', 'key %s: this scheduler is not the active one any more (its lease ran out): the step goes no further', 'unavailable');

// Heat sources
export const NA_ERR_CRAQD_HEAT_SOURCE = defineError('NA_ERR_CRAQD_HEAT_SOURCE', 'heat source %s: %s', 'unavailable');

// The Craq API
export const NA_ERR_CRAQD_INVALID_KEY = defineError('NA_ERR_CRAQD_INVALID_KEY', '%s', 'invalid-argument');
export const NA_ERR_CRAQD_INVALID_REQUEST = defineError('NA_ERR_CRAQD_INVALID_REQUEST', '%s', 'invalid-argument');
export const NA_ERR_CRAQD_KEY_NOT_FOUND = defineError('NA_ERR_CRAQD_KEY_NOT_FOUND', 'key %s is neither placed nor ranked', 'not-found');
export const NA_ERR_CRAQD_NOT_PINNED = defineError('NA_ERR_CRAQD_NOT_PINNED', 'key %s is not pinned', 'not-found');

/** Every code of craq-scheduler. */
export const craqdErrors = {
  NA_ERR_CRAQD_CONFIG_INVALID,
  NA_ERR_CRAQD_DATAPLANE_UNAVAILABLE,
  NA_ERR_CRAQD_VALUE_TOO_LARGE,
  NA_ERR_CRAQD_OVER_BUDGET,
  NA_ERR_CRAQD_DRAIN_TIMEOUT,
  NA_ERR_CRAQD_ETCD_FAILED,
  NA_ERR_CRAQD_CHAIN_EMPTY,
  NA_ERR_CRAQD_MEMBERSHIP_INVALID,
  NA_ERR_CRAQD_NOT_ACTIVE,
  NA_ERR_CRAQD_HEAT_SOURCE,
  NA_ERR_CRAQD_INVALID_KEY,
  NA_ERR_CRAQD_INVALID_REQUEST,
  NA_ERR_CRAQD_KEY_NOT_FOUND,
  NA_ERR_CRAQD_NOT_PINNED,
} as const satisfies ErrorRegistry;
