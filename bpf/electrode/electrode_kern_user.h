/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every struct and enum the Electrode offloads share with TypeScript (bpf/electrode/codec.ts,
 * bpf/electrode/reasons.ts) and with libs/paxos through the wire format
 * (/work/helpers/paxos-wire.md, libs/protocol/src/paxos). Plain fixed-size C types only, every
 * member at its natural alignment and every gap an explicit pad member, so the layout is the
 * same for clang's BPF target and for the codecs; btf-layout.bpf.test.ts compares the codecs
 * with the BTF of the compiled object and reasons.test.ts compares the enums below with
 * reasons.ts.
 *
 * Byte order: struct paxos_hdr is the packet's (network order, __be*); addresses and ports in
 * struct electrode_replica are network order as they sit in packets; every other integer of the
 * map structs is host order. An IPv4 address is addr[0] with addr[1..3] zero.
 */
#ifndef ELECTRODE_KERN_USER_H
#define ELECTRODE_KERN_USER_H

/* --- wire format v1 ---------------------------------------------------------------------------- */

#define PAXOS_MAGIC 0x4E415058 /* "NAPX" */
#define PAXOS_VERSION 1
#define PAXOS_HDR_LEN 32
#define PAXOS_MAX_MSG 1400        /* largest UDP payload of one message */
#define PAXOS_DEFAULT_PORT 7470
#define PAXOS_CLIENT_SENDER 0xFF  /* `sender` of a client's message */

/* paxos_hdr.type */
enum paxos_msg_type {
	PAXOS_REQUEST = 1,    /* client -> leader */
	PAXOS_REPLY = 2,      /* leader -> client */
	PAXOS_PREPARE = 3,    /* leader -> follower: one log entry */
	PAXOS_PREPARE_OK = 4, /* follower -> leader: op = the follower's last op in order */
	PAXOS_COMMIT = 5,     /* leader -> followers, also the heartbeat */
	PAXOS_TYPE_MAX = 15,  /* 6..15: view change, state transfer, recovery (user space only) */
};

/* paxos_hdr.flags */
#define PAXOS_F_FAST 0x1   /* a PREPARE_OK built by the follower's XDP fast-ack */
#define PAXOS_F_QUORUM 0x2 /* the PREPARE_OK the leader's XDP passed up: it completes op's quorum */

/* The common header of every message (32 bytes, all network order). */
struct paxos_hdr {
	__be32 magic;
	__u8 version;
	__u8 type;     /* enum paxos_msg_type */
	__u8 sender;   /* replica index 0..30, PAXOS_CLIENT_SENDER for a client */
	__u8 flags;    /* PAXOS_F_* */
	__be32 view;
	__be32 body_len; /* bytes after the header: UDP payload - 32 */
	__be64 op;
	__be64 commit;
};

/* The wire layout (libs/protocol/src/paxos PAXOS_HDR): no padding anywhere. */
_Static_assert(sizeof(struct paxos_hdr) == PAXOS_HDR_LEN, "paxos_hdr is 32 bytes");
_Static_assert(__builtin_offsetof(struct paxos_hdr, view) == 8, "paxos_hdr.view at 8");
_Static_assert(__builtin_offsetof(struct paxos_hdr, body_len) == 12, "paxos_hdr.body_len at 12");
_Static_assert(__builtin_offsetof(struct paxos_hdr, op) == 16, "paxos_hdr.op at 16");
_Static_assert(__builtin_offsetof(struct paxos_hdr, commit) == 24, "paxos_hdr.commit at 24");

/* --- state shared with user space ------------------------------------------------------------ */

/* electrode_state.status (libs/paxos ReplicaStatus) */
enum electrode_status {
	ELECTRODE_STATUS_NORMAL = 0,
	ELECTRODE_STATUS_VIEW_CHANGE = 1,
	ELECTRODE_STATUS_RECOVERING = 2,
};

