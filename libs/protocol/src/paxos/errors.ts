/**
 * Error registry of the Paxos/VR wire codec (`NA_ERR_PAXOSWIRE_*`). Decode errors are about a
 * datagram from the network: the receiver counts and drops it (the type octet, when it counts per
 * type, is byte 5 of the datagram; header errors after the type check carry it as `details.type`).
 * Encode errors (`NA_ERR_PAXOSWIRE_INVALID_MESSAGE`) are local and name the field.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

const PEER = 'invalid-argument';

export const NA_ERR_PAXOSWIRE_TRUNCATED = defineError('NA_ERR_PAXOSWIRE_TRUNCATED', '%s: needs %d bytes, %d left', PEER);
export const NA_ERR_PAXOSWIRE_TOO_LARGE = defineError('NA_ERR_PAXOSWIRE_TOO_LARGE', '%s: %d bytes exceed the largest message, %d', PEER);
export const NA_ERR_PAXOSWIRE_BAD_MAGIC = defineError('NA_ERR_PAXOSWIRE_BAD_MAGIC', 'header.magic: expected 0x4e415058, got 0x%s', PEER);
export const NA_ERR_PAXOSWIRE_BAD_VERSION = defineError('NA_ERR_PAXOSWIRE_BAD_VERSION', 'header.version: expected 1, got %d', PEER);
export const NA_ERR_PAXOSWIRE_BAD_TYPE = defineError('NA_ERR_PAXOSWIRE_BAD_TYPE', 'header.type: %d is not a message type (1..14)', PEER);
export const NA_ERR_PAXOSWIRE_BAD_LENGTH = defineError('NA_ERR_PAXOSWIRE_BAD_LENGTH', '%s: %s', PEER);
export const NA_ERR_PAXOSWIRE_BAD_SENDER = defineError('NA_ERR_PAXOSWIRE_BAD_SENDER', 'header.sender: %s', PEER);
export const NA_ERR_PAXOSWIRE_BAD_FLAGS = defineError('NA_ERR_PAXOSWIRE_BAD_FLAGS', 'header.flags: %s', PEER);
export const NA_ERR_PAXOSWIRE_BAD_FIELD = defineError('NA_ERR_PAXOSWIRE_BAD_FIELD', '%s: %s', PEER);
export const NA_ERR_PAXOSWIRE_INVALID_MESSAGE = defineError('NA_ERR_PAXOSWIRE_INVALID_MESSAGE', '%s: %s', 'invalid-argument');

/** Every code of the Paxos wire codec. */
export const paxosWireErrors = {
  NA_ERR_PAXOSWIRE_TRUNCATED,
  NA_ERR_PAXOSWIRE_TOO_LARGE,
  NA_ERR_PAXOSWIRE_BAD_MAGIC,
  NA_ERR_PAXOSWIRE_BAD_VERSION,
  NA_ERR_PAXOSWIRE_BAD_TYPE,
  NA_ERR_PAXOSWIRE_BAD_LENGTH,
  NA_ERR_PAXOSWIRE_BAD_SENDER,
  NA_ERR_PAXOSWIRE_BAD_FLAGS,
  NA_ERR_PAXOSWIRE_BAD_FIELD,
  NA_ERR_PAXOSWIRE_INVALID_MESSAGE,
} as const satisfies ErrorRegistry;
