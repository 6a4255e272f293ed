/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * HPACK (RFC 7541) without a dynamic table: walks the fields of a header block copied into the
 * per-CPU scratch and finds :path (request) or grpc-status (response). Every index into the
 * block is masked to its size and checked against the bytes loaded; every loop is bounded.
 * README.md, "HPACK", says which representations are decided and which go to user space.
 */
#ifndef H2_PARSING_H
#define H2_PARSING_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sidecar_kern_user.h"
#include "sidecar_consts.h"
#include "sidecar_structs.h"

/* Literal header names the programs look for, plain and Huffman-coded (huffman.test.ts checks
 * the Huffman forms against the encoder). */
#define H2_NAME_PATH_LEN 5          /* ":path" */
#define H2_NAME_PATH_HUFF_LEN 4     /* b9 58 d3 3f */
#define H2_NAME_STATUS_LEN 11       /* "grpc-status" */
#define H2_NAME_STATUS_HUFF_LEN 8   /* 9a ca c8 b2 12 34 da 8f */
#define H2_NAME_TIMEOUT_LEN 12      /* "grpc-timeout" */
#define H2_NAME_TIMEOUT_HUFF_LEN 9  /* 9a ca c8 b2 4d 49 4f 6a 7f */

static const __u8 h2_name_path[H2_NAME_PATH_LEN] = { ':', 'p', 'a', 't', 'h' };
static const __u8 h2_name_path_huff[H2_NAME_PATH_HUFF_LEN] = { 0xb9, 0x58, 0xd3, 0x3f };
static const __u8 h2_name_status[H2_NAME_STATUS_LEN] = { 'g', 'r', 'p', 'c', '-', 's', 't', 'a', 't', 'u', 's' };
static const __u8 h2_name_status_huff[H2_NAME_STATUS_HUFF_LEN] = { 0x9a, 0xca, 0xc8, 0xb2, 0x12, 0x34, 0xda, 0x8f };
static const __u8 h2_name_timeout[H2_NAME_TIMEOUT_LEN] = { 'g', 'r', 'p', 'c', '-', 't', 'i', 'm', 'e', 'o', 'u', 't' };
static const __u8 h2_name_timeout_huff[H2_NAME_TIMEOUT_HUFF_LEN] = { 0x9a, 0xca, 0xc8, 0xb2, 0x4d, 0x49, 0x4f, 0x6a, 0x7f };

static __always_inline __u8 h2_byte(const struct sidecar_scratch *s, __u32 pos)
{
	return s->block[pos & SIDECAR_HBLOCK_MASK];
}

/*
 * An HPACK integer with a `prefix`-bit prefix at *pos (RFC 7541 5.1), at most 3 continuation
 * bytes (values below 2^21 + prefix). 0 and *pos moved past it, or -1 when it runs past `n`.
 */
static __always_inline int h2_int(const struct sidecar_scratch *s, __u32 *pos, __u32 n, __u32 prefix, __u32 *out)
{
	__u32 p = *pos;
	__u32 mask = (1U << prefix) - 1;
	__u32 v, shift = 0;

	if (p >= n)
		return -1;
	v = h2_byte(s, p) & mask;
	p++;
	if (v == mask) {
		int i;

		for (i = 0; i < 3; i++) {
			__u8 b;

			if (p >= n)
				return -1;
			b = h2_byte(s, p);
			p++;
			v += (__u32)(b & 0x7f) << shift;
			shift += 7;
			if (!(b & 0x80))
				goto done;
		}
		return -1;
	}
done:
	*pos = p;
	*out = v;
	return 0;
}

/* Whether the `len` bytes at `pos` (all loaded) equal `lit`. */
static __always_inline int h2_equal(const struct sidecar_scratch *s, __u32 pos, const __u8 *lit, __u32 len)
{
	__u32 i;

	for (i = 0; i < len; i++) {
		if (h2_byte(s, pos + i) != lit[i])
			return 0;
	}
	return 1;
}

