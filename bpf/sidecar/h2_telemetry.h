/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One HTTP/2 frame judged and counted, for the verdict (sk_skb) and for sends (sk_msg): a
 * request's HEADERS against the policy, a response's END_STREAM with its grpc-status and the
 * stream's latency, DATA bytes per method, resets. `sidecar_frame_at` / `sidecar_msg_frame_at`
 * are global functions (verified once each) called once per frame by the programs' walks.
 */
#ifndef H2_TELEMETRY_H
#define H2_TELEMETRY_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sidecar_kern_user.h"
#include "sidecar_consts.h"
#include "sidecar_structs.h"
#include "sidecar_maps.h"
#include "sidecar_helpers.h"
#include "h2_parsing.h"
#include "msg_load.h"

static __always_inline void sidecar_stream_key(struct sidecar_stream_key *sk, const struct sidecar_sock_key *conn, __u32 stream)
{
	__builtin_memset(sk, 0, sizeof(*sk));
	sk->conn = *conn;
	sk->stream = stream;
}

/* A stream ended by the server: status and latency counted if it was still in `streams` (the
 * delete says so: an entry evicted or reset meanwhile is not counted). */
static __always_inline void sidecar_finish(const struct sidecar_stream_key *sk, __u32 method, __u64 start_ns, __u32 status)
{
	struct sidecar_method_stats *ms;
	__u64 lat, us;
	__u32 b = 0;

	if (bpf_map_delete_elem(&streams, sk))
		return;
	ms = sidecar_method(method);
	if (!ms)
		return;
	lat = bpf_ktime_get_ns() - start_ns;
	us = lat / 1000;
	/* b = the bits of us (0 for 0), capped at the open bucket: a binary search, not a shift loop */
	if (us >> 32) {
		us >>= 32;
		b += 32;
	}
	if (us >> 16) {
		us >>= 16;
		b += 16;
	}
	if (us >> 8) {
		us >>= 8;
		b += 8;
	}
	if (us >> 4) {
		us >>= 4;
		b += 4;
	}
	if (us >> 2) {
		us >>= 2;
		b += 2;
	}
	if (us >> 1) {
		us >>= 1;
		b += 1;
	}
	b += (__u32)us;
	if (b > SIDECAR_LATENCY_BUCKETS - 1)
		b = SIDECAR_LATENCY_BUCKETS - 1;
	ms->responses++;
	ms->latency_ns_sum += lat;
	if (status > SIDECAR_STATUS_UNKNOWN)
		status = SIDECAR_STATUS_UNKNOWN;
	ms->status[status]++;
	if (b < SIDECAR_LATENCY_BUCKETS)
		ms->latency_log2_us[b]++;
}

/*
 * Loads the header block of the HEADERS frame at `foff` (payload `flen` bytes; PADDED and
 * PRIORITY skipped) into s->block; 0 and the block's offset in the message, its length and the
 * bytes loaded set, or a reason.
 */
static __always_inline __u32 sidecar_load_block(void *ctx, int is_msg, struct sidecar_scratch *s, __u32 foff, __u32 flen, __u32 flags,
						__u32 *off, __u32 *total, __u32 *n)
{
	__u32 o = H2_FRAME_HEADER_LEN, pad = 0, t, k;
	__u8 pl = 0;

	if (flags & H2_FLAG_PADDED) {
		if (sidecar_load_small(ctx, is_msg, foff + o, &pl, 1))
			return SIDECAR_REASON_BAD_FRAME;
		pad = pl;
		o += 1;
	}
	if (flags & H2_FLAG_PRIORITY)
		o += 5;
	if (o + pad > H2_FRAME_HEADER_LEN + flen)
		return SIDECAR_REASON_BAD_FRAME;
	t = H2_FRAME_HEADER_LEN + flen - o - pad;
	k = t < SIDECAR_MAX_HBLOCK ? t : SIDECAR_MAX_HBLOCK;
	if (k == 0 || k > SIDECAR_MAX_HBLOCK)
		return SIDECAR_REASON_NO_PATH;
	if (sidecar_load(ctx, is_msg, foff + o, s->block, k, SIDECAR_COPY_BLOCK))
		return SIDECAR_REASON_BAD_FRAME;
	*off = foff + o;
	*total = t;
	*n = k;
	return 0;
}

