// @netaccel/bpf-programs/craq: the TypeScript binding of the NetCRAQ chain node (craq.bpf.c):
// map struct codecs and layouts, its reason and action tables, the reader of its commit ring
// buffer, the frame layout and the reference model. What apps/craq-scheduler and the CLI program
// the data plane with. Names are re-exported one by one.

// --- map structs (craq_kern_user.h) ----------------------------------------------------------
export type { CraqCommit, CraqConfig, CraqCounter, CraqKeyEntry, CraqPeer, CraqRequestRecord, CraqSlot } from './codec.js';
export {
  CRAQ_CFG,
  CRAQ_DEFAULT_MAX_DIRTY,
  CRAQ_REQ_RING,
  CRAQ_LAYOUTS,
  CRAQ_MAX_VALUE,
  CRAQ_ROLE,
  CRAQ_KEY_F,
  CRAQ_SLOT,
  NO_PEER,
  decodeCommit,
  decodeConfig,
  decodeKeyEntry,
  encodeConfig,
  encodeKeyEntry,
  encodeKeyId,
  encodeU32,
  keyEntrySize,
  placedKey,
  withRequests,
  requestsHeld,
  ringOf,
  slotChecksum,
  slotsOf,
  sumCounters,
} from './codec.js';

// --- the program descriptor (@netaccel/dataplane) ---------------------------------------------
export type { CraqMapName } from './descriptor.js';
export { CRAQ_DESCRIPTOR, CRAQ_OBJECT } from './descriptor.js';

// --- reasons and actions (enum craq_reason, enum craq_stat) ---------------------------------
export type { CraqReason, CraqReasonName, CraqReasonVerdict, CraqStatName } from './reasons.js';
export { CRAQ_REASON, CRAQ_REASONS, CRAQ_REASON_MAX, CRAQ_STAT, CRAQ_STAT_MAX, craqReason, craqReasonByName } from './reasons.js';

// --- the commit ring buffer ------------------------------------------------------------------
export { CraqCommitReader } from './commits.js';

// --- frames and the reference model ----------------------------------------------------------
export type { CraqFrame } from './frame.js';
export { encodeFrame, l4Offset } from './frame.js';
export type { CraqEndpoint, CraqNodeState, CraqStep, XdpVerdict } from './model.js';
export { craqClientFrame, craqRemembered, craqStep, parseCraqFrame } from './model.js';

// --- the P4 version's P4Runtime names (p4/netcraq.p4) ----------------------------------------
export type { P4Table } from './p4info.js';
export {
  NETCRAQ_P4_CONTROL,
  NETCRAQ_P4_COUNTERS,
  NETCRAQ_P4_DIGESTS,
  NETCRAQ_P4_MODEL_ACTIONS,
  NETCRAQ_P4_REGISTERS,
  NETCRAQ_P4_TABLES,
  NETCRAQ_P4_WORDS,
  p4RuntimeName,
} from './p4info.js';
