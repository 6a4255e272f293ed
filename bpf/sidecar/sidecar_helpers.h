/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Socket keys from the three contexts (sock_ops, __sk_buff, sk_msg_md) and the hand-off to
 * user space. In all three, local_port is host order and remote_port holds the network-order
 * port in its upper 16 bits on little-endian machines (the kernel loads skc_dport and shifts it).
 */
#ifndef SIDECAR_HELPERS_H
#define SIDECAR_HELPERS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sidecar_kern_user.h"
#include "sidecar_consts.h"
#include "sidecar_maps.h"

static __always_inline __be16 sidecar_remote_port(__u32 ctx_port)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__be16)(ctx_port >> 16);
#else
	return (__be16)ctx_port;
#endif
}

/* Fills `k` from a context with the fields family, local_ip4/6, remote_ip4/6, local_port,
 * remote_port; 0, or -1 for a family other than IPv4/IPv6. */
#define SIDECAR_KEY_FROM(ctx, k)                                                       \
	({                                                                             \
		int __r = 0;                                                           \
		__builtin_memset((k), 0, sizeof(*(k)));                                \
		if ((ctx)->family == AF_INET) {                                        \
			(k)->family = 4;                                               \
			(k)->local_ip[0] = (ctx)->local_ip4;                           \
			(k)->remote_ip[0] = (ctx)->remote_ip4;                         \
		} else if ((ctx)->family == AF_INET6) {                                \
			(k)->family = 6;                                               \
			(k)->local_ip[0] = (ctx)->local_ip6[0];                        \
			(k)->local_ip[1] = (ctx)->local_ip6[1];                        \
			(k)->local_ip[2] = (ctx)->local_ip6[2];                        \
			(k)->local_ip[3] = (ctx)->local_ip6[3];                        \
			(k)->remote_ip[0] = (ctx)->remote_ip6[0];                      \
			(k)->remote_ip[1] = (ctx)->remote_ip6[1];                      \
			(k)->remote_ip[2] = (ctx)->remote_ip6[2];                      \
			(k)->remote_ip[3] = (ctx)->remote_ip6[3];                      \
		} else {                                                               \
			__r = -1;                                                      \
		}                                                                      \
		(k)->local_port = bpf_htons((__u16)(ctx)->local_port);                 \
		(k)->remote_port = sidecar_remote_port((ctx)->remote_port);            \
		__r;                                                                   \
	})

/* The same connection seen from its other end (Merbridge's default peer of an sk_msg socket). */
static __always_inline void sidecar_reverse(const struct sidecar_sock_key *k, struct sidecar_sock_key *out)
{
	__builtin_memset(out, 0, sizeof(*out));
	out->family = k->family;
	out->local_ip[0] = k->remote_ip[0];
	out->local_ip[1] = k->remote_ip[1];
	out->local_ip[2] = k->remote_ip[2];
	out->local_ip[3] = k->remote_ip[3];
	out->remote_ip[0] = k->local_ip[0];
	out->remote_ip[1] = k->local_ip[1];
	out->remote_ip[2] = k->local_ip[2];
	out->remote_ip[3] = k->local_ip[3];
	out->local_port = k->remote_port;
	out->remote_port = k->local_port;
}

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
