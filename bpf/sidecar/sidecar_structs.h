/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Kernel-only structs of the sidecar programs. */
#ifndef SIDECAR_STRUCTS_H
#define SIDECAR_STRUCTS_H

#include "vmlinux.h"
#include "sidecar_kern_user.h"
#include "sidecar_consts.h"

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
};

#endif /* SIDECAR_STRUCTS_H */
