/**
 * The error registry of `@netaccel/dataplane`. Every code is documented in the package README
 * (checked by `errors.test.ts`).
 */
import { defineError } from '@netaccel/errors';

/** The object cannot be opened or loaded, or lacks a program or map its descriptor names. */
export const NA_ERR_DATAPLANE_OBJECT = defineError('NA_ERR_DATAPLANE_OBJECT', 'BPF object %s: %s', 'failed-precondition');

/** A map or program operation failed (in the kernel, or in the loader, or on the way to it). */
export const NA_ERR_DATAPLANE_OP = defineError('NA_ERR_DATAPLANE_OP', 'data plane: %s failed: %s', 'unavailable');

/** A caller's argument does not fit the map (sizes, counts) or the descriptor (unknown map). */
export const NA_ERR_DATAPLANE_INVALID = defineError('NA_ERR_DATAPLANE_INVALID', '%s', 'invalid-argument');

export const dataplaneErrors = {
  NA_ERR_DATAPLANE_OBJECT,
  NA_ERR_DATAPLANE_OP,
  NA_ERR_DATAPLANE_INVALID,
} as const;
