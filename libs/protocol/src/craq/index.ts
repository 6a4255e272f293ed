// NetCRAQ wire format v1 (import { craq } from '@netaccel/protocol'). Spec: ./README.md.
export {
  CRAQ_DEFAULT_PORT,
  CRAQ_FLAGS_MASK,
  CRAQ_HEADER_LEN,
  CRAQ_KEY_CHECK_SEED,
  CRAQ_MAGIC,
  CRAQ_MAX_VALUE,
  CRAQ_OPS_WITH_TRAILER,
  CRAQ_OPS_WITH_VALUE,
  CRAQ_TRAILER_LEN,
  CRAQ_WIRE_VERSION,
  CraqFlag,
  CraqOp,
  CraqStatus,
  craqOpName,
  craqPad4,
  craqStatusName,
  isCraqOp,
  isCraqStatus,
} from './constants.js';
export type { CraqOpCode, CraqOpName, CraqStatusCode, CraqStatusName } from './constants.js';
export type { CraqClientAddress, CraqMessage, CraqMessageInit } from './codec.js';
export { craqMessageLength, decodeCraq, encodeCraq } from './codec.js';
export { craqKey, craqKeyCheck, craqKeyId, murmur3 } from './hash.js';
export type { CraqRequestInit } from './requests.js';
export { craqDeleteRequest, craqReadRequest, craqReply, craqReplyOp, craqWriteRequest } from './requests.js';
export {
  NA_ERR_CRAQWIRE_BAD_FLAGS,
  NA_ERR_CRAQWIRE_BAD_LENGTH,
  NA_ERR_CRAQWIRE_BAD_MAGIC,
  NA_ERR_CRAQWIRE_BAD_STATUS,
  NA_ERR_CRAQWIRE_BAD_TRAILER,
  NA_ERR_CRAQWIRE_BAD_VERSION,
  NA_ERR_CRAQWIRE_INVALID_MESSAGE,
  NA_ERR_CRAQWIRE_TRUNCATED,
  NA_ERR_CRAQWIRE_UNEXPECTED_VALUE,
  NA_ERR_CRAQWIRE_UNKNOWN_OP,
  NA_ERR_CRAQWIRE_VALUE_TOO_LARGE,
  craqWireErrors,
} from './errors.js';
