/**
 * Counters of a replica, for the daemon to export (Prometheus counters with the same names).
 * `onCount` lets a daemon mirror every increment into its registry; `counters()` snapshots.
 */

export const PAXOS_COUNTERS = [
  'requests_received', // client REQUESTs that reached this replica
  'requests_duplicate', // REQUESTs answered from the client table or already in the log
  'requests_not_leader', // REQUESTs answered NOT_LEADER
  'replies_sent',
  'prepares_sent', // PREPARE datagrams sent (first sends)
  'prepares_received', // PREPAREs processed in user space (passed up by the kernel)
  'prepares_retransmitted',
  'prepare_oks_sent',
  'prepare_oks_received',
  'prepare_oks_quorum', // PREPARE_OKs carrying the QUORUM flag (leader's XDP)
  'commits_sent', // COMMIT datagrams (commit notice and heartbeat)
  'ops_committed', // log entries committed
  'requests_executed', // client requests applied to the state machine
  'requests_session_expired', // session requests of a client without a row (evicted or never registered), answered SESSION_EXPIRED instead of executed
  'sessions_registered', // client session registrations executed (log.ts SESSION_REGISTER: a row for the new session)
  'clients_evicted', // client table rows dropped (older than clientRetainOps, or beyond maxClients)
  'view_changes_started',
  'views_started', // views this replica entered in normal status
  'state_requests_sent', // GET_STATE
  'state_entries_received', // entries appended from NEW_STATE
  'checkpoints_taken', // checkpoints of this replica's state (every checkpointEvery executed ops)
  'checkpoints_installed', // checkpoints received from another replica and installed
  'checkpoint_chunks_sent', // CHECKPOINT datagrams
  'checkpoint_chunks_received', // CHECKPOINT chunks taken into the checkpoint being received
  'checkpoint_chunks_rejected', // chunks of another total/checksum, and received checkpoints that failed their checks
  'log_entries_truncated', // log entries dropped below a checkpoint
  'recoveries_started',
  'recoveries_completed',
  'drained_entries', // fast-acked entries drained from the offload and appended
  'drained_discarded', // drained entries not appended (old view, not the next op)
  'messages_malformed', // datagrams the codec refused
  'messages_forged', // a replica's message from an address that is not that replica's
  'messages_stale', // messages of an older view, or not for the current role/status
] as const;

export type PaxosCounterName = (typeof PAXOS_COUNTERS)[number];
export type PaxosCounters = Record<PaxosCounterName, number>;

export type CountHook = (name: PaxosCounterName, delta: number) => void;

export function newCounters(): PaxosCounters {
  return Object.fromEntries(PAXOS_COUNTERS.map((n) => [n, 0])) as PaxosCounters;
}
