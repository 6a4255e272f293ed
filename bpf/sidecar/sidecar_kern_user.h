/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every struct and enum the sidecar data plane shares with TypeScript (bpf/sidecar/codec.ts,
 * bpf/sidecar/reasons.ts). Plain fixed-size C types only, every member at its natural alignment
 * and every gap an explicit pad member, so the layout is the same for clang's BPF target and for
 * the codecs; sidecar-objects.bpf.test.ts compares the codecs with the BTF of the compiled object
 * and reasons.test.ts compares the enum below with reasons.ts.
 *
 * Byte order: addresses and ports are network order (__be*), as the sockets hold them; every
 * other integer is host order. An IPv4 address is ip[0] with ip[1..3] zero.
 */
#ifndef SIDECAR_KERN_USER_H
#define SIDECAR_KERN_USER_H

/* Longest :path matched, in bytes on the wire (plain or Huffman). Part of the ABI: the size of
 * struct sidecar_path_key. */
#define SIDECAR_MAX_PATH 128
/* grpc-status slots of sidecar_method_stats.status: 0..16, then "unknown". */
#define SIDECAR_STATUS_UNKNOWN 17
#define SIDECAR_STATUS_SLOTS 18
/* Latency histogram: bucket 0 < 1 us, bucket b in [2^(b-1), 2^b) us, the last one open. */
#define SIDECAR_LATENCY_BUCKETS 24
/* Longest grpc-timeout value kept in `streams` (on the wire: at most 8 digits and a unit, 9
 * bytes plain, 7 Huffman-coded). Part of the ABI. */
#define SIDECAR_TIMEOUT_BYTES 12

/* --- enums ------------------------------------------------------------------------------------ */

/* What a policy entry (or config.default_action) says about a method. */
enum sidecar_action {
	SIDECAR_ACTION_NONE = 0,  /* unset: treated as allow */
	SIDECAR_ACTION_ALLOW = 1, /* counted and redirected in the kernel */
	SIDECAR_ACTION_DENY = 2,  /* the connection is handed to user space, which answers PERMISSION_DENIED */
};

/*
 * What happened to a frame (sk_skb) or message (sk_msg), and why a connection is not (or no
 * longer) offloaded; `reason_stats` (per CPU) counts frames and bytes per reason, conns.reason
 * keeps the one that handed a connection to user space. The comment of each entry starts with
 * where the bytes went: "kernel" (redirected to the peer socket), "user" (passed to the socket
 * the proxy reads) or "normal" (not offloaded: the normal TCP path). Values are ABI: append,
 * never renumber.
 */
enum sidecar_reason {
	SIDECAR_REASON_NONE = 0,             /* unused: no reason */
	SIDECAR_REASON_REDIRECTED = 1,       /* kernel: redirected to the peer socket */
	SIDECAR_REASON_NOT_PAIRED = 2,       /* user: the socket has no peer in pairs */
	SIDECAR_REASON_PEER_GONE = 3,        /* user: the peer is not in sock_hash (closed?), redirect failed */
	SIDECAR_REASON_STICKY = 4,           /* user: the connection was handed to user space before */
	SIDECAR_REASON_DENIED = 5,           /* user: the method is denied by the policy */
	SIDECAR_REASON_HPACK_DYNAMIC = 6,    /* user: a dynamic-table index, or indexing before a table size update to 0 */
	SIDECAR_REASON_HPACK_TABLE_SIZE = 7, /* user: a dynamic table size update above 0 */
	SIDECAR_REASON_CONTINUATION = 8,     /* user: a header block continued in CONTINUATION frames */
	SIDECAR_REASON_PATH_TOO_LONG = 9,    /* user: :path longer than SIDECAR_MAX_PATH */
	SIDECAR_REASON_NO_PATH = 10,         /* user: no :path within the fields and bytes scanned */
	SIDECAR_REASON_BAD_HPACK = 11,       /* user: a malformed HPACK integer, string or index 0 */
	SIDECAR_REASON_BAD_PREFACE = 12,     /* user: a request socket that does not start with the client preface */
	SIDECAR_REASON_BAD_FRAME = 13,       /* user: HEADERS on stream 0, padding beyond the frame, a second preface */
	SIDECAR_REASON_SOCKHASH_FULL = 14,   /* normal: sockops could not add the socket to sock_hash */
	SIDECAR_REASON_OFFLOADED = 15,       /* normal: sockops added the socket to sock_hash (connections, bytes 0) */
	SIDECAR_REASON_TOO_MANY_FRAMES = 16, /* user: more frames in one message than SIDECAR_MAX_FRAMES */
	SIDECAR_REASON_CATCH_UP = 17,        /* normal: a SPLICE socket not paired yet, or its peer has not received all it sent through the proxy (not sticky) */
	SIDECAR_REASON_SETTINGS = 18,        /* kernel: a SETTINGS frame rewritten to SETTINGS_HEADER_TABLE_SIZE = 0 (SPLICE) */
	SIDECAR_REASON_TAKEN_BACK = 19,      /* user: the proxy took the socket back (takeback map and its trigger byte: drain, a route timeout) */
	SIDECAR_REASON_MAX = 20,             /* entries of reason_stats */
};

