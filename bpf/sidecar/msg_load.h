/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading bytes of the message being judged, the same way for both hooks: an sk_skb socket
 * buffer (bpf_skb_load_bytes) or an sk_msg send (bpf_msg_pull_data, then a checked copy into the
 * per-CPU scratch). Callers pass `is_msg` as a constant, so each program compiles one branch.
 */
#ifndef MSG_LOAD_H
#define MSG_LOAD_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sidecar_consts.h"
#include "sidecar_structs.h"
#include "sidecar_maps.h"

#define SIDECAR_COPY_TMP 0
#define SIDECAR_COPY_BLOCK 1
#define SIDECAR_COPY_PATH 2

/*
 * Copies `n` bytes (1..SIDECAR_MAX_HBLOCK) at `off` of an sk_msg into the scratch: its `tmp`,
 * `block` or `path.bytes`. In a send whose bytes are one linear run (s->linear: the usual case,
 * a send of one sk_msg element) they are read in place; otherwise bpf_msg_pull_data makes them
 * linear at msg->data. Checked against data_end as a whole, then one bpf_probe_read_kernel copies
 * them (a byte loop cost ~7 % of the kernel lane's CPU at 140k calls/s, and its 256 iterations a
 * share of the verifier's budget). Global: verified once.
 */
__noinline int sidecar_msg_copy(struct sk_msg_md *msg, __u32 off, __u32 n, __u32 where)
{
	struct sidecar_scratch *s;
	__u32 zero = 0;
	void *data, *end;

	if (!msg || n == 0 || n > SIDECAR_MAX_HBLOCK)
		return -1;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return -1;
	if (s->linear && off <= SIDECAR_MAX_LINEAR_OFF) {
		data = (void *)(long)msg->data;
		data += off;
	} else {
		if (bpf_msg_pull_data(msg, off, off + n, 0))
			return -1;
		s->linear = 0;
		data = (void *)(long)msg->data;
	}
	end = (void *)(long)msg->data_end;
	if (data + n > end)
		return -1;
	if (where == SIDECAR_COPY_BLOCK) {
		if (n > sizeof(s->block))
			return -1;
		return bpf_probe_read_kernel(s->block, n, data) ? -1 : 0;
	}
	if (where == SIDECAR_COPY_PATH) {
		if (n > sizeof(s->path.bytes))
			return -1;
		return bpf_probe_read_kernel(s->path.bytes, n, data) ? -1 : 0;
	}
	if (n > sizeof(s->tmp))
		return -1;
	return bpf_probe_read_kernel(s->tmp, n, data) ? -1 : 0;
}

/* `n` bytes at `off` of the message into a scratch field `where` (the sk_msg way) or into `dst`
 * (the sk_skb way, `dst` being that same field). `is_msg` is a constant: one branch is compiled. */
static __always_inline long sidecar_load(void *ctx, int is_msg, __u32 off, void *dst, __u32 n, __u32 where)
{
	if (is_msg)
		return sidecar_msg_copy(ctx, off, n, where);
	return bpf_skb_load_bytes(ctx, off, dst, n);
}

/* A small constant-size read (frame header, pad length, preface) into `dst` on the stack. */
static __always_inline long sidecar_load_small(void *ctx, int is_msg, __u32 off, __u8 *dst, __u32 n)
{
	struct sidecar_scratch *s;
	__u32 zero = 0, i;

	if (!is_msg)
		return bpf_skb_load_bytes(ctx, off, dst, n);
	if (sidecar_msg_copy(ctx, off, n, SIDECAR_COPY_TMP))
		return -1;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return -1;
	for (i = 0; i < n && i < sizeof(s->tmp); i++)
		dst[i] = s->tmp[i];
	return 0;
}

/*
 * Writes the first `n` bytes (1..8) of the scratch's `tmp` at `off` of an sk_msg (the SETTINGS
 * fix of SPLICE sends). Global: verified once.
 */
__noinline int sidecar_msg_write(struct sk_msg_md *msg, __u32 off, __u32 n)
{
	struct sidecar_scratch *s;
	__u32 zero = 0, i;
	void *data, *end;

	if (!msg || n == 0 || n > 8)
		return -1;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return -1;
	if (bpf_msg_pull_data(msg, off, off + n, 0))
		return -1;
	s->linear = 0; /* msg->data now starts at `off` */
	data = (void *)(long)msg->data;
	end = (void *)(long)msg->data_end;
	for (i = 0; i < 8; i++) {
		__u8 *p = data + i;

		if (i >= n)
			break;
		if ((void *)(p + 1) > end)
			return -1;
		*p = s->tmp[i];
	}
	return 0;
}

/*
 * The SETTINGS fix found by the walk (scratch set_kind): the HEADER_TABLE_SIZE value made 0, or
 * the setting HEADER_TABLE_SIZE = 0 appended to the frame (its length + 6). Returns the bytes
 * added (0 or 6), or -1 when the message could not be changed (left as it was, or with the
 * setting appended but the length not updated: never, as both writes are to pulled bytes).
 */
__noinline int sidecar_msg_fix_settings(struct sk_msg_md *msg)
{
	struct sidecar_scratch *s;
	__u32 zero = 0, kind, at, len, i;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!msg || !s)
		return -1;
	kind = s->set_kind;
	at = s->set_at;
	len = s->set_len;
	if (kind == SIDECAR_SET_ZERO) {
		for (i = 0; i < 4; i++)
			s->tmp[i] = 0;
		return sidecar_msg_write(msg, at, 4) ? -1 : 0;
	}
	if (kind != SIDECAR_SET_APPEND || len > SIDECAR_MAX_FRAME_LEN - H2_SETTING_LEN)
		return 0;
	if (bpf_msg_push_data(msg, at + H2_FRAME_HEADER_LEN + len, H2_SETTING_LEN, 0))
		return -1;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return -1;
	s->linear = 0; /* the send's elements changed */
	for (i = 0; i < H2_SETTING_LEN; i++)
		s->tmp[i] = 0;
	s->tmp[1] = H2_SETTINGS_HEADER_TABLE_SIZE;
	if (sidecar_msg_write(msg, at + H2_FRAME_HEADER_LEN + len, H2_SETTING_LEN))
		return -1;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return -1;
	len += H2_SETTING_LEN;
	s->tmp[0] = (len >> 16) & 0xff;
	s->tmp[1] = (len >> 8) & 0xff;
	s->tmp[2] = len & 0xff;
	if (sidecar_msg_write(msg, at, 3))
		return -1;
	return H2_SETTING_LEN;
}

#endif /* MSG_LOAD_H */