/* electrode_state.offloads: each offload on or off at run time (off: pass-through). */
#define ELECTRODE_OFF_BROADCAST 0x1 /* leader, TC egress: one Prepare cloned to every follower */
#define ELECTRODE_OFF_FAST_ACK 0x2  /* follower, XDP: in-order Prepares logged and acknowledged */
#define ELECTRODE_OFF_QUORUM 0x4    /* leader, XDP: only the PrepareOK completing a quorum passed */
#define ELECTRODE_OFF_ALL 0x7

/*
 * Value of `electrode_state` (array of one). User space (the binding's publish) writes view,
 * status, self, leader, n, commit and offloads; last_op is written by both: the follower's
 * fast-ack advances it (compare-and-swap) for every Prepare it logs, user space after it
 * processed a passed-up Prepare (never backwards within one view: see index.ts).
 */
struct electrode_state {
	__u32 view;
	__u8 status;   /* enum electrode_status */
	__u8 self;     /* this replica's index */
	__u8 leader;   /* the leader's index in `view` */
	__u8 n;        /* replicas in the group: 2f+1, at most ELECTRODE_MAX_REPLICAS */
	__u64 last_op; /* last op number in this replica's log, in order */
	__u64 commit;  /* commit number */
	__u32 offloads; /* ELECTRODE_OFF_* */
	__u32 pad;
};

/* electrode_replica.flags */
#define ELECTRODE_REPLICA_F_VALID 0x1

/*
 * Value of `el_config` (array, key = replica index): how to reach replica i. All
 * replicas of a group use the same UDP port. The broadcast copies leave through ifindex (this
 * host's interface towards the replica) with dst MAC := mac, dst IP := addr, dst port := port.
 */
struct electrode_replica {
	__be32 addr[4];
	__be16 port;
	__u8 family;  /* 4 or 6 */
	__u8 flags;   /* ELECTRODE_REPLICA_F_* */
	__u8 mac[6];
	__u16 pad;
	__u32 ifindex;
};

/* electrode_log_entry.state */
enum electrode_slot_state {
	ELECTRODE_SLOT_FREE = 0,    /* the fast-ack may fill it */
	ELECTRODE_SLOT_WRITING = 1, /* a CPU is copying a Prepare into it */
	ELECTRODE_SLOT_FULL = 2,    /* a fast-acked entry user space has not drained yet */
};

/*
 * Value of `el_log` (array, key = op % ELECTRODE_RING_SIZE): a Prepare the follower
 * fast-acked, kept until user space drains it (drain writes the slot back FREE). The state
 * word comes first so that a reader copying the value front to back sees FULL only for an
 * entry whose body was complete before (the fast-ack sets it last, with an atomic exchange).
 * el_log is BPF_F_MMAPABLE: the replica reads the state word first (an atomic load), then the
 * rest, and stores FREE (atomic) after its last read of the slot (bpf/electrode/mapped.ts).
 */
struct electrode_log_entry {
	__u32 state;  /* enum electrode_slot_state */
	__u32 view;   /* view of the Prepare */
	__u64 op;     /* op number of the Prepare (tags the slot) */
	__u64 commit; /* the leader's commit number carried by the Prepare */
	__u32 len;    /* body bytes (after the 32-byte header) */
	__u32 pad;
	__u8 body[PAXOS_MAX_MSG - PAXOS_HDR_LEN];
};

/*
 * Value of `el_quorum` (array, key = op % ELECTRODE_QUORUM_WINDOW): the PrepareOK
 * senders seen for op in view, a bitset so that duplicates do not count twice. `done` is set
 * once by the PrepareOK that completed the quorum. Updated under `lock`.
 */
struct electrode_quorum_slot {
	struct bpf_spin_lock lock;
	__u32 view;
	__u64 op;
	__u32 acks; /* bit i: replica i acknowledged op */
	__u32 done; /* 1 once the quorum completed */
};