/* Whether a literal name (at pos, `len` bytes, Huffman or not, all loaded) is the one wanted. */
static __always_inline int h2_name_is(const struct sidecar_scratch *s, __u32 pos, __u32 len, __u32 huff, __u32 want)
{
	if (want == SIDECAR_WANT_PATH) {
		if (!huff && len == H2_NAME_PATH_LEN)
			return h2_equal(s, pos, h2_name_path, H2_NAME_PATH_LEN);
		if (huff && len == H2_NAME_PATH_HUFF_LEN)
			return h2_equal(s, pos, h2_name_path_huff, H2_NAME_PATH_HUFF_LEN);
		return 0;
	}
	if (!huff && len == H2_NAME_STATUS_LEN)
		return h2_equal(s, pos, h2_name_status, H2_NAME_STATUS_LEN);
	if (huff && len == H2_NAME_STATUS_HUFF_LEN)
		return h2_equal(s, pos, h2_name_status_huff, H2_NAME_STATUS_HUFF_LEN);
	return 0;
}

/* Whether a literal name (as for h2_name_is) is grpc-timeout. */
static __always_inline int h2_name_is_timeout(const struct sidecar_scratch *s, __u32 pos, __u32 len, __u32 huff)
{
	if (!huff && len == H2_NAME_TIMEOUT_LEN)
		return h2_equal(s, pos, h2_name_timeout, H2_NAME_TIMEOUT_LEN);
	if (huff && len == H2_NAME_TIMEOUT_HUFF_LEN)
		return h2_equal(s, pos, h2_name_timeout_huff, H2_NAME_TIMEOUT_HUFF_LEN);
	return 0;
}

/*
 * Walks at most SIDECAR_MAX_FIELDS fields of the block in s->block (`n` bytes loaded, `total`
 * bytes in the block) looking for `want`. 0 when found (s->found_*), else the enum
 * sidecar_reason that makes the block undecidable. s->clean is the connection's HPACK_CLEAN
 * on entry and is set when the block starts with a size update to 0.
 */
static __always_inline int h2_scan(struct sidecar_scratch *s, __u32 n, __u32 total, __u32 want)
{
	__u32 pos = 0;
	int i;

	if (!s)
		return SIDECAR_REASON_BAD_HPACK;
	if (n > SIDECAR_MAX_HBLOCK)
		n = SIDECAR_MAX_HBLOCK;
	s->found_pos = 0;
	s->found_len = 0;
	s->found_huff = 0;
	s->found_index = 0;
	for (i = 0; i < SIDECAR_MAX_FIELDS; i++) {
		__u32 idx, len, huff, wanted = 0;
		__u8 b;

		if (pos >= n)
			return pos >= total ? SIDECAR_REASON_NO_PATH : SIDECAR_REASON_NO_PATH;
		b = h2_byte(s, pos);
		if (b & 0x80) { /* indexed field */
			if (h2_int(s, &pos, n, 7, &idx))
				return SIDECAR_REASON_NO_PATH;
			if (idx == 0)
				return SIDECAR_REASON_BAD_HPACK;
			if (idx > HPACK_STATIC_ENTRIES)
				return SIDECAR_REASON_HPACK_DYNAMIC;
			if (want == SIDECAR_WANT_PATH && (idx == HPACK_IDX_PATH_ROOT || idx == HPACK_IDX_PATH_INDEX)) {
				s->found_index = idx;
				return 0;
			}
			continue;
		}
		if ((b & 0xe0) == 0x20) { /* dynamic table size update */
			if (h2_int(s, &pos, n, 5, &len))
				return SIDECAR_REASON_NO_PATH;
			if (len != 0)
				return SIDECAR_REASON_HPACK_TABLE_SIZE;
			s->clean = 1;
			continue;
		}
		if ((b & 0xc0) == 0x40) { /* literal with incremental indexing */
			if (!s->clean)
				return SIDECAR_REASON_HPACK_DYNAMIC;
			if (h2_int(s, &pos, n, 6, &idx))
				return SIDECAR_REASON_NO_PATH;
		} else { /* literal without indexing (0000) or never indexed (0001) */
			if (h2_int(s, &pos, n, 4, &idx))
				return SIDECAR_REASON_NO_PATH;
		}
		if (idx > HPACK_STATIC_ENTRIES)
			return SIDECAR_REASON_HPACK_DYNAMIC;
		if (idx == 0) { /* literal name */
			if (pos >= n)
				return SIDECAR_REASON_NO_PATH;
			huff = h2_byte(s, pos) >> 7;
			if (h2_int(s, &pos, n, 7, &len))
				return SIDECAR_REASON_NO_PATH;
			if (len > SIDECAR_MAX_HBLOCK || pos + len > n)
				return SIDECAR_REASON_NO_PATH;
			wanted = h2_name_is(s, pos, len, huff, want);
			pos += len;
		} else {
			wanted = want == SIDECAR_WANT_PATH && (idx == HPACK_IDX_PATH_ROOT || idx == HPACK_IDX_PATH_INDEX);
		}
		if (pos >= n)
			return SIDECAR_REASON_NO_PATH;
		huff = h2_byte(s, pos) >> 7;
		if (h2_int(s, &pos, n, 7, &len))
			return SIDECAR_REASON_NO_PATH;
		if (len > total || pos + len > total)
			return SIDECAR_REASON_BAD_HPACK;
		if (wanted) {
			s->found_pos = pos;
			s->found_len = len;
			s->found_huff = huff;
			return 0;
		}
		pos += len;
	}
	return SIDECAR_REASON_NO_PATH;
}

