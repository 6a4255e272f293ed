/**
 * Error registry of @netaccel/protocol.
 *
 * Packet codec errors (`NA_ERR_PACKET_*`) live here. BGP errors (`NA_ERR_BGP_*`) live in
 * `./bgp/errors.ts`. Every code is documented in the package README (checked by errors.test.ts).
 *
 * Parse errors carry `details` with at least `layer` (header name), `offset` (byte offset of the
 * header or field in the input) and, where it applies, `layerIndex` and `field`.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

// --- parsing ----------------------------------------------------------------------------------

export const NA_ERR_PACKET_TRUNCATED = defineError(
  'NA_ERR_PACKET_TRUNCATED',
  '%s header at offset %d is truncated: needs %d bytes, %d left',
  'invalid-argument',
);
export const NA_ERR_PACKET_BAD_IHL = defineError(
  'NA_ERR_PACKET_BAD_IHL',
  'ipv4.ihl at offset %d: expected 5..15 words, got %d',
  'invalid-argument',
);
export const NA_ERR_PACKET_BAD_LENGTH = defineError(
  'NA_ERR_PACKET_BAD_LENGTH',
  '%s.%s at offset %d: %s',
  'invalid-argument',
);
export const NA_ERR_PACKET_BAD_CHECKSUM = defineError(
  'NA_ERR_PACKET_BAD_CHECKSUM',
  '%s.checksum at offset %d: got 0x%s, expected 0x%s',
  'invalid-argument',
);
export const NA_ERR_PACKET_BAD_VERSION = defineError(
  'NA_ERR_PACKET_BAD_VERSION',
  '%s.version at offset %d: expected %s, got %d',
  'invalid-argument',
);
export const NA_ERR_PACKET_BAD_OPTION = defineError(
  'NA_ERR_PACKET_BAD_OPTION',
  '%s.options at offset %d: %s',
  'invalid-argument',
);
export const NA_ERR_PACKET_EXT_CHAIN_TOO_LONG = defineError(
  'NA_ERR_PACKET_EXT_CHAIN_TOO_LONG',
  'ipv6 extension header at offset %d: the chain has more than %d headers',
  'invalid-argument',
);
export const NA_ERR_PACKET_TOO_MANY_VLANS = defineError(
  'NA_ERR_PACKET_TOO_MANY_VLANS',
  'vlan tag at offset %d: more than %d stacked tags',
  'invalid-argument',
);

// --- building and arguments -------------------------------------------------------------------

export const NA_ERR_PACKET_INVALID_SPEC = defineError('NA_ERR_PACKET_INVALID_SPEC', '%s: %s', 'invalid-argument');
export const NA_ERR_PACKET_INVALID_OPTIONS = defineError('NA_ERR_PACKET_INVALID_OPTIONS', '%s: %s', 'invalid-argument');
export const NA_ERR_PACKET_BAD_ADDRESS = defineError(
  'NA_ERR_PACKET_BAD_ADDRESS',
  '%s: expected %s, got %j',
  'invalid-argument',
);
export const NA_ERR_PACKET_BAD_PREFIX = defineError('NA_ERR_PACKET_BAD_PREFIX', '%s: %s', 'invalid-argument');

/** Every packet error, keyed by code. */
export const packetErrors: ErrorRegistry = Object.freeze({
  NA_ERR_PACKET_TRUNCATED,
  NA_ERR_PACKET_BAD_IHL,
  NA_ERR_PACKET_BAD_LENGTH,
  NA_ERR_PACKET_BAD_CHECKSUM,
  NA_ERR_PACKET_BAD_VERSION,
  NA_ERR_PACKET_BAD_OPTION,
  NA_ERR_PACKET_EXT_CHAIN_TOO_LONG,
  NA_ERR_PACKET_TOO_MANY_VLANS,
  NA_ERR_PACKET_INVALID_SPEC,
  NA_ERR_PACKET_INVALID_OPTIONS,
  NA_ERR_PACKET_BAD_ADDRESS,
  NA_ERR_PACKET_BAD_PREFIX,
});