/* --- flags ------------------------------------------------------------------------------------ */

/* sidecar_rule.flags, copied into sidecar_conn.flags by sockops. */
#define SIDECAR_RULE_F_MSG 0x1       /* sk_msg: what the socket sends goes to the peer's receive queue */
#define SIDECAR_RULE_F_H2 0x2        /* sk_skb: what the socket receives is HTTP/2, framed and redirected to the peer's send queue */
#define SIDECAR_RULE_F_REQUESTS 0x4  /* H2: the socket receives requests (client side: preface, policy) */
#define SIDECAR_RULE_F_RESPONSES 0x8 /* H2: the socket receives responses (upstream side: status, latency) */
/* MSG | H2: the proxy relays the connection's first bytes itself and pairs it late (the daemon's
 * mode, README "Splicing"): a send before the pair exists, or before the peer has received every
 * byte this socket sent through the proxy (conns.rx_bytes of the peer == user_bytes of this one),
 * is judged and counted, then takes the normal path without handing the connection over
 * (CATCH_UP); and each SETTINGS frame sent says SETTINGS_HEADER_TABLE_SIZE = 0 (the value is
 * rewritten, or the setting appended), so that neither encoder ever indexes. */
#define SIDECAR_RULE_F_SPLICE 0x10
#define SIDECAR_RULE_F_ALL 0x1F

/* sidecar_conn.flags, set by the kernel. */
#define SIDECAR_CONN_F_USER 0x100         /* handed to user space: every frame passes (sticky) */
#define SIDECAR_CONN_F_PREFACE_DONE 0x200 /* the client preface was seen */
#define SIDECAR_CONN_F_HPACK_CLEAN 0x400  /* a dynamic table size update to 0 was seen */
#define SIDECAR_CONN_F_ACTIVE 0x800       /* the socket connected (else it was accepted) */

/* --- map keys and values ---------------------------------------------------------------------- */

/* A socket by its 4-tuple, seen from the socket (key of sock_hash, conns, pairs, offload_rules).
 * In offload_rules a zero remote (or local) side is a wildcard. */
struct sidecar_sock_key {
	__be32 local_ip[4];
	__be32 remote_ip[4];
	__be16 local_port;
	__be16 remote_port;
	__u8 family; /* 4 or 6 */
	__u8 pad[3]; /* zero */
};

/* Value of offload_rules. */
struct sidecar_rule {
	__u32 flags; /* SIDECAR_RULE_F_* */
	__u32 pad;   /* zero */
};

