/**
 * Error registry of the NetCRAQ wire codec (`NA_ERR_CRAQWIRE_*`, documented in ./README.md).
 * Decode errors carry `details` with `layer: 'craq'`, `offset` and `field` like the packet codecs.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

const BAD = 'invalid-argument';

export const NA_ERR_CRAQWIRE_TRUNCATED = defineError('NA_ERR_CRAQWIRE_TRUNCATED', 'craq %s at offset %d is truncated: needs %d bytes, %d left', BAD);
export const NA_ERR_CRAQWIRE_BAD_MAGIC = defineError('NA_ERR_CRAQWIRE_BAD_MAGIC', 'craq.magic: expected 0x4e43, got 0x%s', BAD);
export const NA_ERR_CRAQWIRE_BAD_VERSION = defineError('NA_ERR_CRAQWIRE_BAD_VERSION', 'craq.version: expected 1, got %d', BAD);
export const NA_ERR_CRAQWIRE_UNKNOWN_OP = defineError('NA_ERR_CRAQWIRE_UNKNOWN_OP', 'craq.op: %d is not a known operation', BAD);
export const NA_ERR_CRAQWIRE_BAD_STATUS = defineError('NA_ERR_CRAQWIRE_BAD_STATUS', 'craq.status: %s', BAD);
export const NA_ERR_CRAQWIRE_BAD_FLAGS = defineError('NA_ERR_CRAQWIRE_BAD_FLAGS', 'craq.flags: %s', BAD);
export const NA_ERR_CRAQWIRE_VALUE_TOO_LARGE = defineError('NA_ERR_CRAQWIRE_VALUE_TOO_LARGE', 'craq.value_len: %d bytes exceed CRAQ_MAX_VALUE (%d)', BAD);
export const NA_ERR_CRAQWIRE_UNEXPECTED_VALUE = defineError('NA_ERR_CRAQWIRE_UNEXPECTED_VALUE', 'craq.value_len: %s carries no value, got %d bytes', BAD);
export const NA_ERR_CRAQWIRE_BAD_LENGTH = defineError('NA_ERR_CRAQWIRE_BAD_LENGTH', 'craq message: %d bytes, the header says %d', BAD);
export const NA_ERR_CRAQWIRE_BAD_TRAILER = defineError('NA_ERR_CRAQWIRE_BAD_TRAILER', 'craq trailer at offset %d: %s', BAD);
export const NA_ERR_CRAQWIRE_INVALID_MESSAGE = defineError('NA_ERR_CRAQWIRE_INVALID_MESSAGE', 'craq message to encode: %s', BAD);

/** Every code of the NetCRAQ wire codec. */
export const craqWireErrors: ErrorRegistry = Object.freeze({
  NA_ERR_CRAQWIRE_TRUNCATED,
  NA_ERR_CRAQWIRE_BAD_MAGIC,
  NA_ERR_CRAQWIRE_BAD_VERSION,
  NA_ERR_CRAQWIRE_UNKNOWN_OP,
  NA_ERR_CRAQWIRE_BAD_STATUS,
  NA_ERR_CRAQWIRE_BAD_FLAGS,
  NA_ERR_CRAQWIRE_VALUE_TOO_LARGE,
  NA_ERR_CRAQWIRE_UNEXPECTED_VALUE,
  NA_ERR_CRAQWIRE_BAD_LENGTH,
  NA_ERR_CRAQWIRE_BAD_TRAILER,
  NA_ERR_CRAQWIRE_INVALID_MESSAGE,
});
