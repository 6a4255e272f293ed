/**
 * The error registry of lb-controller. Every code is documented in README.md ("Errors");
 * errors.test.ts checks it.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

/** A desired state (file, etcd, Kubernetes) was refused whole; one line per problem, each starting with the field path. */
export const NA_ERR_LB_STATE_INVALID = defineError('NA_ERR_LB_STATE_INVALID', 'desired state refused (%s):\n%s', 'invalid-argument');
/** One etcd record is malformed: it is skipped, the other services are applied. */
export const NA_ERR_LB_ETCD_RECORD = defineError('NA_ERR_LB_ETCD_RECORD', 'etcd record %s skipped: %s', 'invalid-argument');
/** etcd cannot be reached; the watcher retries and resynchronises by revision. */
export const NA_ERR_LB_ETCD_UNAVAILABLE = defineError('NA_ERR_LB_ETCD_UNAVAILABLE', 'etcd %s: %s', 'unavailable');
/** The Kubernetes API cannot be listed or watched; the watcher retries (410 Gone: relist). */
export const NA_ERR_LB_K8S_WATCH = defineError('NA_ERR_LB_K8S_WATCH', 'kubernetes %s: %s', 'unavailable');
/** The desired state needs more VIPs, backends or table entries than the loaded data plane has. */
export const NA_ERR_LB_CAPACITY = defineError('NA_ERR_LB_CAPACITY', '%s', 'resource-exhausted');
/** Balancer API: no service with that id. */
export const NA_ERR_LB_SERVICE_NOT_FOUND = defineError('NA_ERR_LB_SERVICE_NOT_FOUND', 'no service %s (ids look like 198.51.100.10:443/tcp)', 'not-found');
/** Balancer API: no service has a backend with that address. */
export const NA_ERR_LB_BACKEND_NOT_FOUND = defineError('NA_ERR_LB_BACKEND_NOT_FOUND', 'no backend %s%s', 'not-found');
/** Balancer API: a malformed address or service id. */
export const NA_ERR_LB_BAD_REQUEST = defineError('NA_ERR_LB_BAD_REQUEST', '%s', 'invalid-argument');
/** bgp-announcer refused or could not be reached for an announcement; retried on the next change. */
export const NA_ERR_LB_ANNOUNCE = defineError('NA_ERR_LB_ANNOUNCE', '%s %s via bgp-announcer failed: %s', 'unavailable');

/** ebpf-loader's socket did not accept a connection within dataPlane.loaderWait at start. */
export const NA_ERR_LB_LOADER_UNREACHABLE = defineError('NA_ERR_LB_LOADER_UNREACHABLE', 'ebpf-loader at %s did not answer within %d ms (%s): is it running? (dataPlane.loaderSocket, dataPlane.loaderWait)', 'unavailable');

export const lbErrors: ErrorRegistry = Object.freeze({
  NA_ERR_LB_STATE_INVALID,
  NA_ERR_LB_ETCD_RECORD,
  NA_ERR_LB_ETCD_UNAVAILABLE,
  NA_ERR_LB_K8S_WATCH,
  NA_ERR_LB_CAPACITY,
  NA_ERR_LB_SERVICE_NOT_FOUND,
  NA_ERR_LB_BACKEND_NOT_FOUND,
  NA_ERR_LB_BAD_REQUEST,
  NA_ERR_LB_ANNOUNCE,
  NA_ERR_LB_LOADER_UNREACHABLE,
});