/* Appends an event to the scratch's list (no grpc-timeout: the caller of a REQUEST fills it in);
 * NULL when the message has SIDECAR_MAX_FRAMES already. The one place an event is written. */
static __always_inline struct sidecar_event *sidecar_push(struct sidecar_scratch *s, __u32 kind, __u32 sid, __u32 flen, __u32 flags,
							   __u32 value)
{
	struct sidecar_event *ev;
	__u32 k = s->nev;

	if (k >= SIDECAR_MAX_FRAMES)
		return NULL;
	ev = &s->ev[k];
	ev->kind = kind;
	ev->sid = sid;
	ev->flen = flen;
	ev->flags = flags;
	ev->value = value;
	ev->timeout_len = 0;
	ev->timeout_huff = 0;
	s->nev = k + 1;
	return ev;
}

/*
 * What the policy says about the path key in the scratch's `path` (slot `slot`): the method id in
 * the upper 32 bits, the action in the lower (`dflt`, the default, when `policy` has no entry).
 * The CPU's last decision when its key is the same and sidecar_cfg's generation `gen` has not
 * changed since (user space bumps it after each policy write), else a `policy` lookup (the
 * 132-byte key hashed), kept as the CPU's last decision. The policy is one table for the node, so
 * the cache is per CPU, not per connection. Generation 0 (a config written without one) caches
 * nothing. Global: verified once.
 */
__noinline __u64 sidecar_policy_decide(__u32 slot, __u32 gen, __u32 dflt)
{
	struct sidecar_policy_value *pv;
	struct sidecar_scratch *s;
	const __u64 *a, *b;
	__u32 method = 0, action = dflt;
	__u64 diff = 0;
	int i;

	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return action;
	a = (const __u64 *)&s->path;
	b = (const __u64 *)&s->pc_key;
	if (gen != 0 && s->pc_gen == gen) {
#pragma unroll
		for (i = 0; i < SIDECAR_MAX_PATH / 8; i++) /* the key's first 128 of 132 bytes */
			diff |= a[i] ^ b[i];
		diff |= ((const __u32 *)a)[SIDECAR_MAX_PATH / 4] ^ ((const __u32 *)b)[SIDECAR_MAX_PATH / 4];
		if (diff == 0)
			return ((__u64)s->pc_method << 32) | s->pc_action;
	}
	pv = bpf_map_lookup_elem(&policy, &s->path);
	if (pv) {
		method = pv->method;
		action = pv->action == SIDECAR_ACTION_DENY ? SIDECAR_ACTION_DENY : SIDECAR_ACTION_ALLOW;
	}
	s->pc_gen = gen;
	s->pc_key = s->path;
	s->pc_method = method;
	s->pc_action = action;
	return ((__u64)method << 32) | action;
}

/* A request's HEADERS: the policy decision; allowed, its event (method, grpc-timeout) is recorded
 * at s->ev[s->nev] (counted once the message is judged). */
