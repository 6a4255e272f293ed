/**
 * The error registry of ebpf-loader (documented in README.md, checked by errors.test.ts). Errors
 * of @netaccel/bpf (NA_ERR_BPF_*: key and value sizes, map full, permissions …) reach clients as
 * they are; these are the loader's own. Kinds follow the Loader proto's contract: an occupied hook
 * is ALREADY_EXISTS, a verifier rejection and a sha256 mismatch FAILED_PRECONDITION, a path
 * outside the object directory PERMISSION_DENIED.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorFactory } from '@netaccel/errors';

export const NA_ERR_LOADER_INVALID_REQUEST = defineError('NA_ERR_LOADER_INVALID_REQUEST', '%s', 'invalid-argument');
export const NA_ERR_LOADER_OBJECT_NOT_FOUND = defineError('NA_ERR_LOADER_OBJECT_NOT_FOUND', '%s', 'not-found');
export const NA_ERR_LOADER_PATH_OUTSIDE = defineError(
  'NA_ERR_LOADER_PATH_OUTSIDE',
  'path %s: resolves to %s, outside the object directory %s',
  'permission-denied',
);
export const NA_ERR_LOADER_SHA256_MISMATCH = defineError(
  'NA_ERR_LOADER_SHA256_MISMATCH',
  'object %s: sha256 is %s, the request expected %s',
  'failed-precondition',
);
export const NA_ERR_LOADER_GLOBAL = defineError('NA_ERR_LOADER_GLOBAL', '%s', 'invalid-argument');
/** A map size names no map of the object, or is not 1..2^32-1. */
export const NA_ERR_LOADER_MAP_SIZE = defineError('NA_ERR_LOADER_MAP_SIZE', '%s', 'invalid-argument');
export const NA_ERR_LOADER_VERIFIER = defineError(
  'NA_ERR_LOADER_VERIFIER',
  'the verifier rejected program %s of %s: %s',
  'failed-precondition',
);
export const NA_ERR_LOADER_PROGRAM_NOT_FOUND = defineError('NA_ERR_LOADER_PROGRAM_NOT_FOUND', 'no program %s (the loader has %s)', 'not-found');
export const NA_ERR_LOADER_MAP_NOT_FOUND = defineError('NA_ERR_LOADER_MAP_NOT_FOUND', 'no map %s (the loader has %s)', 'not-found');
export const NA_ERR_LOADER_LINK_NOT_FOUND = defineError('NA_ERR_LOADER_LINK_NOT_FOUND', 'no attachment %s', 'not-found');
export const NA_ERR_LOADER_KEY_NOT_FOUND = defineError('NA_ERR_LOADER_KEY_NOT_FOUND', 'map %s has no key %s', 'not-found');
export const NA_ERR_LOADER_BAD_ATTACH = defineError('NA_ERR_LOADER_BAD_ATTACH', '%s', 'invalid-argument');
export const NA_ERR_LOADER_NO_IFACE = defineError(
  'NA_ERR_LOADER_NO_IFACE',
  'no network interface %s in the loader\'s network namespace',
  'not-found',
);
export const NA_ERR_LOADER_NO_CGROUP = defineError('NA_ERR_LOADER_NO_CGROUP', 'no cgroup %s', 'not-found');
export const NA_ERR_LOADER_HOOK_TAKEN = defineError(
  'NA_ERR_LOADER_HOOK_TAKEN',
  '%s is taken by %s: detach it first or attach with replace',
  'already-exists',
);
export const NA_ERR_LOADER_OBJECT_IN_USE = defineError(
  'NA_ERR_LOADER_OBJECT_IN_USE',
  'object %s has attachments (%s): detach them first or unload with force',
  'failed-precondition',
);
export const NA_ERR_LOADER_STATE = defineError('NA_ERR_LOADER_STATE', 'state file %s: %s', 'failed-precondition');
export const NA_ERR_LOADER_PIN_ROOT = defineError('NA_ERR_LOADER_PIN_ROOT', 'pin root %s: %s', 'failed-precondition');

export const LOADER_ERRORS = Object.freeze({
  NA_ERR_LOADER_INVALID_REQUEST,
  NA_ERR_LOADER_OBJECT_NOT_FOUND,
  NA_ERR_LOADER_PATH_OUTSIDE,
  NA_ERR_LOADER_SHA256_MISMATCH,
  NA_ERR_LOADER_GLOBAL,
  NA_ERR_LOADER_MAP_SIZE,
  NA_ERR_LOADER_VERIFIER,
  NA_ERR_LOADER_PROGRAM_NOT_FOUND,
  NA_ERR_LOADER_MAP_NOT_FOUND,
  NA_ERR_LOADER_LINK_NOT_FOUND,
  NA_ERR_LOADER_KEY_NOT_FOUND,
  NA_ERR_LOADER_BAD_ATTACH,
  NA_ERR_LOADER_NO_IFACE,
  NA_ERR_LOADER_NO_CGROUP,
  NA_ERR_LOADER_HOOK_TAKEN,
  NA_ERR_LOADER_OBJECT_IN_USE,
  NA_ERR_LOADER_STATE,
  NA_ERR_LOADER_PIN_ROOT,
} satisfies Record<string, ErrorFactory>);
