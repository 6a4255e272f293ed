/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Checksums of the PrepareOK the fast-ack builds in place (IPv4 header, UDP over the pseudo
 * header, the UDP header and the 32-byte Paxos header: a fixed 40 bytes), and the one-word
 * update of the flags the quorum wait sets. Sums run over 16-bit words as they sit in memory
 * (network order); the one's-complement sum does not depend on the byte order it is taken in.
 */
#ifndef ELECTRODE_CSUM_H
#define ELECTRODE_CSUM_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netaccel_csum.h"
#include "electrode_kern_user.h"

static __always_inline __u32 el_sum_words(const __u16 *p, __u32 words, __u32 sum)
{
	__u32 i;

#pragma unroll
	for (i = 0; i < 20; i++) {
		if (i < words)
			sum += p[i];
	}
	return sum;
}

/* Checksum of a 20-byte IPv4 header (its check field must be 0). */
static __always_inline __sum16 el_ipv4_csum(const struct iphdr *ip)
{
	return (__sum16)~na_csum_fold(el_sum_words((const __u16 *)ip, 10, 0));
}

/*
 * UDP checksum of a PrepareOK: pseudo header (`pseudo`: the sum of the addresses' words),
 * protocol, UDP length, the UDP header (check 0) and the Paxos header. Never 0 (RFC 768).
 */
static __always_inline __sum16 el_ack_udp_csum(__u32 pseudo, const struct udphdr *udp, const struct paxos_hdr *hdr)
{
	__u32 sum = pseudo + bpf_htons(17) + udp->len;
	__sum16 csum;

	sum = el_sum_words((const __u16 *)udp, 4, sum);
	sum = el_sum_words((const __u16 *)hdr, 16, sum);
	csum = (__sum16)~na_csum_fold(sum);
	return csum ? csum : (__sum16)0xFFFF;
}

/* Sum of the words of an address of `len` bytes (4 or 16). */
static __always_inline __u32 el_addr_sum(const __u16 *a, __u32 len)
{
	return el_sum_words(a, len / 2, 0);
}

/*
 * UDP checksum after one 16-bit word of the covered data changed. A zero checksum (IPv4: none
 * computed) stays zero; a result of zero is sent as 0xFFFF.
 */
static __always_inline __sum16 el_udp_csum_replace2(__sum16 check, __be16 from, __be16 to)
{
	__sum16 out;

	if (!check)
		return 0;
	out = na_csum_replace2(check, from, to);
	return out ? out : (__sum16)0xFFFF;
}

#endif /* ELECTRODE_CSUM_H */