static __always_inline __u32 sidecar_request(void *ctx, int is_msg, __u32 foff, __u32 flen, __u32 flags, __u32 sid, __u32 *method_out)
{
	struct sidecar_method_stats *ms;
	struct sidecar_config *cfg;
	struct sidecar_event *ev;
	struct sidecar_scratch *s;
	__u32 zero = 0, slot = is_msg ? SIDECAR_SLOT_MSG : SIDECAR_SLOT_SKB, off = 0, total = 0, n = 0, r, plen, method = 0;
	__u32 action = SIDECAR_ACTION_ALLOW, from, i, gen = 0;
	__u64 d;

	if (!(flags & H2_FLAG_END_HEADERS))
		return SIDECAR_REASON_CONTINUATION;
	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return SIDECAR_REASON_BAD_FRAME;
	r = sidecar_load_block(ctx, is_msg, s, foff, flen, flags, &off, &total, &n);
	if (r)
		return r;
	s->clean = s->walk_clean;
	r = sidecar_hpack_scan(s, n, total, SIDECAR_WANT_PATH);
	if (s->clean)
		s->walk_clean = 1;
	if (r)
		return r;
	cfg = bpf_map_lookup_elem(&sidecar_cfg, &zero);
	if (cfg) {
		gen = cfg->generation; /* read before the policy: a decision cached under it is never newer than the policy */
		if (cfg->default_action == SIDECAR_ACTION_DENY)
			action = SIDECAR_ACTION_DENY;
	}
	plen = s->found_len;
	from = s->found_pos + plen; /* after :path's value (an indexed :path: found_pos 0, walked from the start) */
	if (!s->found_index && plen > 0) {
		if (plen > SIDECAR_MAX_PATH)
			return SIDECAR_REASON_PATH_TOO_LONG;
		__builtin_memset(&s->path, 0, sizeof(s->path));
		if (sidecar_load(ctx, is_msg, off + s->found_pos, s->path.bytes, plen, SIDECAR_COPY_PATH))
			return SIDECAR_REASON_BAD_HPACK;
		s = bpf_map_lookup_elem(&scratch, &slot); /* the sk_msg copy is a call: look again */
		if (!s)
			return SIDECAR_REASON_BAD_HPACK;
		s->path.len = plen;
		s->path.huffman = s->found_huff ? 1 : 0;
		d = sidecar_policy_decide(slot, gen, action);
		method = (__u32)(d >> 32);
		action = (__u32)d;
	}
	*method_out = method;
	if (action == SIDECAR_ACTION_DENY) {
		ms = sidecar_method(method);
		if (ms) /* the decision, counted once: the connection is handed over at this frame */
			ms->denied++;
		return SIDECAR_REASON_DENIED;
	}
	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return SIDECAR_REASON_BAD_FRAME;
	ev = sidecar_push(s, SIDECAR_EV_REQUEST, sid, flen, flags, method);
	if (!ev)
		return SIDECAR_REASON_TOO_MANY_FRAMES;
	/* the call's own deadline, for the proxy's deadline watch: grpc-timeout's value as on the
	 * wire (user space decodes it; one it cannot read leaves the route's timeout, as its own
	 * path does) */
	if (sidecar_hpack_scan_timeout(s, n, from) == 0 && s->found_len <= SIDECAR_TIMEOUT_BYTES &&
	    s->found_pos + s->found_len <= n) {
		for (i = 0; i < SIDECAR_TIMEOUT_BYTES; i++) {
			if (i >= s->found_len)
				break;
			ev->timeout[i] = h2_byte(s, s->found_pos + i);
		}
		ev->timeout_len = s->found_len;
		ev->timeout_huff = s->found_huff ? 1 : 0;
	}
	return 0;
}

/* A response's HEADERS with END_STREAM (trailers, trailers-only): its grpc-status, or "unknown". */
static __always_inline __u32 sidecar_response_status(void *ctx, int is_msg, __u32 foff, __u32 flen, __u32 flags)
{
	struct sidecar_scratch *s;
	__u32 slot = is_msg ? SIDECAR_SLOT_MSG : SIDECAR_SLOT_SKB, off = 0, total = 0, n = 0;

	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s || !(flags & H2_FLAG_END_HEADERS) || sidecar_load_block(ctx, is_msg, s, foff, flen, flags, &off, &total, &n))
		return SIDECAR_STATUS_UNKNOWN;
	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return SIDECAR_STATUS_UNKNOWN;
	s->clean = 1; /* responses are telemetry only: indexing cannot mislead a lookup by name */
	if (sidecar_hpack_scan(s, n, total, SIDECAR_WANT_STATUS))
		return SIDECAR_STATUS_UNKNOWN;
	return h2_grpc_status(s, n);
}

/* Records an event other than REQUEST (sidecar_push); -1 when the message has too many. */
static __always_inline int sidecar_record(int is_msg, __u32 kind, __u32 sid, __u32 flen, __u32 flags, __u32 value)
{
	struct sidecar_scratch *s;
	__u32 slot = is_msg ? SIDECAR_SLOT_MSG : SIDECAR_SLOT_SKB;

	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s || !sidecar_push(s, kind, sid, flen, flags, value))
		return -1;
	return 0;
}

/*
 * A SETTINGS frame (whole in the message at `off`, payload `flen`) of a SPLICE send: where its
 * HEADER_TABLE_SIZE is, to be made 0, or that it has none and one is to be appended. The first
 * SETTINGS frame of a send wins (a send rarely holds two). Recorded in the scratch, applied by
 * sidecar_msg_fix_settings once the walk is done.
 */
