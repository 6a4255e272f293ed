/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow hashing for xlb: Linux's jhash (Bob Jenkins' lookup3, include/linux/jhash.h) and the
 * hashes built on it. bpf/xlb/flow-hash.ts implements the same functions so that tests,
 * benchmarks and the controller can predict table positions, NAT ports and outer sources.
 *
 *   words of a flow: addresses and ports as loaded from the packet (network byte order read as
 *   little-endian u32), ports = sport | dport << 16 (the two __be16 values as loaded)
 *   flow hash (5-tuple):  IPv4 jhash_3words(src, dst, ports, seed ^ proto)
 *                         IPv6 jhash_3words(jhash2(src, 4, seed), jhash2(dst, 4, seed), ports, seed ^ proto)
 *   source hash:          IPv4 jhash_1word(src, seed); IPv6 jhash2(src, 4, seed)
 */
#ifndef XLB_HELPERS_H
#define XLB_HELPERS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xlb_consts.h"
#include "xlb_kern_user.h"

/* Branch hints: clang lays the likely side out as the fall-through, so the hot paths stay together. */
#define xlb_likely(x) __builtin_expect(!!(x), 1)
#define xlb_unlikely(x) __builtin_expect(!!(x), 0)

#define XLB_JHASH_INITVAL 0xdeadbeefU

static __always_inline __u32 xlb_rol32(__u32 word, unsigned int shift)
{
	return (word << shift) | (word >> ((-shift) & 31));
}

#define xlb_jhash_mix(a, b, c)                         \
	do {                                           \
		a -= c; a ^= xlb_rol32(c, 4); c += b;  \
		b -= a; b ^= xlb_rol32(a, 6); a += c;  \
		c -= b; c ^= xlb_rol32(b, 8); b += a;  \
		a -= c; a ^= xlb_rol32(c, 16); c += b; \
		b -= a; b ^= xlb_rol32(a, 19); a += c; \
		c -= b; c ^= xlb_rol32(b, 4); b += a;  \
	} while (0)

#define xlb_jhash_final(a, b, c)                 \
	do {                                     \
		c ^= b; c -= xlb_rol32(b, 14);   \
		a ^= c; a -= xlb_rol32(c, 11);   \
		b ^= a; b -= xlb_rol32(a, 25);   \
		c ^= b; c -= xlb_rol32(b, 16);   \
		a ^= c; a -= xlb_rol32(c, 4);    \
		b ^= a; b -= xlb_rol32(a, 14);   \
		c ^= b; c -= xlb_rol32(b, 24);   \
	} while (0)

/* jhash2 of exactly four words (an IPv6 address). */
static __always_inline __u32 xlb_jhash_4words(const __u32 *k, __u32 initval)
{
	__u32 a, b, c;

	a = b = c = XLB_JHASH_INITVAL + (4 << 2) + initval;
	a += k[0];
	b += k[1];
	c += k[2];
	xlb_jhash_mix(a, b, c);
	a += k[3];
	xlb_jhash_final(a, b, c);
	return c;
}

static __always_inline __u32 xlb_jhash_nwords(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	a += initval;
	b += initval;
	c += initval;
	xlb_jhash_final(a, b, c);
	return c;
}

static __always_inline __u32 xlb_jhash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	return xlb_jhash_nwords(a, b, c, initval + XLB_JHASH_INITVAL + (3 << 2));
}

static __always_inline __u32 xlb_jhash_1word(__u32 a, __u32 initval)
{
	return xlb_jhash_nwords(a, 0, 0, initval + XLB_JHASH_INITVAL + (1 << 2));
}

/* The 5-tuple hash of a flow key with `seed`. */
static __always_inline __u32 xlb_flow_hash(const struct xlb_flow_key *f, __u32 seed)
{
	__u32 ports = (__u32)f->sport | ((__u32)f->dport << 16);

	if (f->family == 6)
		return xlb_jhash_3words(xlb_jhash_4words(f->src, seed), xlb_jhash_4words(f->dst, seed), ports,
					seed ^ f->proto);
	return xlb_jhash_3words(f->src[0], f->dst[0], ports, seed ^ f->proto);
}

/* The source-address hash of a flow key (XLB_VIP_F_HASH_SRC_ONLY). */
static __always_inline __u32 xlb_src_hash(const struct xlb_flow_key *f, __u32 seed)
{
	if (f->family == 6)
		return xlb_jhash_4words(f->src, seed);
	return xlb_jhash_1word(f->src[0], seed);
}

static __always_inline bool xlb_addr_eq(const __be32 *a, const __be32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static __always_inline void xlb_addr_copy(__be32 *dst, const __be32 *src)
{
	dst[0] = src[0];
	dst[1] = src[1];
	dst[2] = src[2];
	dst[3] = src[3];
}

/*
 * MACs as three 16-bit words: every MAC of xlb sits at an even offset (Ethernet headers, map
 * values, the stack copies of xlb_xdp, aligned(2)), so these are three loads and stores where a
 * 6-byte memcpy of u8 arrays is six of each.
 */
static __always_inline bool xlb_mac_is_zero(const __u8 *mac)
{
	const __u16 *w = (const __u16 *)mac;

	return (w[0] | w[1] | w[2]) == 0;
}

static __always_inline void xlb_mac_copy(__u8 *dst, const __u8 *src)
{
	__u16 *d = (__u16 *)dst;
	const __u16 *s = (const __u16 *)src;

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
}

#endif /* XLB_HELPERS_H */
