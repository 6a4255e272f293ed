/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Checksum helpers of xlb on top of bpf/include/netaccel_csum.h (fold, RFC 1624 2-byte
 * update): 4- and 16-byte incremental updates for NAT, the IPv4 header checksum of a header we
 * write, and the local-checksum-offload sum (RFC 7605's LCO idea) that gives an outer UDP
 * checksum without reading the payload.
 *
 * All arithmetic is on values as they sit in memory (network order loaded on a little-endian
 * host): the one's complement sum commutes with byte swapping (RFC 1071 §2(B)), so results are
 * stored back without conversion. Candidates for bpf/include/ once a second program needs them.
 */
#ifndef XLB_CSUM_HELPERS_H
#define XLB_CSUM_HELPERS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netaccel_csum.h"

/* Folds a 64-bit one's complement sum of 16/32-bit words to 16 bits. */
static __always_inline __u16 xlb_csum_fold64(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return na_csum_fold((__u32)sum);
}

/* RFC 1624 eqn. 3 for a 4-byte field: checksum after `from` became `to`. */
static __always_inline __sum16 xlb_csum_replace4(__sum16 check, __be32 from, __be32 to)
{
	__u64 sum = (__u16)~check;

	sum += (__u32)~from;
	sum += to;
	return (__sum16)~xlb_csum_fold64(sum);
}

/* The same for a 16-byte field (an IPv6 address). */
static __always_inline __sum16 xlb_csum_replace16(__sum16 check, const __be32 *from, const __be32 *to)
{
	__u64 sum = (__u16)~check;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		sum += (__u32)~from[i];
		sum += to[i];
	}
	return (__sum16)~xlb_csum_fold64(sum);
}

/* Sum (not inverted) of `words` 4-byte words at p; p must be checked for 4 * words bytes. */
static __always_inline __u64 xlb_csum_words(const __u32 *p, int words)
{
	__u64 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < words; i++)
		sum += p[i];
	return sum;
}

/* Sets the checksum of a 20-byte IPv4 header (no options) that we wrote. */
static __always_inline void xlb_ipv4_csum(struct iphdr *ip)
{
	ip->check = 0;
	ip->check = (__sum16)~xlb_csum_fold64(xlb_csum_words((const __u32 *)ip, 5));
}

/*
 * A UDP checksum after an incremental update: 0 means "no checksum" over IPv4, so a computed
 * 0 goes on the wire as 0xffff (RFC 768).
 */
static __always_inline __sum16 xlb_udp_csum_mangle(__sum16 check)
{
	return check ? check : (__sum16)0xffff;
}

#endif /* XLB_CSUM_HELPERS_H */
