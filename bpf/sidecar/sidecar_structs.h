/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Kernel-only structs of the sidecar programs. */
#ifndef SIDECAR_STRUCTS_H
#define SIDECAR_STRUCTS_H

#include "vmlinux.h"
#include "sidecar_kern_user.h"
#include "sidecar_consts.h"

/* What a judged frame does to the telemetry (sidecar_event.kind). */
#define SIDECAR_EV_REQUEST 1       /* a request's HEADERS allowed: the stream opened, method in `value` */
#define SIDECAR_EV_DATA 2          /* DATA: payload bytes for the stream's method; a response's END_STREAM ends it */
#define SIDECAR_EV_RESPONSE 3      /* a response's HEADERS without END_STREAM: the stream marked responded */
#define SIDECAR_EV_RESPONSE_END 4  /* a response's HEADERS with END_STREAM: grpc-status in `value`, the stream ends */
#define SIDECAR_EV_RESET 5         /* RST_STREAM */

/* One frame's telemetry, recorded by the walk that judges a message and applied once the whole
 * message is judged (sidecar_apply_events): the frames are read once, the maps touched once per
 * stream event. */
struct sidecar_event {
	__u32 sid;
	__u32 flen;
	__u32 value;      /* REQUEST: method id; RESPONSE_END: grpc-status */
	__u8 kind;        /* SIDECAR_EV_* */
	__u8 flags;       /* the frame's flags */
	__u8 timeout_len; /* REQUEST: grpc-timeout bytes in `timeout` (0: none) */
	__u8 timeout_huff;
	__u8 timeout[SIDECAR_TIMEOUT_BYTES];
};

/* Per-CPU scratch of the verdict (the `scratch` map). */
struct sidecar_scratch {
	__u8 block[SIDECAR_MAX_HBLOCK];   /* the first bytes of a header block */
	struct sidecar_path_key path;     /* the policy key being built */
	/* sidecar_hpack_scan's inputs and results */
	__u32 clean;       /* in/out: a dynamic table size update to 0 was seen */
	__u32 found_pos;   /* offset of the wanted value's string bytes in the block */
	__u32 found_len;   /* its length on the wire */
	__u32 found_huff;  /* 1: Huffman-coded */
	__u32 found_index; /* 4 or 5: :path was a static indexed field (no literal value) */
	/* sidecar_frame_at's results besides its return value */
	__u32 result_stream;
	__u32 result_method;
	/* the SETTINGS fix of a SPLICE send (sidecar_settings_scan): set_kind 0 nothing to do,
	 * SIDECAR_SET_ZERO the value at set_at is made 0, SIDECAR_SET_APPEND the setting is appended
	 * to the frame at set_at (payload set_len bytes) */
	__u32 set_kind;
	__u32 set_at;
	__u32 set_len;
	__u32 pad;
	__u8 tmp[32];      /* small reads of an sk_msg (frame header, preface) */
	/* the message being walked, set once by its program before the walk (not per frame) */
	struct sidecar_sock_key key;  /* the socket's own tuple */
	struct sidecar_sock_key peer; /* its pair, when has_peer */
	__u32 conn_flags;  /* its conns flags at the start of the walk */
	__u32 has_peer;
	__u32 walk_clean;  /* in/out: HPACK_CLEAN over the walk (the program sets the conn's flag) */
	__u32 last_stream; /* in/out: the highest request stream id counted (conns.last_stream) */
	__u32 nev;         /* events recorded */
	__u32 linear;      /* sk_msg: the send's bytes are one linear run from msg->data (as at the program's
			    * start), read in place without bpf_msg_pull_data; 0 once anything pulled */
	/* the stream the last applied event touched, so that its next frame in the same message
	 * needs no `streams` lookup (cache_sid 0: none) */
	__u32 cache_sid;
	__u32 cache_method;
	__u64 cache_start_ns;
	/* the last policy decision of this CPU (sidecar_policy_decide): the path key looked up, under
	 * sidecar_cfg's generation pc_gen (0: none), and what `policy` / the default said */
	struct sidecar_path_key pc_key __attribute__((aligned(8)));
	__u32 pc_gen;
	__u32 pc_method;
	__u32 pc_action;
	__u32 pc_pad;
	struct sidecar_event ev[SIDECAR_MAX_FRAMES];
};

#endif /* SIDECAR_STRUCTS_H */
