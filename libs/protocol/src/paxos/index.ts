// Paxos/VR wire format v1 of @netaccel/protocol (README.md in this folder). The package index
// re-exports these names as the namespace `paxos`.

export type {
  CheckpointMessage,
  ClientRequest,
  CommitMessage,
  DoViewChangeMessage,
  GetCheckpointMessage,
  GetStateMessage,
  NewStateMessage,
  PaxosHeader,
  PaxosMessage,
  PaxosMessageOf,
  PrepareMessage,
  PrepareOkMessage,
  RecoveryMessage,
  RecoveryResponseMessage,
  ReplyMessage,
  RequestMessage,
  StartViewChangeMessage,
  StartViewMessage,
  StateEntry,
} from './model.js';
export { decodePaxos, encodePaxos, encodeReply } from './message.js';
export type { HeaderFields } from './header.js';
export { decodePaxosHeader, writePaxosHeader } from './header.js';
export { decodeEntry, encodeEntry, entrySize, requestSize, stateBodySize } from './entry.js';
export { checkpointChecksum } from './checkpoint.js';
export {
  PAXOS_CHECKPOINT_CHUNK_OVERHEAD,
  PAXOS_CLIENT_SENDER,
  PAXOS_DEFAULT_PORT,
  PAXOS_HDR,
  PAXOS_HEADER_LEN,
  PAXOS_MAGIC,
  PAXOS_MAX_BODY,
  PAXOS_MAX_CHECKPOINT,
  PAXOS_MAX_CHUNK,
  PAXOS_MAX_ENTRY,
  PAXOS_MAX_MSG,
  PAXOS_MAX_OP,
  PAXOS_MAX_REPLICAS,
  PAXOS_REGISTER_ID,
  PAXOS_REQUEST_OVERHEAD,
  PAXOS_STATE_ENTRY_OVERHEAD,
  PAXOS_VERSION,
  PaxosFlag,
  PaxosType,
  ReplyStatus,
  isPaxosType,
  paxosTypeName,
} from './constants.js';
export {
  NA_ERR_PAXOSWIRE_BAD_FIELD,
  NA_ERR_PAXOSWIRE_BAD_FLAGS,
  NA_ERR_PAXOSWIRE_BAD_LENGTH,
  NA_ERR_PAXOSWIRE_BAD_MAGIC,
  NA_ERR_PAXOSWIRE_BAD_SENDER,
  NA_ERR_PAXOSWIRE_BAD_TYPE,
  NA_ERR_PAXOSWIRE_BAD_VERSION,
  NA_ERR_PAXOSWIRE_INVALID_MESSAGE,
  NA_ERR_PAXOSWIRE_TOO_LARGE,
  NA_ERR_PAXOSWIRE_TRUNCATED,
  paxosWireErrors,
} from './errors.js';
