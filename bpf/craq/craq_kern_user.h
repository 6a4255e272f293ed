/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every struct, enum and constant the NetCRAQ data plane shares with TypeScript
 * (libs/protocol/src/craq for the wire, bpf/craq/codec.ts for the maps, bpf/craq/reasons.ts for
 * the reason table). Plain fixed-size C types, natural alignment, explicit padding.
 *
 * Byte order: `struct craq_hdr` and `struct craq_trailer` are wire structs (network order).
 * Map structs are host order except addresses and ports (network order, as in packets).
 * An IPv4 address in a 16-byte field is its first 4 bytes, the rest zero.
 * The key of the `craq_keys` map is the key id (FNV-1a 64 of the etcd key) in host order.
 */
#ifndef CRAQ_KERN_USER_H
#define CRAQ_KERN_USER_H

/* --- wire (libs/protocol/src/craq/constants.ts) -------------------------------------------- */

#define CRAQ_MAGIC 0x4e43
#define CRAQ_WIRE_VERSION 1
#define CRAQ_HDR_LEN 40
#define CRAQ_TRAILER_LEN 28
#define CRAQ_MAX_VALUE 1024 /* wire limit; not a build option (the map structs hold this many bytes) */
#define CRAQ_DEFAULT_PORT 7480

enum craq_op {
	CRAQ_OP_READ = 1,
	CRAQ_OP_WRITE = 2,
	CRAQ_OP_DELETE = 3,
	CRAQ_OP_PROPAGATE = 4,
	CRAQ_OP_ACK = 5,
	CRAQ_OP_VERSION_QUERY = 6,
	CRAQ_OP_VERSION_REPLY = 7,
	CRAQ_OP_READ_REPLY = 0x81,
	CRAQ_OP_WRITE_REPLY = 0x82,
	CRAQ_OP_DELETE_REPLY = 0x83,
};

enum craq_status {
	CRAQ_ST_OK = 0,
	CRAQ_ST_NOT_FOUND = 1,
	CRAQ_ST_NOT_PLACED = 2,
	CRAQ_ST_NOT_HEAD = 3,
	CRAQ_ST_RETRY = 4,
	CRAQ_ST_BAD_REQUEST = 5,
};

#define CRAQ_F_FROM_TAIL 0x01
#define CRAQ_F_CLIENT 0x02    /* a struct craq_trailer follows the value padded to 4 */
#define CRAQ_F_TOMBSTONE 0x04 /* PROPAGATE/ACK of a DELETE */
#define CRAQ_F_MASK 0x07

struct craq_hdr {
	__be16 magic;
	__u8 version;
	__u8 op;
	__u8 status;
	__u8 flags;
	__be16 value_len;
	__be64 req_id;
	__be64 key_id;
	__be32 key_check;
	__be32 epoch;
	__be64 ver;
} __attribute__((packed));

/* The client a chain-internal message finally answers. */
struct craq_trailer {
	__u8 family; /* 4 or 6 */
	__u8 pad;
	__be16 port;
	__u8 addr[16];
	__u8 mac[6]; /* L2 source of the client's request */
	__u8 pad2[2];
};

/* --- maps --------------------------------------------------------------------------------- */

/* craq_config.role bits: neither = middle, both = a chain of one. */
#define CRAQ_ROLE_HEAD 0x1
#define CRAQ_ROLE_TAIL 0x2

/* craq_config.flags */
#define CRAQ_CFG_ENABLED 0x1  /* off: every packet is passed */
#define CRAQ_CFG_NETCHAIN 0x2 /* chain replication (NetChain): only the tail answers reads and writes, no ACKs */

/* craq_slot.flags */
#define CRAQ_SLOT_VALID 0x1
#define CRAQ_SLOT_TOMBSTONE 0x2

/* craq_key.flags, written by the scheduler */
#define CRAQ_KEY_HOLD 0x1 /* the head answers every WRITE/DELETE of the key RETRY (placement, repair) */

/* A chain node's addresses (this node, predecessor, successor, tail). */
struct craq_peer {
	__u8 ip6[16];
	__be32 ip4;
	__u8 mac[6];
	__be16 port;
};

/* craq_config[0]: this node's place in the chain, written by the scheduler's node agent. */
struct craq_config {
	__u32 flags;
	__u32 role;
	__u32 epoch;
	__be16 port; /* UDP port served */
	__u16 pad;
	struct craq_peer self;
	struct craq_peer pred;
	struct craq_peer succ;
	struct craq_peer tail;
};

/*
 * At-most-once record (host order): request `req_id` (craq_hdr.req_id) created `version` of the
 * key whose entry holds it. A key's last CRAQ_REQ_RING versions each have one, in
 * craq_key.reqs[version % CRAQ_REQ_RING]: written by every node that stores a version (the head
 * on WRITE/DELETE, the others on PROPAGATE, the scheduler when a repair installs versions), read
 * by the head: a WRITE/DELETE whose req_id one of them names is not applied again
 * (CRAQ_S_DUPLICATE). req_id 0 is never recorded nor matched.
 */
struct craq_req_rec {
	__u64 req_id;
	__u64 version;
};

/*
 * One version of a key's value. `csum` is the 32-bit one's-complement partial sum of value[0..
 * round_up(len, 4)) (zero padded), so replies get their UDP checksum without reading the value.
 */
struct craq_slot {
	__u64 version;
	__u32 csum;
	__u16 len;
	__u8 flags;
	__u8 pad;
	__u64 req_id; /* the request (craq_hdr.req_id) that wrote this version (also in craq_key.reqs) */
	__u8 value[CRAQ_MAX_VALUE + 4];
};

