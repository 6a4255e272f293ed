/**
 * Constants shared with electrode_kern_user.h and electrode_consts.h: message types and flags
 * of the wire format as the programs read them, replica status, offload bits, slot states,
 * counters, build defaults, the object and its programs. constants.test.ts compares every
 * value with the headers.
 */

/** Wire format v1 as the programs check it (the codec is @netaccel/protocol's `paxos`). */
export const PAXOS_WIRE = Object.freeze({
  magic: 0x4e415058, // "NAPX"
  version: 1,
  headerLen: 32, // bytes
  maxMsg: 1400, // bytes of UDP payload
  defaultPort: 7470,
  clientSender: 0xff,
} as const);

/** paxos_hdr.type values the programs act on or tell apart (enum paxos_msg_type). */
export const PAXOS_MSG = Object.freeze({ REQUEST: 1, REPLY: 2, PREPARE: 3, PREPARE_OK: 4, COMMIT: 5, TYPE_MAX: 15 } as const);

/** paxos_hdr.flags (PAXOS_F_*). */
export const PAXOS_F = Object.freeze({ FAST: 0x1, QUORUM: 0x2 } as const);

/** electrode_state.status (enum electrode_status), by libs/paxos' ReplicaStatus. */
export const ELECTRODE_STATUS = Object.freeze({ normal: 0, 'view-change': 1, recovering: 2 } as const);
export type ElectrodeStatusName = keyof typeof ELECTRODE_STATUS;

/** electrode_state.offloads bits (ELECTRODE_OFF_*). */
export const ELECTRODE_OFF = Object.freeze({ BROADCAST: 0x1, FAST_ACK: 0x2, QUORUM: 0x4, ALL: 0x7 } as const);

/** electrode_replica.flags (ELECTRODE_REPLICA_F_*). */
export const ELECTRODE_REPLICA_F = Object.freeze({ VALID: 0x1 } as const);

/** electrode_log_entry.state (enum electrode_slot_state). */
export const ELECTRODE_SLOT = Object.freeze({ FREE: 0, WRITING: 1, FULL: 2 } as const);

/** Keys of el_stats (enum electrode_stat): per-offload counters. */
export const ELECTRODE_STAT = Object.freeze({
  BCAST_PREPARES: 0,
  BCAST_CLONES: 1,
  BCAST_ERRORS: 2,
  FAST_ACKS: 3,
  ACKS_FILTERED: 4,
  QUORUMS: 5,
  PASSED: 6,
} as const);
export type ElectrodeStatName = keyof typeof ELECTRODE_STAT;
export const ELECTRODE_STAT_MAX = 7;

/**
 * Build-time constants' defaults (electrode_consts.h, #ifndef). A build may override them; code
 * reads the real sizes from the object's maps.
 */
export const ELECTRODE_BUILD_DEFAULTS = Object.freeze({
  ELECTRODE_RING_SIZE: 512, // log ring entries
  ELECTRODE_QUORUM_WINDOW: 1024, // quorum slots
  ELECTRODE_MAX_REPLICAS: 31, // replicas of a group
} as const);

/** Bytes of a Prepare body a ring entry holds (PAXOS_MAX_MSG - PAXOS_HDR_LEN). */
export const ELECTRODE_MAX_BODY = PAXOS_WIRE.maxMsg - PAXOS_WIRE.headerLen;

/** The object (under bpf/) and its programs. */
export const ELECTRODE_OBJECT = Object.freeze({
  path: 'build/electrode/electrode.bpf.o',
  programs: Object.freeze({
    /** XDP on every replica: Prepare to the fast-ack, PrepareOK to the quorum wait. */
    xdp: 'electrode_xdp',
    /** XDP, the fast-ack alone. */
    fastAck: 'electrode_fast_ack',
    /** XDP, the quorum wait alone. */
    quorum: 'electrode_quorum',
    /** TC egress on the leader's interfaces. */
    broadcast: 'electrode_broadcast',
  }),
  maps: Object.freeze({
    state: 'electrode_state',
    config: 'el_config',
    log: 'el_log',
    quorum: 'el_quorum',
    stats: 'el_stats',
    reasons: 'el_reasons',
  }),
} as const);