static __always_inline void sidecar_settings_scan(void *ctx, __u32 off, __u32 flen)
{
	struct sidecar_scratch *s;
	__u32 zero = 0, i, pos, n = flen / H2_SETTING_LEN;
	__u8 e[H2_SETTING_LEN];

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || s->set_kind != SIDECAR_SET_NONE || flen % H2_SETTING_LEN || n > SIDECAR_MAX_SETTINGS)
		return;
	for (i = 0; i < SIDECAR_MAX_SETTINGS; i++) {
		if (i >= n)
			break;
		pos = off + H2_FRAME_HEADER_LEN + i * H2_SETTING_LEN;
		if (sidecar_load_small(ctx, 1, pos, e, H2_SETTING_LEN))
			return;
		if (e[0] != 0 || e[1] != H2_SETTINGS_HEADER_TABLE_SIZE)
			continue;
		s = bpf_map_lookup_elem(&scratch, &zero);
		if (!s)
			return;
		if (e[2] | e[3] | e[4] | e[5]) {
			s->set_kind = SIDECAR_SET_ZERO;
			s->set_at = pos + 2;
		} else {
			s->set_kind = SIDECAR_SET_NONE; /* says 0 already */
		}
		return;
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return;
	s->set_kind = SIDECAR_SET_APPEND;
	s->set_at = off;
	s->set_len = flen;
}

/*
 * One frame at `off` of the message (sk_skb or sk_msg), judged: the socket, its pair and its
 * flags are those the program put in the scratch before the walk (looked up once per message).
 * Returns the frame's length (header + payload, possibly beyond the message: the rest is
 * carried), or minus the reason that hands the connection to user space; the stream id and
 * method id are left in scratch (result_stream, result_method). What the frame counts is
 * recorded as an event (sidecar_record), applied once the message is judged.
 */
static __always_inline int sidecar_frame_common(void *ctx, int is_msg, __u32 len, __u32 off)
{
	struct sidecar_scratch *s;
	__u32 slot = is_msg ? SIDECAR_SLOT_MSG : SIDECAR_SLOT_SKB, flen, type, flags, sid, r, method = 0, cflags, status;
	__u8 h[H2_FRAME_HEADER_LEN];
	int response;

	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return -SIDECAR_REASON_BAD_FRAME;
	cflags = s->conn_flags;
	if (!s->has_peer && !(cflags & SIDECAR_RULE_F_SPLICE))
		return -SIDECAR_REASON_NOT_PAIRED;
	s->result_stream = 0;
	s->result_method = 0;
	response = (cflags & SIDECAR_RULE_F_RESPONSES) != 0;
	/* streams are keyed by the request socket: this one, or the peer of a response socket (a
	 * SPLICE request socket may send before it is paired) */
	if (response && !s->has_peer)
		return -SIDECAR_REASON_NOT_PAIRED;
	if (off > len || len - off < H2_FRAME_HEADER_LEN || sidecar_load_small(ctx, is_msg, off, h, H2_FRAME_HEADER_LEN))
		return -SIDECAR_REASON_BAD_FRAME;
	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return -SIDECAR_REASON_BAD_FRAME;
	flen = ((__u32)h[0] << 16) | ((__u32)h[1] << 8) | h[2];
	type = h[3];
	flags = h[4];
	sid = ((__u32)(h[5] & 0x7f) << 24) | ((__u32)h[6] << 16) | ((__u32)h[7] << 8) | h[8];
	s->result_stream = sid;
	if (flen > SIDECAR_MAX_FRAME_LEN)
		return -SIDECAR_REASON_BAD_FRAME;
	if (sid == 0) { /* connection-level: SETTINGS, PING, GOAWAY, WINDOW_UPDATE */
		if (is_msg && type == H2_FRAME_SETTINGS && !(flags & H2_FLAG_ACK) && (cflags & SIDECAR_RULE_F_SPLICE) &&
		    off + H2_FRAME_HEADER_LEN + flen <= len)
			sidecar_settings_scan(ctx, off, flen);
		return H2_FRAME_HEADER_LEN + flen;
	}
	switch (type) {
	case H2_FRAME_HEADERS:
		if (off + H2_FRAME_HEADER_LEN + flen > len)
			return -SIDECAR_REASON_NO_PATH; /* only when the parser gave up waiting */
		if (response) {
			if (!(flags & H2_FLAG_END_STREAM)) {
				if (sidecar_record(is_msg, SIDECAR_EV_RESPONSE, sid, flen, flags, 0))
					return -SIDECAR_REASON_TOO_MANY_FRAMES;
				break;
			}
			status = sidecar_response_status(ctx, is_msg, off, flen, flags);
			if (sidecar_record(is_msg, SIDECAR_EV_RESPONSE_END, sid, flen, flags, status))
				return -SIDECAR_REASON_TOO_MANY_FRAMES;
			break;
		}
		if (!(cflags & SIDECAR_RULE_F_REQUESTS))
			break;
		r = sidecar_request(ctx, is_msg, off, flen, flags, sid, &method);
		s = bpf_map_lookup_elem(&scratch, &slot);
		if (s)
			s->result_method = method;
		if (r)
			return -(int)r;
		break;
	case H2_FRAME_DATA:
		if (sidecar_record(is_msg, SIDECAR_EV_DATA, sid, flen, flags, 0))
			return -SIDECAR_REASON_TOO_MANY_FRAMES;
		break;
	case H2_FRAME_RST_STREAM:
		if (sidecar_record(is_msg, SIDECAR_EV_RESET, sid, flen, flags, 0))
			return -SIDECAR_REASON_TOO_MANY_FRAMES;
		break;
	default:
		break;
	}
	return H2_FRAME_HEADER_LEN + flen;
}