/*
 * A placed key. Version v lives in slots[v % CRAQ_SLOTS]; clean_version is the committed one,
 * versions in (clean_version, last_version] are dirty (at most CRAQ_MAX_DIRTY). Version 0 with
 * no valid slot: the key is placed but has no value (reads answer NOT_FOUND).
 */
struct craq_key {
	__u32 key_check;
	__u32 flags; /* CRAQ_KEY_HOLD */
	__u64 clean_version;
	__u64 last_version;
	__u64 reads;      /* READs received here (heat) */
	__u64 writes;     /* WRITE/DELETE accepted at the head, PROPAGATE stored elsewhere */
	__u64 dirty_full; /* writes refused because CRAQ_MAX_DIRTY versions were unacknowledged */
	struct craq_slot slots[CRAQ_MAX_DIRTY + 1];
	struct craq_req_rec reqs[CRAQ_REQ_RING]; /* at-most-once: reqs[v % CRAQ_REQ_RING] = the request that created version v */
};

/* Record of the `craq_commits` ring buffer: one per commit at the tail (write-through to etcd). */
struct craq_commit {
	__u64 key_id;
	__u64 version;
	__u32 key_check;
	__u32 epoch;
	__u16 value_len;
	__u8 tombstone;
	__u8 pad[5];
	__u8 value[CRAQ_MAX_VALUE];
};

/* Per-CPU packet and byte counter (craq_reasons, craq_stats). */
struct craq_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * Why a packet to the CRAQ port was not answered or forwarded (`craq_reasons`, per CPU). The
 * comment starts with the verdict. Values are ABI: append, never renumber (reasons.ts).
 */
enum craq_reason {
	CRAQ_R_NONE = 0,          /* unused */
	CRAQ_R_DISABLED = 1,      /* pass: the node is not enabled (craq_config.flags) */
	CRAQ_R_NOT_PLACED = 2,    /* pass: a chain message of a key id not in craq_keys (client requests are answered NOT_PLACED) */
	CRAQ_R_KEY_CHECK = 3,     /* pass: key id placed with another key_check (a collision) */
	CRAQ_R_REPLY = 4,         /* pass: a reply op to this host (a client here) */
	CRAQ_R_IP = 5,            /* pass: IPv4 options or fragment, IPv6 extension headers */
	CRAQ_R_TRUNCATED = 6,     /* drop: UDP payload shorter than the header, value or trailer */
	CRAQ_R_BAD_HEADER = 7,    /* drop: magic, version, status of a request or flags invalid */
	CRAQ_R_UNKNOWN_OP = 8,    /* drop: op is not one of the ten */
	CRAQ_R_VALUE_TOO_LARGE = 9, /* drop: value_len over CRAQ_MAX_VALUE, or a value on an op without one */
	CRAQ_R_BAD_LENGTH = 10,   /* drop: UDP length differs from the message length, or beyond the frame */
	CRAQ_R_WRONG_EPOCH = 11,  /* drop: chain-internal message of another epoch */
	CRAQ_R_FORGED = 12,       /* drop: chain-internal message not from the expected neighbour */
	CRAQ_R_NOT_TAIL = 13,     /* drop: VERSION_QUERY at a node that is not the tail */
	CRAQ_R_STALE = 14,        /* drop: PROPAGATE/ACK/VERSION_REPLY of a version already superseded */
	CRAQ_R_DIRTY_FULL = 15,   /* drop: PROPAGATE beyond CRAQ_MAX_DIRTY at a non-head node */
	CRAQ_R_ADJUST = 16,       /* drop: growing/shrinking the frame or copying into it failed */
	CRAQ_R_RINGBUF = 17,      /* drop: craq_commits full; the commit is not made (the client retries) */
	CRAQ_R_NO_ROLE = 18,      /* drop: no successor/predecessor for a chain message (config) */
	CRAQ_R_MAX = 19,
};

/* What the node did (`craq_stats`, per CPU). */
enum craq_stat {
	CRAQ_S_READ_CLEAN = 0,    /* READ answered here from the clean version */
	CRAQ_S_READ_QUERY = 1,    /* READ of a dirty key: VERSION_QUERY sent to the tail */
	CRAQ_S_READ_FORWARD = 2,  /* READ forwarded toward the tail (NetChain) */
	CRAQ_S_READ_VREPLY = 3,   /* READ answered after the tail's VERSION_REPLY */
	CRAQ_S_WRITE = 4,         /* WRITE/DELETE accepted at the head */
	CRAQ_S_NOT_HEAD = 5,      /* WRITE/DELETE at a non-head: NOT_HEAD */
	CRAQ_S_RETRY = 6,         /* answered RETRY (dirty full, busy, version gone) */
	CRAQ_S_PROPAGATE = 7,     /* PROPAGATE stored and forwarded */
	CRAQ_S_COMMIT = 8,        /* version committed at the tail (a craq_commits record); NetChain: the tail answers the client */
	CRAQ_S_ACK = 9,           /* ACK applied */
	CRAQ_S_WRITE_REPLY = 10,  /* WRITE/DELETE_REPLY sent to the client by the head */
	CRAQ_S_VQUERY = 11,       /* VERSION_QUERY answered at the tail */
	CRAQ_S_DUPLICATE = 12,    /* WRITE/DELETE already applied (craq_key.reqs): OK with its version if committed, else RETRY; NetChain: re-sent down the chain, passed on, answered OK by the tail */
	CRAQ_S_NOT_PLACED = 13,   /* READ/WRITE/DELETE of a key id not in craq_keys: answered NOT_PLACED */
	CRAQ_S_MAX = 14,
};

#endif /* CRAQ_KERN_USER_H */
