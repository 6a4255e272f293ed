/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Bounds-checked access to packet data. Every header is taken through a cursor that checks it
 * against data_end before the pointer is handed out, so the verifier sees one check per header
 * and no caller can forget it.
 */
#ifndef NETACCEL_HELPERS_H
#define NETACCEL_HELPERS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* A read position in a packet: [pos, end) is what is left to parse. */
struct na_cursor {
	void *pos;
	void *end;
};

static __always_inline void na_cursor_init_xdp(struct na_cursor *c, struct xdp_md *ctx)
{
	c->pos = (void *)(long)ctx->data;
	c->end = (void *)(long)ctx->data_end;
}

/*
 * Returns the next `len` bytes and moves past them, or NULL when fewer are left. `len` must be
 * a constant or a value the verifier can bound (e.g. a 4-bit field times 4).
 */
static __always_inline void *na_cursor_pull(struct na_cursor *c, __u32 len)
{
	void *p = c->pos;

	if (p + len > c->end)
		return NULL;
	c->pos = p + len;
	return p;
}

/* na_cursor_pull for one header of type `type`. */
#define NA_PULL(c, type) ((type *)na_cursor_pull((c), sizeof(type)))

/* Bytes between the start of the packet and its end, for byte counters. */
static __always_inline __u64 na_xdp_len(const struct xdp_md *ctx)
{
	return (__u64)(ctx->data_end - ctx->data);
}

#endif /* NETACCEL_HELPERS_H */