/* Value of conns: one offloaded socket, created by sockops, updated by the programs. */
struct sidecar_conn {
	__u32 flags;  /* SIDECAR_RULE_F_* | SIDECAR_CONN_F_* */
	__u32 reason; /* enum sidecar_reason that handed it to user space (0 while in the kernel) */
	__u32 stream; /* stream id of the frame that did */
	__u32 method; /* method id of that frame (0: other or unknown) */
	__u32 carry;  /* bytes of a frame the kernel already judged that are still to come */
	__u32 user_skip; /* bytes at the start of what user space got first that end a frame the kernel
			  * forwarded: the proxy forwards them as they are, then reads frames */
	__u64 kernel_frames; /* messages (socket buffers from the stream parser, sk_msg sends) redirected */
	__u64 kernel_bytes;
	__u64 user_frames;   /* passed to the socket's own receive queue (sk_skb), or sent the normal way (sk_msg) */
	__u64 user_bytes;
	__u64 rx_bytes;      /* sk_msg sockets: bytes received through TCP (i.e. from the proxy), counted by the sk_skb verdict */
	__u64 user_from;     /* handed over: offset in the bytes sent the normal way (user_bytes) from which
			      * user space reads whole frames; the bytes before it it forwards as they are */
	__u32 last_stream;   /* request sockets: the highest stream id of a request the kernel counted (in `streams`)
			      * (the last stream id of a GOAWAY the proxy writes after taking the connection back) */
	__u32 pad;           /* zero */
};

/* Key of policy: one byte form of a method path as it appears in a :path string literal. */
struct sidecar_path_key {
	__u16 len;     /* bytes used in `bytes`, 1..SIDECAR_MAX_PATH */
	__u8 huffman;  /* 1: the Huffman-coded form, 0: plain */
	__u8 pad;      /* zero */
	__u8 bytes[SIDECAR_MAX_PATH]; /* zero beyond len */
};

/* Value of policy. */
struct sidecar_policy_value {
	__u32 method; /* method id, 1..SIDECAR_MAX_METHODS-1 (row of method_stats) */
	__u32 action; /* enum sidecar_action */
};

/* Value of sidecar_cfg[0]. */
struct sidecar_config {
	__u32 default_action; /* enum sidecar_action for paths not in policy (method id 0) */
	__u32 generation;     /* bumped by user space at each policy write (after the entries): a policy
			       * decision the programs cached (per CPU) under another generation is not used;
			       * 0 caches nothing */
};

/* Key of streams: a request socket and a stream id. */
struct sidecar_stream_key {
	struct sidecar_sock_key conn;
	__u32 stream;
	__u32 pad; /* zero */
};

/* Value of streams: a request in flight. */
struct sidecar_stream {
	__u64 start_ns;   /* bpf_ktime_get_ns at the request's HEADERS */
	__u32 method;
	__u32 flags;      /* SIDECAR_STREAM_F_* */
	__u8 timeout[SIDECAR_TIMEOUT_BYTES]; /* the request's grpc-timeout value as on the wire (SIDECAR_STREAM_F_TIMEOUT):
					      * plain or Huffman-coded (SIDECAR_STREAM_F_TIMEOUT_HUFF), decoded by user space */
	__u32 timeout_len; /* bytes used in `timeout` */
};

/* sidecar_stream.flags */
#define SIDECAR_STREAM_F_RESPONDED 0x1 /* the response's HEADERS (not trailers-only) went to the client */
#define SIDECAR_STREAM_F_TIMEOUT 0x2      /* the request carried grpc-timeout: its value is in `timeout` */
#define SIDECAR_STREAM_F_TIMEOUT_HUFF 0x4 /* that value is Huffman-coded */

/* Value of method_stats (per CPU, key = method id). */
struct sidecar_method_stats {
	__u64 requests;       /* streams opened (HEADERS allowed) */
	__u64 denied;         /* streams denied (handed to user space) */
	__u64 request_bytes;  /* DATA frame payload, client to server */
	__u64 response_bytes; /* DATA frame payload, server to client */
	__u64 responses;      /* streams ended by the server (END_STREAM) */
	__u64 resets;         /* streams ended by RST_STREAM (either side) */
	__u64 latency_ns_sum; /* over `responses` */
	__u64 status[SIDECAR_STATUS_SLOTS];
	__u64 latency_log2_us[SIDECAR_LATENCY_BUCKETS];
};

/* Value of reason_stats (per CPU, key = enum sidecar_reason). */
struct sidecar_counter {
	__u64 frames;
	__u64 bytes;
};

#endif /* SIDECAR_KERN_USER_H */