/* sidecar_frame_common for the verdict's socket buffer (global: verified once). */
__noinline int sidecar_frame_at(struct __sk_buff *skb, __u32 off)
{
	if (!skb)
		return -SIDECAR_REASON_BAD_FRAME;
	return sidecar_frame_common(skb, 0, skb->len, off);
}

/* sidecar_frame_common for an sk_msg send (global: verified once). */
__noinline int sidecar_msg_frame_at(struct sk_msg_md *msg, __u32 off)
{
	if (!msg)
		return -SIDECAR_REASON_BAD_FRAME;
	return sidecar_frame_common(msg, 1, msg->size, off);
}

/* The stream the event at `i` is about, from the cache or `streams`; 0 when it is in neither. */
static __always_inline int sidecar_event_stream(struct sidecar_scratch *s, const struct sidecar_stream_key *sk, __u32 sid, __u32 *method,
						__u64 *start_ns)
{
	struct sidecar_stream *st;

	if (s->cache_sid != 0 && s->cache_sid == sid) {
		*method = s->cache_method;
		*start_ns = s->cache_start_ns;
		return 1;
	}
	st = bpf_map_lookup_elem(&streams, sk);
	if (!st)
		return 0;
	*method = st->method;
	*start_ns = st->start_ns;
	return 1;
}

/*
 * Applies the event at `i` of the scratch (recorded by the walk of a message now judged): a
 * stream opened, bytes, its end. The stream the previous event touched is cached, so the frames
 * of one call in one message (HEADERS, DATA, trailers) cost one `streams` lookup or insert and
 * one delete. Global: verified once.
 */
