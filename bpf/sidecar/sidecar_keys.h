/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Socket keys from the three contexts (sock_ops, __sk_buff, sk_msg_md) and the reverse of a key;
 * no maps, so that an object with maps of its own (redirect_probe.bpf.c) can use them. In all
 * three contexts, local_port is host order and remote_port holds the network-order port in its
 * upper 16 bits on little-endian machines (the kernel loads skc_dport and shifts it).
 */
#ifndef SIDECAR_KEYS_H
#define SIDECAR_KEYS_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include "sidecar_kern_user.h"
#include "sidecar_consts.h"

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

#endif /* SIDECAR_KEYS_H */
