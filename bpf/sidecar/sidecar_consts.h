/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Build-time constants of the sidecar programs (override with make DEFINES='-D...') and the
 * HTTP/2 / HPACK protocol constants they use. */
#ifndef SIDECAR_CONSTS_H
#define SIDECAR_CONSTS_H

#ifndef SIDECAR_MAX_SOCKS
#define SIDECAR_MAX_SOCKS 65536 /* entries of sock_hash, conns, pairs, offload_rules */
#endif
#ifndef SIDECAR_MAX_METHODS
#define SIDECAR_MAX_METHODS 1024 /* method ids (0 = other) */
#endif
#ifndef SIDECAR_MAX_STREAMS
#define SIDECAR_MAX_STREAMS 65536 /* requests in flight tracked for latency */
#endif
/* Header-block bytes scanned for :path / grpc-status. A power of two: indexes are masked. */
#ifndef SIDECAR_MAX_HBLOCK
#define SIDECAR_MAX_HBLOCK 256
#endif
/* Longest frame payload framed in the kernel: SETTINGS_MAX_FRAME_SIZE's default (RFC 9113). */
#ifndef SIDECAR_MAX_FRAME_LEN
#define SIDECAR_MAX_FRAME_LEN 16384
#endif
/* Frames walked in one message (a socket buffer, or buffers the parser held together). */
#ifndef SIDECAR_MAX_FRAMES
#define SIDECAR_MAX_FRAMES 256 /* a burst of 128 calls (HEADERS + DATA each) in one write */
#endif
/* Settings of one SETTINGS frame looked at for SETTINGS_HEADER_TABLE_SIZE (SPLICE). A frame with
 * more is left as it is (the encoders may then index: the kernel hands such a block over). */
#ifndef SIDECAR_MAX_SETTINGS
#define SIDECAR_MAX_SETTINGS 8
#endif
#ifndef SIDECAR_MAX_TIMEOUT_FIELDS
#define SIDECAR_MAX_TIMEOUT_FIELDS 6 /* header fields after :path walked for grpc-timeout (8 is over the sk_msg verifier budget) */
#endif
#ifndef SIDECAR_MAX_FIELDS
#define SIDECAR_MAX_FIELDS 16 /* header fields walked per block */
#endif

/* Largest offset read in place in a linear send (pointer arithmetic on packet data is bounded). */
#define SIDECAR_MAX_LINEAR_OFF 0xffff

/* Slots of the per-CPU `scratch`: sk_msg runs in the sender's process context, the sk_skb
 * verdict in softirq, which can interrupt it on the same CPU: each has its own. */
#define SIDECAR_SLOT_MSG 0
#define SIDECAR_SLOT_SKB 1

#define SIDECAR_HBLOCK_MASK (SIDECAR_MAX_HBLOCK - 1)
_Static_assert((SIDECAR_MAX_HBLOCK & SIDECAR_HBLOCK_MASK) == 0, "SIDECAR_MAX_HBLOCK must be a power of two");

/* HTTP/2 (RFC 9113) */
#define H2_FRAME_HEADER_LEN 9
#define H2_PREFACE_LEN 24
#define H2_FRAME_DATA 0x0
#define H2_FRAME_HEADERS 0x1
#define H2_FRAME_RST_STREAM 0x3
#define H2_FRAME_SETTINGS 0x4
#define H2_SETTINGS_HEADER_TABLE_SIZE 0x1
#define H2_SETTING_LEN 6
#define H2_FLAG_ACK 0x1
#define H2_FLAG_END_STREAM 0x1
#define H2_FLAG_END_HEADERS 0x4
#define H2_FLAG_PADDED 0x8
#define H2_FLAG_PRIORITY 0x20

/* HPACK (RFC 7541) */
#define HPACK_STATIC_ENTRIES 61
#define HPACK_IDX_PATH_ROOT 4  /* :path / */
#define HPACK_IDX_PATH_INDEX 5 /* :path /index.html */

#define AF_INET 2
#define AF_INET6 10

/* sidecar_scratch.set_kind */
#define SIDECAR_SET_NONE 0
#define SIDECAR_SET_ZERO 1
#define SIDECAR_SET_APPEND 2

/* What sidecar_hpack_scan looks for. */
#define SIDECAR_WANT_PATH 1
#define SIDECAR_WANT_STATUS 2
#define SIDECAR_WANT_TIMEOUT 3

#endif /* SIDECAR_CONSTS_H */
