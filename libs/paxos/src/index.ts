// @netaccel/paxos: Viewstamped Replication over UDP (README.md). Names re-exported one by one.

// --- replica -----------------------------------------------------------------------------------
export type { ReplicaSnapshot } from './replica.js';
export { PaxosReplica } from './replica.js';
export type { ReplicaOptions, ResolvedReplicaOptions } from './options.js';
export { resolveReplicaOptions } from './options.js';
export type { ApplyResult, StateMachine } from './state-machine.js';
export type { Checkpoint, CheckpointImage } from './snapshot.js';
export { CHECKPOINT_WINDOW, CheckpointAssembly, decodeCheckpoint, encodeCheckpoint } from './snapshot.js';
export type { CachedReply, ClientTableBounds } from './log.js';
export { ClientTable, ReplicaLog, SESSION_BIT, SESSION_FIRST, SESSION_REGISTER, sessionExpired, sessionIdOf } from './log.js';

// --- offload contract (implemented by @netaccel/bpf-programs/electrode) ----------------------
export type { DrainedEntry, PublishedState, ReplicaOffload, ReplicaStatus } from './offload.js';

// --- client and key-value store ----------------------------------------------------------------
export type { ClientOptions } from './client.js';
export { PaxosClient } from './client.js';
export type { KvOp } from './kv.js';
export { KvClient, KvKind, KvStateMachine, decodeKvOp, encodeKvOp } from './kv.js';

// --- replicated configuration (versioned values, compare-and-set; craq-scheduler's chain) -------
export type { ConfigListener, ConfigOp, SetOutcome, Versioned } from './config-machine.js';
export { ConfigClient, ConfigKind, ConfigStateMachine, decodeConfigOp, decodeConfigResult, encodeConfigOp } from './config-machine.js';
export type { ConfigUpdate, ReplicatedConfigOptions } from './config-store.js';
export { LEASE_KEY, ReplicatedConfig } from './config-store.js';
export type { LeaseState } from './lease.js';
export { LeaderLease } from './lease.js';

// --- transport and fault injection -------------------------------------------------------------
export type { DatagramHandler, Peer, Transport, UdpTransportOptions } from './transport.js';
export { inlineSendDefault, peerKey, udpTransport } from './transport.js';
export type { FaultOptions, FaultStats } from './faults.js';
export { FaultyTransport } from './faults.js';
/** The seeded generator of the fault injection and workloads (its home is @netaccel/protocol). */
export { seededRandom } from '@netaccel/protocol';

// --- metrics -----------------------------------------------------------------------------------
export type { CountHook, PaxosCounterName, PaxosCounters } from './metrics.js';
export { PAXOS_COUNTERS } from './metrics.js';

// --- status, its RPC service and Prometheus metrics (what a replica's host serves) -------------
export type { OffloadReasonInfo, OffloadStatus, OffloadStatusSource, PaxosStatus, StatusSourceOptions } from './status.js';
export { OFFLOAD_BITS, offloadStatus, statusSource } from './status.js';
export { paxosStatusService, statusToProto } from './status-service.js';
export type { GaugeLike, PaxosMetricsSink } from './status-metrics.js';
export { registerPaxosMetrics } from './status-metrics.js';

// --- errors ------------------------------------------------------------------------------------
export {
  NA_ERR_PAXOS_BAD_CHECKPOINT,
  NA_ERR_PAXOS_BAD_CONFIG_OP,
  NA_ERR_PAXOS_BAD_KV_OP,
  NA_ERR_PAXOS_CLOSED,
  NA_ERR_PAXOS_CONFIG_CONFLICT,
  NA_ERR_PAXOS_INVALID_OPTIONS,
  NA_ERR_PAXOS_OP_TOO_LARGE,
  NA_ERR_PAXOS_REJECTED,
  NA_ERR_PAXOS_TIMEOUT,
  paxosErrors,
} from './errors.js';