/* :path (SIDECAR_WANT_PATH) or grpc-status (SIDECAR_WANT_STATUS), as h2_scan. */
__noinline int sidecar_hpack_scan(struct sidecar_scratch *s, __u32 n, __u32 total, __u32 want)
{
	return h2_scan(s, n, total, want);
}

/* An HPACK integer of at most one continuation byte (values below 2^prefix - 1 + 128) at *pos;
 * -1 otherwise (the lean walk below gives up there). */
static __always_inline int h2_int1(const struct sidecar_scratch *s, __u32 *pos, __u32 n, __u32 prefix, __u32 *out)
{
	__u32 p = *pos, mask = (1U << prefix) - 1, v, b;

	if (p >= n)
		return -1;
	v = h2_byte(s, p) & mask;
	p++;
	if (v == mask) {
		if (p >= n)
			return -1;
		b = h2_byte(s, p);
		p++;
		if (b & 0x80)
			return -1;
		v += b;
	}
	*pos = p;
	*out = v;
	return 0;
}

/*
 * grpc-timeout in the block, walked from `from` (the end of :path's value: encoders put the
 * pseudo-header fields first) over at most SIDECAR_MAX_TIMEOUT_FIELDS fields. A lean walk, not
 * h2_scan: a second full walk is more than the sk_msg program's verifier budget holds. Fields
 * are skipped by their representation (indexed, size update, literal of any kind: the request's
 * block was already judged by h2_scan), integers of at most one continuation byte. 0 when found
 * (s->found_pos/len/huff), 1 when not (absent, or past what this walk reads: the call keeps its
 * route's timeout).
 */
__noinline int sidecar_hpack_scan_timeout(struct sidecar_scratch *s, __u32 n, __u32 from)
{
	__u32 pos = from, idx, len, huff, wanted;
	int i;

	if (!s)
		return 1;
	if (n > SIDECAR_MAX_HBLOCK)
		n = SIDECAR_MAX_HBLOCK;
	for (i = 0; i < SIDECAR_MAX_TIMEOUT_FIELDS; i++) {
		__u8 b;

		if (pos >= n)
			return 1;
		/* a no-op (pos < n <= SIDECAR_MAX_HBLOCK) that gives every path the same bounds at
		 * the top of the loop, so the verifier prunes them instead of following each */
		pos &= SIDECAR_HBLOCK_MASK;
		b = h2_byte(s, pos);
		if (b & 0x80) { /* indexed field */
			if (h2_int1(s, &pos, n, 7, &idx))
				return 1;
			continue;
		}
		if ((b & 0xe0) == 0x20) { /* dynamic table size update */
			if (h2_int1(s, &pos, n, 5, &idx))
				return 1;
			continue;
		}
		if (h2_int1(s, &pos, n, (b & 0xc0) == 0x40 ? 6 : 4, &idx))
			return 1;
		wanted = 0;
		if (idx == 0) { /* literal name: grpc-timeout has no static entry */
			if (pos >= n)
				return 1;
			huff = h2_byte(s, pos) >> 7;
			if (h2_int1(s, &pos, n, 7, &len) || pos + len > n)
				return 1;
			wanted = h2_name_is_timeout(s, pos, len, huff);
			pos += len;
		}
		if (pos >= n)
			return 1;
		huff = h2_byte(s, pos) >> 7;
		if (h2_int1(s, &pos, n, 7, &len))
			return 1;
		if (wanted) {
			s->found_pos = pos;
			s->found_len = len;
			s->found_huff = huff;
			return 0;
		}
		pos += len;
	}
	return 1;
}

