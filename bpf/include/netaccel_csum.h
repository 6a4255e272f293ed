/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Internet checksum (RFC 1071) helpers for in-place header rewrites. */
#ifndef NETACCEL_CSUM_H
#define NETACCEL_CSUM_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Folds a 32-bit one's-complement sum to 16 bits. */
static __always_inline __u16 na_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * Incremental update (RFC 1624, eqn. 3) of checksum `check` when one 16-bit word of the
 * covered data changes from `from` to `to`. All three in the same (network) byte order.
 */
static __always_inline __sum16 na_csum_replace2(__sum16 check, __be16 from, __be16 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from;
	sum += to;
	return (__sum16)~na_csum_fold(sum);
}

#endif /* NETACCEL_CSUM_H */
