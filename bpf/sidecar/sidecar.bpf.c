// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The kernel fast path of sidecar-offload (README.md):
 *
 *   sidecar_sockops  (sockops, cgroup)  established TCP sockets whose tuple is in offload_rules
 *                                       -> sock_hash + conns; conns entry gone at close
 *   sidecar_msg      (sk_msg verdict)   SIDECAR_RULE_F_MSG sockets: a send goes to the peer's
 *                                       receive queue (bpf_msg_redirect_hash, BPF_F_INGRESS)
 *   sidecar_parser   (sk_skb parser)    SIDECAR_RULE_F_H2 sockets: one HTTP/2 frame (or the
 *                                       24-byte client preface) per message
 *   sidecar_verdict  (sk_skb verdict)   counts and polices the frame, then redirects it to the
 *                                       peer's send queue (bpf_sk_redirect_hash) or hands the
 *                                       connection to user space (SK_PASS, sticky)
 *
 * No program returns SK_DROP: what the kernel cannot decide is passed whole, at a frame boundary,
 * to the socket the proxy reads.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sidecar_kern_user.h"
#include "sidecar_consts.h"
#include "sidecar_structs.h"
#include "sidecar_maps.h"
#include "sidecar_helpers.h"
#include "h2_parsing.h"

static const __u8 h2_preface[H2_PREFACE_LEN] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* --- sockops ---------------------------------------------------------------------------------- */

