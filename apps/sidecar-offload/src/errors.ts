/**
 * The error registry of sidecar-offload (`NA_ERR_SIDECARD_*`; the kernel path's programs own
 * theirs). Every code is documented in README.md; errors.test.ts checks it.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

// Configuration
export const NA_ERR_SIDECARD_CONFIG_INVALID = defineError('NA_ERR_SIDECARD_CONFIG_INVALID', '%s', 'invalid-argument');

// Listeners and upstreams
export const NA_ERR_SIDECARD_LISTEN_FAILED = defineError('NA_ERR_SIDECARD_LISTEN_FAILED', 'listener %s: cannot listen on %s: %s', 'unavailable');
export const NA_ERR_SIDECARD_UPSTREAM_CONNECT = defineError('NA_ERR_SIDECARD_UPSTREAM_CONNECT', 'cluster %s: cannot connect to %s: %s', 'unavailable');
export const NA_ERR_SIDECARD_NO_HEALTHY_ENDPOINT = defineError('NA_ERR_SIDECARD_NO_HEALTHY_ENDPOINT', 'cluster %s: no healthy endpoint (%d ejected after connection failures)', 'unavailable');

// Calls (the gRPC status the client gets, and the access log's `error`)
export const NA_ERR_SIDECARD_METHOD_DENIED = defineError('NA_ERR_SIDECARD_METHOD_DENIED', 'method %s is denied by the policy of listener %s', 'permission-denied');
export const NA_ERR_SIDECARD_NO_ROUTE = defineError('NA_ERR_SIDECARD_NO_ROUTE', 'listener %s has no route for %s', 'not-found');
export const NA_ERR_SIDECARD_DEADLINE = defineError('NA_ERR_SIDECARD_DEADLINE', 'call %s exceeded its deadline of %d ms at the sidecar', 'deadline-exceeded');
export const NA_ERR_SIDECARD_UPSTREAM_RESET = defineError('NA_ERR_SIDECARD_UPSTREAM_RESET', 'upstream %s closed call %s before its status (%s)', 'unavailable');
export const NA_ERR_SIDECARD_BAD_REQUEST = defineError('NA_ERR_SIDECARD_BAD_REQUEST', 'not a gRPC request: %s', 'invalid-argument');

// etcd key counting
export const NA_ERR_SIDECARD_HEAT_FLUSH = defineError('NA_ERR_SIDECARD_HEAT_FLUSH', 'etcd key counts not written to Redis (%d keys kept for the next flush): %s', 'unavailable');

// The kernel path
export const NA_ERR_SIDECARD_KERNEL_LOAD = defineError('NA_ERR_SIDECARD_KERNEL_LOAD', 'kernel path: cannot load %s or attach it to cgroup %s: %s', 'unavailable');
export const NA_ERR_SIDECARD_SPLICE_FAILED = defineError('NA_ERR_SIDECARD_SPLICE_FAILED', 'kernel path: cannot splice a client connection to upstream %s: %s', 'unavailable');

// The Sidecar API
export const NA_ERR_SIDECARD_LISTENER_NOT_FOUND = defineError('NA_ERR_SIDECARD_LISTENER_NOT_FOUND', 'no listener %s is configured', 'not-found');

/** Every code of sidecar-offload. */
export const sidecardErrors = {
  NA_ERR_SIDECARD_CONFIG_INVALID,
  NA_ERR_SIDECARD_LISTEN_FAILED,
  NA_ERR_SIDECARD_UPSTREAM_CONNECT,
  NA_ERR_SIDECARD_NO_HEALTHY_ENDPOINT,
  NA_ERR_SIDECARD_METHOD_DENIED,
  NA_ERR_SIDECARD_NO_ROUTE,
  NA_ERR_SIDECARD_DEADLINE,
  NA_ERR_SIDECARD_UPSTREAM_RESET,
  NA_ERR_SIDECARD_BAD_REQUEST,
  NA_ERR_SIDECARD_HEAT_FLUSH,
  NA_ERR_SIDECARD_KERNEL_LOAD,
  NA_ERR_SIDECARD_SPLICE_FAILED,
  NA_ERR_SIDECARD_LISTENER_NOT_FOUND,
} as const satisfies ErrorRegistry;
