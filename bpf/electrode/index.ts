// @netaccel/bpf-programs/electrode: the TypeScript binding of the Electrode offloads
// (electrode.bpf.c): struct codecs and layouts of its maps, the constants and flags shared with
// the C headers, its pass/drop reasons, the model of its decisions, and ElectrodeOffload, the
// ReplicaOffload of libs/paxos over the maps of a loaded object. Names are re-exported one by one.

// --- map structs: codecs and layouts (electrode_kern_user.h) ---------------------------------
export type { Counter, ElectrodeState, LogEntry, QuorumSlot, ReplicaConfig, StructLayout } from './codec.js';
export {
  ELECTRODE_LAYOUTS,
  FREE_LOG_ENTRY,
  decodeCounter,
  decodeLogEntry,
  decodeQuorumSlot,
  decodeReplica,
  decodeState,
  decodeU64Sum,
  encodeLogEntry,
  encodeQuorumSlot,
  encodeReplica,
  encodeState,
  encodeU32,
} from './codec.js';

// --- constants, flags, object (electrode_kern_user.h, electrode_consts.h) --------------------
export type { ElectrodeStatName, ElectrodeStatusName } from './constants.js';
export {
  ELECTRODE_BUILD_DEFAULTS,
  ELECTRODE_MAX_BODY,
  ELECTRODE_OBJECT,
  ELECTRODE_OFF,
  ELECTRODE_REPLICA_F,
  ELECTRODE_SLOT,
  ELECTRODE_STAT,
  ELECTRODE_STAT_MAX,
  ELECTRODE_STATUS,
  PAXOS_F,
  PAXOS_MSG,
  PAXOS_WIRE,
} from './constants.js';

// --- struct codecs for a CodecRegistry (netaccel bpf map dump --typed) ---------------------
export { ELECTRODE_STRUCT_CODECS, registerElectrodeCodecs } from './struct-codecs.js';

// --- pass/drop reasons ------------------------------------------------------------------------
export type { ElectrodeReason, ElectrodeReasonName, ElectrodeVerdict } from './reasons.js';
export { ELECTRODE_R, ELECTRODE_REASONS, ELECTRODE_R_MAX, electrodeReason, electrodeReasonByName } from './reasons.js';

// --- the programs' decisions (pure) -----------------------------------------------------------
export type { BroadcastDecision, FastAckDecision, FrameMessage, ParseOutcome, QuorumDecision } from './model.js';
export { broadcastDecision, fastAckDecision, firstFollower, parseFrame, quorumDecision, typeReason } from './model.js';

// --- the ReplicaOffload binding ---------------------------------------------------------------
export type { DrainedEntry, ElectrodeCounters, ElectrodeMaps, ElectrodeOffloadOptions, MappedPaths, PublishedState, ReplicaOffloadContract, ReplicaStatus } from './offload.js';
export { ElectrodeOffload, mmapDefault } from './offload.js';
export { MappedRing, MappedState } from './mapped.js';
export type { RingEntry, StateWrite } from './mapped.js';
export type { AttachOptions, LoadElectrodeOptions } from './object.js';
export { ELECTRODE_BPF_DIR, ELECTRODE_TC_FILTER, ElectrodeObject, electrodeMaps, electrodeObjectPath } from './object.js';
