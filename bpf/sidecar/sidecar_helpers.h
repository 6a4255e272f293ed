/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The hand-off to user space; the socket keys are in sidecar_keys.h. */
#ifndef SIDECAR_HELPERS_H
#define SIDECAR_HELPERS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sidecar_kern_user.h"
#include "sidecar_consts.h"
#include "sidecar_maps.h"
#include "sidecar_keys.h"

/* Marks a socket's conns entry as handed to user space (first reason wins). */
static __always_inline void sidecar_mark_user(struct sidecar_conn *conn, __u32 reason, __u32 stream, __u32 method)
{
	if (conn->flags & SIDECAR_CONN_F_USER)
		return;
	conn->flags |= SIDECAR_CONN_F_USER;
	conn->reason = reason;
	conn->stream = stream;
	conn->method = method;
}

/*
 * Hands a socket and its peer to user space: both marked (first reason wins), and where the
 * proxy starts reading whole frames in the bytes each sends the normal way (user_from): this
 * socket after `skip` bytes of the message being passed, the peer after the rest of the frame it
 * is in the middle of (its carry).
 */
static __always_inline void sidecar_hand_over(struct sidecar_conn *conn, const struct sidecar_sock_key *peer, __u32 reason, __u32 sid,
					      __u32 method, __u32 skip)
{
	struct sidecar_conn *pc;

	if (!(conn->flags & SIDECAR_CONN_F_USER)) {
		conn->user_skip = skip;
		conn->user_from = conn->user_bytes + skip;
	}
	sidecar_mark_user(conn, reason, sid, method);
	conn->carry = 0;
	if (!peer)
		return;
	pc = bpf_map_lookup_elem(&conns, peer);
	if (!pc || (pc->flags & SIDECAR_CONN_F_USER))
		return;
	pc->user_skip = pc->carry;
	pc->user_from = pc->user_bytes + pc->carry;
	sidecar_mark_user(pc, reason, sid, method);
}

#endif /* SIDECAR_HELPERS_H */