/* One symbol of a Huffman-coded grpc-status digit string: '0'..'2' are 00000..00010 (5 bits),
 * '3'..'9' are 011001..011111 (6 bits). -1 when the bits at `at` are no digit. */
static __always_inline int h2_huff_digit(__u32 bits, __u32 nbits, __u32 at, __u32 *used)
{
	__u32 left = nbits - at, top5, top6;

	if (at >= nbits || left < 5)
		return -1;
	top5 = (bits >> (left - 5)) & 0x1f;
	if (top5 <= 2) {
		*used = 5;
		return (int)top5;
	}
	if (left < 6)
		return -1;
	top6 = (bits >> (left - 6)) & 0x3f;
	if (top6 >= 0x19 && top6 <= 0x1f) {
		*used = 6;
		return (int)(top6 - 0x19 + 3);
	}
	return -1;
}

/* Whether the `n` low bits of `bits` are all ones (HPACK padding, at most 7 bits). */
static __always_inline int h2_huff_padding(__u32 bits, __u32 n)
{
	if (n > 7)
		return 0;
	return (bits & ((1U << n) - 1)) == ((1U << n) - 1);
}

/* The grpc-status value found by sidecar_hpack_scan (1 or 2 digits, plain or Huffman), or
 * SIDECAR_STATUS_UNKNOWN. */
static __always_inline __u32 h2_grpc_status(const struct sidecar_scratch *s, __u32 n)
{
	__u32 pos = s->found_pos, len = s->found_len, v = 0, bits, nbits, at = 0, used = 0;
	int d;

	if (len == 0 || len > 2 || pos + len > n)
		return SIDECAR_STATUS_UNKNOWN;
	if (!s->found_huff) {
		__u8 c0 = h2_byte(s, pos), c1 = h2_byte(s, pos + 1);

		if (c0 < '0' || c0 > '9')
			return SIDECAR_STATUS_UNKNOWN;
		v = c0 - '0';
		if (len == 2) {
			if (c1 < '0' || c1 > '9')
				return SIDECAR_STATUS_UNKNOWN;
			v = v * 10 + (c1 - '0');
		}
		return v <= 16 ? v : SIDECAR_STATUS_UNKNOWN;
	}
	bits = h2_byte(s, pos);
	nbits = 8;
	if (len == 2) {
		bits = (bits << 8) | h2_byte(s, pos + 1);
		nbits = 16;
	}
	d = h2_huff_digit(bits, nbits, at, &used);
	if (d < 0)
		return SIDECAR_STATUS_UNKNOWN;
	v = (__u32)d;
	at += used;
	if (!h2_huff_padding(bits, nbits - at)) {
		d = h2_huff_digit(bits, nbits, at, &used);
		if (d < 0)
			return SIDECAR_STATUS_UNKNOWN;
		v = v * 10 + (__u32)d;
		at += used;
		if (!h2_huff_padding(bits, nbits - at))
			return SIDECAR_STATUS_UNKNOWN;
	}
	return v <= 16 ? v : SIDECAR_STATUS_UNKNOWN;
}

#endif /* H2_PARSING_H */