SEC("sockops")
int sidecar_sockops(struct bpf_sock_ops *skops)
{
	struct sidecar_sock_key key, wild;
	struct sidecar_conn conn = {};
	struct sidecar_rule *rule;
	__u32 op = skops->op;

	if (op == BPF_SOCK_OPS_STATE_CB) {
		if (skops->args[1] == BPF_TCP_CLOSE && SIDECAR_KEY_FROM(skops, &key) == 0) {
			bpf_map_delete_elem(&conns, &key);
			bpf_map_delete_elem(&pairs, &key);
		}
		return 1;
	}
	if (op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (SIDECAR_KEY_FROM(skops, &key))
		return 1;
	rule = bpf_map_lookup_elem(&offload_rules, &key);
	if (!rule) { /* local address and port, any remote (a listener of the proxy) */
		wild = key;
		__builtin_memset(wild.remote_ip, 0, sizeof(wild.remote_ip));
		wild.remote_port = 0;
		rule = bpf_map_lookup_elem(&offload_rules, &wild);
	}
	if (!rule) { /* remote address and port, any local (an upstream) */
		wild = key;
		__builtin_memset(wild.local_ip, 0, sizeof(wild.local_ip));
		wild.local_port = 0;
		rule = bpf_map_lookup_elem(&offload_rules, &wild);
	}
	if (!rule)
		return 1;
	conn.flags = rule->flags & SIDECAR_RULE_F_ALL;
	if (op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		conn.flags |= SIDECAR_CONN_F_ACTIVE;
	/* conns first: the socket's first bytes may reach the programs as soon as it is in sock_hash */
	if (bpf_map_update_elem(&conns, &key, &conn, BPF_ANY)) {
		sidecar_count(SIDECAR_REASON_SOCKHASH_FULL, 0);
		return 1;
	}
	if (bpf_sock_hash_update(skops, &sock_hash, &key, BPF_ANY)) {
		bpf_map_delete_elem(&conns, &key);
		sidecar_count(SIDECAR_REASON_SOCKHASH_FULL, 0);
		return 1;
	}
	sidecar_count(SIDECAR_REASON_OFFLOADED, 0);
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
	return 1;
}

/* --- reading a message: sk_skb (bpf_skb_load_bytes) or sk_msg (pull, then copy) -------------- */

#define SIDECAR_COPY_TMP 0
#define SIDECAR_COPY_BLOCK 1
#define SIDECAR_COPY_PATH 2

/*
 * Copies `n` bytes (1..SIDECAR_MAX_HBLOCK) at `off` of an sk_msg into the scratch: its `tmp`,
 * `block` or `path.bytes`. bpf_msg_pull_data makes them linear at msg->data; every byte is
 * checked against data_end. Global: verified once.
 */
__noinline int sidecar_msg_copy(struct sk_msg_md *msg, __u32 off, __u32 n, __u32 where)
{
	struct sidecar_scratch *s;
	__u32 zero = 0, i;
	void *data, *end;

	if (!msg || n == 0 || n > SIDECAR_MAX_HBLOCK)
		return -1;
	if (where == SIDECAR_COPY_TMP && n > sizeof(s->tmp))
		return -1;
	if (where == SIDECAR_COPY_PATH && n > SIDECAR_MAX_PATH)
		return -1;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return -1;
	if (bpf_msg_pull_data(msg, off, off + n, 0))
		return -1;
	data = (void *)(long)msg->data;
	end = (void *)(long)msg->data_end;
	for (i = 0; i < SIDECAR_MAX_HBLOCK; i++) {
		__u8 *p = data + i;

		if (i >= n)
			break;
		if ((void *)(p + 1) > end)
			return -1;
		if (where == SIDECAR_COPY_BLOCK)
			s->block[i & SIDECAR_HBLOCK_MASK] = *p;
		else if (where == SIDECAR_COPY_PATH)
			s->path.bytes[i & (SIDECAR_MAX_PATH - 1)] = *p;
		else
			s->tmp[i & (sizeof(s->tmp) - 1)] = *p;
	}
	return 0;
}

/* `n` bytes at `off` of the message into a scratch field `where` (the sk_msg way) or into `dst`
 * (the sk_skb way, `dst` being that same field). `is_msg` is a constant: one branch is compiled. */
static __always_inline long sidecar_load(void *ctx, int is_msg, __u32 off, void *dst, __u32 n, __u32 where)
{
	if (is_msg)
		return sidecar_msg_copy(ctx, off, n, where);
	return bpf_skb_load_bytes(ctx, off, dst, n);
}

/* A small constant-size read (frame header, pad length, preface) into `dst` on the stack. */
static __always_inline long sidecar_load_small(void *ctx, int is_msg, __u32 off, __u8 *dst, __u32 n)
{
	struct sidecar_scratch *s;
	__u32 zero = 0, i;

	if (!is_msg)
		return bpf_skb_load_bytes(ctx, off, dst, n);
	if (sidecar_msg_copy(ctx, off, n, SIDECAR_COPY_TMP))
		return -1;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return -1;
	for (i = 0; i < n && i < sizeof(s->tmp); i++)
		dst[i] = s->tmp[i];
	return 0;
}

/* --- sk_skb: the stream parser ---------------------------------------------------------------- */

/*
 * The kernel hands the parser (and the verdict) the socket buffer from its first byte, not from
 * the message's offset inside it (strparser keeps that offset to itself). So the parser never
 * ends a message inside a buffer: it answers 0 ("need more") or everything queued (skb->len),
 * and every message starts at offset 0 of its buffer. It waits (0) while the queued bytes end
 * inside a frame header, the preface, or a HEADERS frame (whose header block the verdict must
 * see whole); a DATA frame (or any other) may be cut, its tail is `carry` for the next message.
 */
SEC("sk_skb/stream_parser")
int sidecar_parser(struct __sk_buff *skb)
{
	struct sidecar_sock_key key;
	struct sidecar_conn *conn;
	__u32 len = skb->len, off, flen;
	__u8 h[H2_FRAME_HEADER_LEN];
	int i;

	if (SIDECAR_KEY_FROM(skb, &key))
		return len;
	conn = bpf_map_lookup_elem(&conns, &key);
	if (!conn || !(conn->flags & SIDECAR_RULE_F_H2) || (conn->flags & (SIDECAR_CONN_F_USER | SIDECAR_RULE_F_MSG)))
		return len;
	off = conn->carry;
	if (off >= len)
		return len;
	if ((conn->flags & SIDECAR_RULE_F_REQUESTS) && !(conn->flags & SIDECAR_CONN_F_PREFACE_DONE)) {
		if (len < 4 || bpf_skb_load_bytes(skb, 0, h, 4))
			return 0;
		if (h[0] != 'P' || h[1] != 'R' || h[2] != 'I' || h[3] != ' ')
			return len; /* not HTTP/2: all of it to the verdict, which hands it to user space */
		if (len < H2_PREFACE_LEN)
			return 0;
		off = H2_PREFACE_LEN;
	}
	for (i = 0; i < SIDECAR_MAX_FRAMES; i++) {
		if (off >= len)
			return len;
		if (len - off < H2_FRAME_HEADER_LEN)
			return 0;
		if (bpf_skb_load_bytes(skb, off, h, H2_FRAME_HEADER_LEN))
			return len;
		flen = ((__u32)h[0] << 16) | ((__u32)h[1] << 8) | h[2];
		/* Longer than the frames we allow: never wait for it (strparser would abort beyond the
		 * receive buffer); the verdict sees it and hands the connection over. */
		if (flen > SIDECAR_MAX_FRAME_LEN)
			return len;
		if (h[3] == H2_FRAME_HEADERS && off + H2_FRAME_HEADER_LEN + flen > len)
			return 0;
		off += H2_FRAME_HEADER_LEN + flen;
	}
	return len;
}

/* --- sk_skb: telemetry of one frame ----------------------------------------------------------- */

static __always_inline void sidecar_stream_key(struct sidecar_stream_key *sk, const struct sidecar_sock_key *conn, __u32 stream)
{
	__builtin_memset(sk, 0, sizeof(*sk));
	sk->conn = *conn;
	sk->stream = stream;
}

/* A stream ended by the server: status, latency, gone from `streams`. */
static __always_inline void sidecar_finish(const struct sidecar_stream_key *sk, __u32 status)
{
	struct sidecar_stream *st = bpf_map_lookup_elem(&streams, sk);
	struct sidecar_method_stats *ms;
	__u64 lat, us;
	__u32 b = 0;
	int i;

	if (!st)
		return;
	ms = sidecar_method(st->method);
	if (ms) {
		lat = bpf_ktime_get_ns() - st->start_ns;
		us = lat / 1000;
		for (i = 0; i < SIDECAR_LATENCY_BUCKETS - 1; i++) {
			if (us == 0)
				break;
			us >>= 1;
			b++;
		}
		ms->responses++;
		ms->latency_ns_sum += lat;
		if (status > SIDECAR_STATUS_UNKNOWN)
			status = SIDECAR_STATUS_UNKNOWN;
		ms->status[status]++;
		if (b < SIDECAR_LATENCY_BUCKETS)
			ms->latency_log2_us[b]++;
	}
	bpf_map_delete_elem(&streams, sk);
}

/* DATA payload counted for the stream's method; END_STREAM from the server ends it. */
static __always_inline void sidecar_data(const struct sidecar_stream_key *sk, __u32 flen, __u32 flags, int response)
{
	struct sidecar_stream *st = bpf_map_lookup_elem(&streams, sk);
	struct sidecar_method_stats *ms;

	if (!st)
		return;
	ms = sidecar_method(st->method);
	if (ms) {
		if (response)
			ms->response_bytes += flen;
		else
			ms->request_bytes += flen;
	}
	if (response && (flags & H2_FLAG_END_STREAM))
		sidecar_finish(sk, SIDECAR_STATUS_UNKNOWN);
}

static __always_inline void sidecar_reset(const struct sidecar_stream_key *sk)
{
	struct sidecar_stream *st = bpf_map_lookup_elem(&streams, sk);
	struct sidecar_method_stats *ms;

	if (!st)
		return;
	ms = sidecar_method(st->method);
	if (ms)
		ms->resets++;
	bpf_map_delete_elem(&streams, sk);
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

/* A request's HEADERS: the policy decision and the stream opened for telemetry. */
static __always_inline __u32 sidecar_request(void *ctx, int is_msg, const struct sidecar_sock_key *key, struct sidecar_conn *conn,
					     __u32 foff, __u32 flen, __u32 flags, __u32 sid, __u32 *method_out)
{
	struct sidecar_method_stats *ms;
	struct sidecar_policy_value *pv;
	struct sidecar_config *cfg;
	struct sidecar_stream_key sk;
	struct sidecar_stream st = {};
	struct sidecar_scratch *s;
	__u32 zero = 0, off = 0, total = 0, n = 0, r, plen, method = 0, action = SIDECAR_ACTION_ALLOW;

	if (!(flags & H2_FLAG_END_HEADERS))
		return SIDECAR_REASON_CONTINUATION;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return SIDECAR_REASON_BAD_FRAME;
	r = sidecar_load_block(ctx, is_msg, s, foff, flen, flags, &off, &total, &n);
	if (r)
		return r;
	s->clean = (conn->flags & SIDECAR_CONN_F_HPACK_CLEAN) ? 1 : 0;
	r = sidecar_hpack_scan(s, n, total, SIDECAR_WANT_PATH);
	if (s->clean)
		conn->flags |= SIDECAR_CONN_F_HPACK_CLEAN;
	if (r)
		return r;
	cfg = bpf_map_lookup_elem(&sidecar_cfg, &zero);
	if (cfg && cfg->default_action == SIDECAR_ACTION_DENY)
		action = SIDECAR_ACTION_DENY;
	plen = s->found_len;
	if (!s->found_index && plen > 0) {
		if (plen > SIDECAR_MAX_PATH)
			return SIDECAR_REASON_PATH_TOO_LONG;
		__builtin_memset(&s->path, 0, sizeof(s->path));
		if (sidecar_load(ctx, is_msg, off + s->found_pos, s->path.bytes, plen, SIDECAR_COPY_PATH))
			return SIDECAR_REASON_BAD_HPACK;
		s = bpf_map_lookup_elem(&scratch, &zero); /* the sk_msg copy is a call: look again */
		if (!s)
			return SIDECAR_REASON_BAD_HPACK;
		s->path.len = plen;
		s->path.huffman = s->found_huff ? 1 : 0;
		pv = bpf_map_lookup_elem(&policy, &s->path);
		if (pv) {
			method = pv->method;
			action = pv->action == SIDECAR_ACTION_DENY ? SIDECAR_ACTION_DENY : SIDECAR_ACTION_ALLOW;
		}
	}
	*method_out = method;
	ms = sidecar_method(method);
	if (action == SIDECAR_ACTION_DENY) {
		if (ms)
			ms->denied++;
		return SIDECAR_REASON_DENIED;
	}
	if (ms)
		ms->requests++;
	sidecar_stream_key(&sk, key, sid);
	st.start_ns = bpf_ktime_get_ns();
	st.method = method;
	bpf_map_update_elem(&streams, &sk, &st, BPF_ANY);
	return 0;
}

/* A response's HEADERS: with END_STREAM (trailers, trailers-only) the stream ends with its status. */
static __always_inline void sidecar_response(void *ctx, int is_msg, const struct sidecar_stream_key *sk, __u32 foff, __u32 flen, __u32 flags)
{
	struct sidecar_scratch *s;
	__u32 zero = 0, off = 0, total = 0, n = 0, status = SIDECAR_STATUS_UNKNOWN;

	if (!(flags & H2_FLAG_END_STREAM))
		return;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (s && (flags & H2_FLAG_END_HEADERS) && sidecar_load_block(ctx, is_msg, s, foff, flen, flags, &off, &total, &n) == 0) {
		s->clean = 1; /* responses are telemetry only: indexing cannot mislead a lookup by name */
		if (sidecar_hpack_scan(s, n, total, SIDECAR_WANT_STATUS) == 0)
			status = h2_grpc_status(s, n);
	}
	sidecar_finish(sk, status);
}

/*
 * One frame at `off` of the message (sk_skb or sk_msg). Returns the
 * frame's length (header + payload, possibly beyond the message: the rest is carried), or minus
 * the reason that hands the connection to user space; the stream id and method id are left in
 * scratch (result_stream, result_method).
 */
static __always_inline int sidecar_frame_common(void *ctx, int is_msg, const struct sidecar_sock_key *key, __u32 len, __u32 off)
{
	struct sidecar_sock_key *peer;
	struct sidecar_stream_key sk;
	struct sidecar_conn *conn;
	struct sidecar_scratch *s;
	__u32 zero = 0, flen, type, flags, sid, r, method = 0;
	__u8 h[H2_FRAME_HEADER_LEN];
	int response;

	conn = bpf_map_lookup_elem(&conns, key);
	peer = bpf_map_lookup_elem(&pairs, key);
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!conn || !peer || !s)
		return -SIDECAR_REASON_NOT_PAIRED;
	s->result_stream = 0;
	s->result_method = 0;
	if (off > len || len - off < H2_FRAME_HEADER_LEN || sidecar_load_small(ctx, is_msg, off, h, H2_FRAME_HEADER_LEN))
		return -SIDECAR_REASON_BAD_FRAME;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return -SIDECAR_REASON_BAD_FRAME;
	flen = ((__u32)h[0] << 16) | ((__u32)h[1] << 8) | h[2];
	type = h[3];
	flags = h[4];
	sid = ((__u32)(h[5] & 0x7f) << 24) | ((__u32)h[6] << 16) | ((__u32)h[7] << 8) | h[8];
	s->result_stream = sid;
	if (flen > SIDECAR_MAX_FRAME_LEN)
		return -SIDECAR_REASON_BAD_FRAME;
	if (sid == 0)
		return H2_FRAME_HEADER_LEN + flen; /* connection-level: SETTINGS, PING, GOAWAY, WINDOW_UPDATE */
	response = (conn->flags & SIDECAR_RULE_F_RESPONSES) != 0;
	/* streams are keyed by the request socket: this one, or the peer of a response socket */
	sidecar_stream_key(&sk, response ? peer : key, sid);
	switch (type) {
	case H2_FRAME_HEADERS:
		if (off + H2_FRAME_HEADER_LEN + flen > len)
			return -SIDECAR_REASON_NO_PATH; /* only when the parser gave up waiting */
		if (response) {
			sidecar_response(ctx, is_msg, &sk, off, flen, flags);
			break;
		}
		if (!(conn->flags & SIDECAR_RULE_F_REQUESTS))
			break;
		r = sidecar_request(ctx, is_msg, key, conn, off, flen, flags, sid, &method);
		s = bpf_map_lookup_elem(&scratch, &zero);
		if (s)
			s->result_method = method;
		if (r)
			return -(int)r;
		break;
	case H2_FRAME_DATA:
		sidecar_data(&sk, flen, flags, response);
		break;
	case H2_FRAME_RST_STREAM:
		sidecar_reset(&sk);
		break;
	default:
		break;
	}
	return H2_FRAME_HEADER_LEN + flen;
}

/* sidecar_frame_common for the verdict's socket buffer (global: verified once). */
__noinline int sidecar_frame_at(struct __sk_buff *skb, __u32 off)
{
	struct sidecar_sock_key key;

	if (!skb || SIDECAR_KEY_FROM(skb, &key))
		return -SIDECAR_REASON_BAD_FRAME;
	return sidecar_frame_common(skb, 0, &key, skb->len, off);
}

/* sidecar_frame_common for an sk_msg send (global: verified once). */
__noinline int sidecar_msg_frame_at(struct sk_msg_md *msg, __u32 off)
{
	struct sidecar_sock_key key;

	if (!msg || SIDECAR_KEY_FROM(msg, &key))
		return -SIDECAR_REASON_BAD_FRAME;
	return sidecar_frame_common(msg, 1, &key, msg->size, off);
}

/* --- sk_skb: the verdict ---------------------------------------------------------------------- */

/* Passes the message to the socket's own receive queue and hands the connection (both sockets)
 * to user space; `skip` bytes at its start end a frame the kernel forwarded. */
static __always_inline int sidecar_to_user(struct sidecar_conn *conn, const struct sidecar_sock_key *peer, __u32 reason,
					   __u32 sid, __u32 method, __u32 len, __u32 skip)
{
	struct sidecar_conn *pc;

	if (!(conn->flags & SIDECAR_CONN_F_USER))
		conn->user_skip = skip;
	sidecar_mark_user(conn, reason, sid, method);
	conn->carry = 0;
	if (peer) {
		pc = bpf_map_lookup_elem(&conns, peer);
		if (pc)
			sidecar_mark_user(pc, reason, sid, method);
	}
	conn->user_frames++;
	conn->user_bytes += len;
	sidecar_count(reason, len);
	return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int sidecar_verdict(struct __sk_buff *skb)
{
	struct sidecar_sock_key key, peer, *p;
	struct sidecar_scratch *s;
	struct sidecar_conn *conn;
	__u32 zero = 0, len = skb->len, off, carry, i;
	__u8 pre[H2_PREFACE_LEN];
	int r, j;

	if (SIDECAR_KEY_FROM(skb, &key))
		return SK_PASS;
	conn = bpf_map_lookup_elem(&conns, &key);
	if (!conn || !(conn->flags & SIDECAR_RULE_F_H2) || (conn->flags & SIDECAR_RULE_F_MSG))
		return SK_PASS; /* sk_msg sockets are judged when they send */
	if (conn->flags & SIDECAR_CONN_F_USER) {
		conn->user_frames++;
		conn->user_bytes += len;
		sidecar_count(SIDECAR_REASON_STICKY, len);
		return SK_PASS;
	}
	carry = conn->carry;
	p = bpf_map_lookup_elem(&pairs, &key);
	if (!p)
		return sidecar_to_user(conn, NULL, SIDECAR_REASON_NOT_PAIRED, 0, 0, len, carry);
	peer = *p;
	off = carry;
	if (off < len && (conn->flags & SIDECAR_RULE_F_REQUESTS) && !(conn->flags & SIDECAR_CONN_F_PREFACE_DONE)) {
		if (len < H2_PREFACE_LEN || bpf_skb_load_bytes(skb, 0, pre, H2_PREFACE_LEN))
			return sidecar_to_user(conn, &peer, SIDECAR_REASON_BAD_PREFACE, 0, 0, len, carry);
		for (j = 0; j < H2_PREFACE_LEN; j++) {
			if (pre[j] != h2_preface[j])
				return sidecar_to_user(conn, &peer, SIDECAR_REASON_BAD_PREFACE, 0, 0, len, carry);
		}
		conn->flags |= SIDECAR_CONN_F_PREFACE_DONE;
		off = H2_PREFACE_LEN;
	}
	for (i = 0; i < SIDECAR_MAX_FRAMES && off < len; i++) {
		r = sidecar_frame_at(skb, off);
		if (r <= 0) {
			s = bpf_map_lookup_elem(&scratch, &zero);
			return sidecar_to_user(conn, &peer, r < 0 ? (__u32)-r : SIDECAR_REASON_BAD_FRAME, s ? s->result_stream : 0,
					       s ? s->result_method : 0, len, carry);
		}
		off += (__u32)r;
	}
	if (off < len)
		return sidecar_to_user(conn, &peer, SIDECAR_REASON_TOO_MANY_FRAMES, 0, 0, len, carry);
	if (bpf_sk_redirect_hash(skb, &sock_hash, &peer, 0) != SK_PASS)
		return sidecar_to_user(conn, &peer, SIDECAR_REASON_PEER_GONE, 0, 0, len, carry);
	conn->carry = off - len;
	conn->kernel_frames++;
	conn->kernel_bytes += len;
	sidecar_count(SIDECAR_REASON_REDIRECTED, len);
	return SK_PASS;
}

/* --- sk_msg ----------------------------------------------------------------------------------- */

/*
 * How many bytes this send must reach before its frames can be judged: 0 when it may be judged
 * now, else the size to cork to (a frame header, the preface or a HEADERS frame cut at its end).
 * No side effects: the walk that counts runs once the bytes are all there. Global: verified once.
 */
__noinline int sidecar_msg_need(struct sk_msg_md *msg, __u32 carry, __u32 flags)
{
	__u32 len, off = carry, flen, i;
	__u8 h[H2_FRAME_HEADER_LEN];

	if (!msg)
		return 0;
	len = msg->size;
	if (off >= len)
		return 0;
	if ((flags & SIDECAR_RULE_F_REQUESTS) && !(flags & SIDECAR_CONN_F_PREFACE_DONE)) {
		/* not the start of the preface: judged now (BAD_PREFACE), never corked */
		if (len < 4)
			return H2_PREFACE_LEN;
		if (sidecar_load_small(msg, 1, 0, h, 4))
			return 0;
		if (h[0] != 'P' || h[1] != 'R' || h[2] != 'I' || h[3] != ' ')
			return 0;
		if (len < H2_PREFACE_LEN)
			return H2_PREFACE_LEN;
		off = H2_PREFACE_LEN;
	}
	for (i = 0; i < SIDECAR_MAX_FRAMES; i++) {
		if (off >= len)
			return 0;
		if (len - off < H2_FRAME_HEADER_LEN)
			return off + H2_FRAME_HEADER_LEN;
		if (sidecar_load_small(msg, 1, off, h, H2_FRAME_HEADER_LEN))
			return 0;
		flen = ((__u32)h[0] << 16) | ((__u32)h[1] << 8) | h[2];
		if (flen > SIDECAR_MAX_FRAME_LEN)
			return 0; /* judged now: the walk hands it over */
		if (h[3] == H2_FRAME_HEADERS && off + H2_FRAME_HEADER_LEN + flen > len)
			return off + H2_FRAME_HEADER_LEN + flen;
		off += H2_FRAME_HEADER_LEN + flen;
	}
	return 0;
}

/* The send goes the normal way (to the proxy) and the connection, both sockets, with it. */
static __always_inline int sidecar_msg_to_user(struct sidecar_conn *conn, const struct sidecar_sock_key *peer, __u32 reason,
					       __u32 sid, __u32 method, __u32 size, __u32 skip)
{
	struct sidecar_conn *pc;

	if (!(conn->flags & SIDECAR_CONN_F_USER))
		conn->user_skip = skip;
	sidecar_mark_user(conn, reason, sid, method);
	conn->carry = 0;
	if (peer) {
		pc = bpf_map_lookup_elem(&conns, peer);
		if (pc)
			sidecar_mark_user(pc, reason, sid, method);
	}
	conn->user_frames++;
	conn->user_bytes += size;
	sidecar_count(reason, size);
	return SK_PASS;
}

/*
 * HTTP/2 at send time (SIDECAR_RULE_F_MSG | SIDECAR_RULE_F_H2): the same frame walk as the
 * verdict, in the sender's context; a send that ends inside a frame header, the preface or a
 * HEADERS frame is corked until the rest is sent. Judged sends go to the peer's receive queue.
 */
static __always_inline int sidecar_msg_h2(struct sk_msg_md *msg, const struct sidecar_sock_key *key, struct sidecar_conn *conn)
{
	struct sidecar_sock_key peer, *p;
	struct sidecar_scratch *s;
	__u32 zero = 0, size = msg->size, carry = conn->carry, off, i;
	__u8 pre[H2_PREFACE_LEN];
	int r, need, j;

	p = bpf_map_lookup_elem(&pairs, key);
	if (!p)
		return sidecar_msg_to_user(conn, NULL, SIDECAR_REASON_NOT_PAIRED, 0, 0, size, carry);
	peer = *p;
	need = sidecar_msg_need(msg, carry, conn->flags);
	if (need > 0 && (__u32)need > size) {
		bpf_msg_cork_bytes(msg, need);
		return SK_PASS;
	}
	off = carry;
	if (off < size && (conn->flags & SIDECAR_RULE_F_REQUESTS) && !(conn->flags & SIDECAR_CONN_F_PREFACE_DONE)) {
		if (size < H2_PREFACE_LEN || sidecar_load_small(msg, 1, 0, pre, H2_PREFACE_LEN))
			return sidecar_msg_to_user(conn, &peer, SIDECAR_REASON_BAD_PREFACE, 0, 0, size, carry);
		for (j = 0; j < H2_PREFACE_LEN; j++) {
			if (pre[j] != h2_preface[j])
				return sidecar_msg_to_user(conn, &peer, SIDECAR_REASON_BAD_PREFACE, 0, 0, size, carry);
		}
		conn->flags |= SIDECAR_CONN_F_PREFACE_DONE;
		off = H2_PREFACE_LEN;
	}
	for (i = 0; i < SIDECAR_MAX_FRAMES && off < size; i++) {
		r = sidecar_msg_frame_at(msg, off);
		if (r <= 0) {
			s = bpf_map_lookup_elem(&scratch, &zero);
			return sidecar_msg_to_user(conn, &peer, r < 0 ? (__u32)-r : SIDECAR_REASON_BAD_FRAME, s ? s->result_stream : 0,
						   s ? s->result_method : 0, size, carry);
		}
		off += (__u32)r;
	}
	if (off < size)
		return sidecar_msg_to_user(conn, &peer, SIDECAR_REASON_TOO_MANY_FRAMES, 0, 0, size, carry);
	if (bpf_msg_redirect_hash(msg, &sock_hash, &peer, BPF_F_INGRESS) != SK_PASS)
		return sidecar_msg_to_user(conn, &peer, SIDECAR_REASON_PEER_GONE, 0, 0, size, carry);
	conn->carry = off - size;
	conn->kernel_frames++;
	conn->kernel_bytes += size;
	sidecar_count(SIDECAR_REASON_REDIRECTED, size);
	return SK_PASS;
}

SEC("sk_msg")
int sidecar_msg(struct sk_msg_md *msg)
{
	struct sidecar_sock_key key, rev, *peer;
	struct sidecar_conn *conn;
	__u64 size = msg->size;

	if (SIDECAR_KEY_FROM(msg, &key))
		return SK_PASS;
	conn = bpf_map_lookup_elem(&conns, &key);
	if (!conn || !(conn->flags & SIDECAR_RULE_F_MSG))
		return SK_PASS;
	if (conn->flags & SIDECAR_CONN_F_USER) {
		conn->user_frames++;
		conn->user_bytes += size;
		sidecar_count(SIDECAR_REASON_STICKY, size);
		return SK_PASS;
	}
	if (conn->flags & SIDECAR_RULE_F_H2)
		return sidecar_msg_h2(msg, &key, conn);
	peer = bpf_map_lookup_elem(&pairs, &key);
	if (!peer) {
		sidecar_reverse(&key, &rev);
		peer = &rev;
	}
	if (bpf_msg_redirect_hash(msg, &sock_hash, peer, BPF_F_INGRESS) == SK_PASS) {
		conn->kernel_frames++;
		conn->kernel_bytes += size;
		sidecar_count(SIDECAR_REASON_REDIRECTED, size);
		return SK_PASS;
	}
	/* the normal path from now on: a later message redirected could overtake this one */
	sidecar_mark_user(conn, SIDECAR_REASON_PEER_GONE, 0, 0);
	conn->user_frames++;
	conn->user_bytes += size;
	sidecar_count(SIDECAR_REASON_PEER_GONE, size);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