__noinline int sidecar_apply_event(__u32 i, __u32 slot)
{
	struct sidecar_method_stats *ms;
	struct sidecar_stream_key sk;
	struct sidecar_stream st = {};
	struct sidecar_stream *sp;
	struct sidecar_scratch *s;
	struct sidecar_event *ev;
	__u32 kind, sid, flen, flags, value, method = 0, j, response;
	__u64 start_ns = 0;

	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s || i >= SIDECAR_MAX_FRAMES)
		return 0;
	ev = &s->ev[i];
	kind = ev->kind;
	sid = ev->sid;
	flen = ev->flen;
	flags = ev->flags;
	value = ev->value;
	response = (s->conn_flags & SIDECAR_RULE_F_RESPONSES) != 0;
	__builtin_memset(&sk, 0, sizeof(sk));
	sk.conn = response ? s->peer : s->key;
	sk.stream = sid;
	switch (kind) {
	case SIDECAR_EV_REQUEST:
		ms = sidecar_method(value);
		if (ms)
			ms->requests++;
		st.start_ns = bpf_ktime_get_ns();
		st.method = value;
		if (ev->timeout_len > 0 && ev->timeout_len <= SIDECAR_TIMEOUT_BYTES) {
			for (j = 0; j < SIDECAR_TIMEOUT_BYTES; j++)
				st.timeout[j] = ev->timeout[j];
			st.timeout_len = ev->timeout_len;
			st.flags = SIDECAR_STREAM_F_TIMEOUT | (ev->timeout_huff ? SIDECAR_STREAM_F_TIMEOUT_HUFF : 0);
		}
		bpf_map_update_elem(&streams, &sk, &st, BPF_ANY);
		s->cache_sid = sid;
		s->cache_method = value;
		s->cache_start_ns = st.start_ns;
		if (sid > s->last_stream)
			s->last_stream = sid;
		return 0;
	case SIDECAR_EV_DATA:
		if (!sidecar_event_stream(s, &sk, sid, &method, &start_ns))
			return 0;
		s->cache_sid = sid;
		s->cache_method = method;
		s->cache_start_ns = start_ns;
		ms = sidecar_method(method);
		if (ms) {
			if (response)
				ms->response_bytes += flen;
			else
				ms->request_bytes += flen;
		}
		if (response && (flags & H2_FLAG_END_STREAM)) {
			s->cache_sid = 0;
			sidecar_finish(&sk, method, start_ns, SIDECAR_STATUS_UNKNOWN);
		}
		return 0;
	case SIDECAR_EV_RESPONSE:
		/* the response's headers: a deadline the proxy applies later ends it with trailers */
		sp = bpf_map_lookup_elem(&streams, &sk);
		if (!sp)
			return 0;
		sp->flags |= SIDECAR_STREAM_F_RESPONDED;
		s->cache_sid = sid;
		s->cache_method = sp->method;
		s->cache_start_ns = sp->start_ns;
		return 0;
	case SIDECAR_EV_RESPONSE_END:
		if (!sidecar_event_stream(s, &sk, sid, &method, &start_ns))
			return 0;
		s->cache_sid = 0;
		sidecar_finish(&sk, method, start_ns, value);
		return 0;
	case SIDECAR_EV_RESET:
		if (s->cache_sid == sid)
			s->cache_sid = 0;
		sp = bpf_map_lookup_elem(&streams, &sk);
		if (!sp)
			return 0;
		method = sp->method;
		if (bpf_map_delete_elem(&streams, &sk))
			return 0;
		ms = sidecar_method(method);
		if (ms)
			ms->resets++;
		return 0;
	default:
		return 0;
	}
}

/* The walk of a message is over (judged, or handed over at a frame): the HPACK_CLEAN it saw goes
 * to the socket's conns entry. */
static __always_inline void sidecar_walk_clean(int is_msg, struct sidecar_conn *conn)
{
	struct sidecar_scratch *s;
	__u32 slot = is_msg ? SIDECAR_SLOT_MSG : SIDECAR_SLOT_SKB;

	s = bpf_map_lookup_elem(&scratch, &slot);
	if (s && s->walk_clean)
		conn->flags |= SIDECAR_CONN_F_HPACK_CLEAN;
}

/* Starts the walk of a message of the socket `key` (conns entry `conn`, pair `peer` or NULL):
 * what every frame needs, in the scratch; -1 without a scratch. */
static __always_inline int sidecar_walk_start(int is_msg, const struct sidecar_sock_key *key, const struct sidecar_sock_key *peer,
					      struct sidecar_conn *conn)
{
	struct sidecar_scratch *s;
	__u32 slot = is_msg ? SIDECAR_SLOT_MSG : SIDECAR_SLOT_SKB;

	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return -1;
	s->key = *key;
	if (peer)
		s->peer = *peer;
	else
		__builtin_memset(&s->peer, 0, sizeof(s->peer));
	s->has_peer = peer != NULL;
	s->conn_flags = conn->flags;
	s->walk_clean = (conn->flags & SIDECAR_CONN_F_HPACK_CLEAN) ? 1 : 0;
	s->last_stream = conn->last_stream;
	s->nev = 0;
	s->cache_sid = 0;
	s->set_kind = SIDECAR_SET_NONE;
	return 0;
}

/* Applies the events recorded by the walk (each with a global call: verified once), then the
 * highest request stream to conns.last_stream (after the streams are in `streams`: the proxy
 * reads both). */
static __always_inline void sidecar_walk_apply(int is_msg, struct sidecar_conn *conn)
{
	struct sidecar_scratch *s;
	__u32 slot = is_msg ? SIDECAR_SLOT_MSG : SIDECAR_SLOT_SKB, n, i;

	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return;
	n = s->nev;
	for (i = 0; i < SIDECAR_MAX_FRAMES; i++) {
		if (i >= n)
			break;
		sidecar_apply_event(i, slot);
	}
	s = bpf_map_lookup_elem(&scratch, &slot);
	if (s && s->last_stream > conn->last_stream)
		conn->last_stream = s->last_stream;
}

#endif /* H2_TELEMETRY_H */
