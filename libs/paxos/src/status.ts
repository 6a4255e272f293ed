/**
 * A replica's status as its host shows it (`netaccel paxos status`, the Paxos service of
 * libs/rpc, `/metrics`): the snapshot, the counters, and — when the replica runs with the Electrode
 * offloads — which are switched on and the offloads' own counters from the BPF maps. The offload
 * side is read through OffloadStatusSource, restated here structurally so that this library does
 * not depend on the BPF binding (`ElectrodeOffload` of @netaccel/bpf-programs/electrode fits it).
 */
import type { PaxosCounters } from './metrics.js';
import type { PaxosReplica, ReplicaSnapshot } from './replica.js';
import type { Peer } from './transport.js';

/** ELECTRODE_OFF bits (electrode_kern_user.h): which offloads are on. */
export const OFFLOAD_BITS = Object.freeze({ broadcast: 0x1, fastAck: 0x2, quorum: 0x4 } as const);

/** What the status needs of an offload (ElectrodeOffload's offloads() and counters()). */
export interface OffloadStatusSource {
  /** ELECTRODE_OFF bits in force. */
  offloads(): number;
  counters(): {
    readonly stats: Readonly<Record<string, bigint>>;
    readonly reasons: ReadonlyMap<string, { readonly packets: bigint; readonly bytes: bigint }>;
  };
}

/** The pass/drop reasons' table (ELECTRODE_REASONS), for verdicts and descriptions. */
export interface OffloadReasonInfo {
  readonly name: string;
  readonly verdict: string;
  readonly description: string;
}

export interface OffloadStatus {
  readonly bits: number;
  readonly broadcast: boolean;
  readonly fastAck: boolean;
  readonly quorum: boolean;
  /** el_stats by name, summed over CPUs. */
  readonly stats: Readonly<Record<string, bigint>>;
  /** el_reasons, every reason (zeros included), in the reasons table's order. */
  readonly reasons: readonly { readonly name: string; readonly verdict: string; readonly description: string; readonly packets: bigint; readonly bytes: bigint }[];
}

export interface PaxosStatus extends ReplicaSnapshot {
  readonly replicas: readonly Peer[];
  readonly counters: Readonly<PaxosCounters>;
  /** Absent without offloads. */
  readonly offloads?: OffloadStatus;
  /** What the host serves with the group (`kv`, `craq-chain`). */
  readonly service: string;
  readonly uptimeMs: number;
}

export interface StatusSourceOptions {
  readonly replica: PaxosReplica;
  readonly service: string;
  readonly offload?: OffloadStatusSource;
  /** Verdicts and descriptions of the offload's reasons (names alone without it). */
  readonly reasons?: readonly OffloadReasonInfo[];
  /** Epoch ms the replica started (default: when the source was made). */
  readonly startedAt?: number;
}

/** The offloads' part of the status. */
export function offloadStatus(offload: OffloadStatusSource, info: readonly OffloadReasonInfo[] = []): OffloadStatus {
  const bits = offload.offloads();
  const c = offload.counters();
  const byName = new Map(info.map((r) => [r.name, r]));
  const names = [...new Set([...info.map((r) => r.name), ...c.reasons.keys()])];
  return {
    bits,
    broadcast: (bits & OFFLOAD_BITS.broadcast) !== 0,
    fastAck: (bits & OFFLOAD_BITS.fastAck) !== 0,
    quorum: (bits & OFFLOAD_BITS.quorum) !== 0,
    stats: { ...c.stats },
    reasons: names.map((name) => {
      const v = c.reasons.get(name) ?? { packets: 0n, bytes: 0n };
      const i = byName.get(name);
      return { name, verdict: i?.verdict ?? '', description: i?.description ?? '', packets: v.packets, bytes: v.bytes };
    }),
  };
}

/**
 * A function that reads the replica's status now (for the RPC handler and the metrics); it
 * throws NA_ERR_PAXOS_CLOSED once the replica is closed.
 */
export function statusSource(o: StatusSourceOptions): () => PaxosStatus {
  const startedAt = o.startedAt ?? Date.now();
  return () => {
    o.replica.assertOpen();
    return {
      ...o.replica.snapshot(),
      replicas: o.replica.options.replicas,
      counters: o.replica.counters(),
      ...(o.offload !== undefined ? { offloads: offloadStatus(o.offload, o.reasons) } : {}),
      service: o.service,
      uptimeMs: Math.max(0, Date.now() - startedAt),
    };
  };
}