/*
 * Per-offload counters (`el_stats`, per CPU, key = enum electrode_stat).
 * Values are ABI: append, never renumber.
 */
enum electrode_stat {
	ELECTRODE_STAT_BCAST_PREPARES = 0,  /* Prepares the leader broadcast */
	ELECTRODE_STAT_BCAST_CLONES = 1,    /* copies cloned to followers (bpf_clone_redirect ok) */
	ELECTRODE_STAT_BCAST_ERRORS = 2,    /* copies not sent: clone or rewrite failed, family mismatch */
	ELECTRODE_STAT_FAST_ACKS = 3,       /* Prepares logged and acknowledged with XDP_TX */
	ELECTRODE_STAT_ACKS_FILTERED = 4,   /* PrepareOKs the quorum wait dropped */
	ELECTRODE_STAT_QUORUMS = 5,         /* PrepareOKs passed up with QUORUM */
	ELECTRODE_STAT_PASSED = 6,          /* Paxos messages passed up (any reason) */
	ELECTRODE_STAT_MAX = 7,
};

/*
 * Why a Paxos message was passed up or dropped instead of handled by an offload; the per-CPU
 * array `el_reasons` counts messages per reason. The comment of each entry starts with
 * its verdict. Values are ABI: append, never renumber.
 */
enum electrode_reason {
	ELECTRODE_R_NONE = 0,          /* unused: no reason */
	ELECTRODE_R_MALFORMED = 1,     /* pass: truncated, bad magic/version, body_len not the payload's, IP fragment or IPv4 options */
	ELECTRODE_R_UNKNOWN_TYPE = 2,  /* pass: type 0 or above 15 */
	ELECTRODE_R_OTHER_TYPE = 3,    /* pass: a type the offloads leave to user space (request, reply, commit, view change) */
	ELECTRODE_R_OFFLOAD_OFF = 4,   /* pass: the offload is switched off in electrode_state.offloads */
	ELECTRODE_R_NOT_NORMAL = 5,    /* pass: status is view change or recovering */
	ELECTRODE_R_ROLE = 6,          /* pass: a Prepare to the leader, a PrepareOK to a follower */
	ELECTRODE_R_BAD_SENDER = 7,    /* pass: sender not the leader (Prepare) or not another replica < n (PrepareOK) */
	ELECTRODE_R_OLD_VIEW = 8,      /* pass: view below the replica's */
	ELECTRODE_R_NEW_VIEW = 9,      /* pass: view above the replica's */
	ELECTRODE_R_GAP = 10,          /* pass: Prepare beyond last_op + 1 (an earlier one is missing) */
	ELECTRODE_R_OLD_OP = 11,       /* pass: Prepare at or below last_op (a retransmission: user space re-acknowledges) */
	ELECTRODE_R_RING_FULL = 12,    /* pass: the log ring slot of op still holds an undrained entry */
	ELECTRODE_R_TOO_BIG = 13,      /* pass: body longer than a ring entry */
	ELECTRODE_R_ACK_COMMITTED = 14, /* drop: PrepareOK for op at or below the commit number */
	ELECTRODE_R_ACK_DUPLICATE = 15, /* drop: this sender's PrepareOK for op was counted already */
	ELECTRODE_R_ACK_QUORUM_DONE = 16, /* drop: op's quorum completed already (a late PrepareOK) */
	ELECTRODE_R_ACK_FUTURE = 17,   /* pass: PrepareOK for an op beyond the leader's last_op */
	ELECTRODE_R_ACK_WINDOW = 18,   /* pass: op's quorum slot holds a newer op (window exceeded) */
	ELECTRODE_R_NO_CONFIG = 19,    /* pass: no valid el_config entry for a replica the offload needs */
	ELECTRODE_R_MAX = 20,          /* entries of el_reasons */
};

/* Value of `el_reasons` (per CPU). */
struct electrode_counter {
	__u64 packets;
	__u64 bytes;
};

#endif /* ELECTRODE_KERN_USER_H */
