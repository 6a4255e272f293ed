// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The kernel fast path of sidecar-offload (README.md):
 *
 *   sidecar_sockops  (sockops, cgroup)  established TCP sockets whose tuple is in offload_rules
 *                                       -> sock_hash + conns; conns entry gone at close
 *   sidecar_msg      (sk_msg verdict)   SIDECAR_RULE_F_MSG sockets: a send goes to the peer's
 *                                       receive queue (bpf_msg_redirect_hash, BPF_F_INGRESS);
 *                                       with SIDECAR_RULE_F_H2 its frames are judged first
 *                                       (corked while one is cut)
 *   sidecar_parser   (sk_skb parser)    SIDECAR_RULE_F_H2 sockets: holds the stream until no
 *                                       header block is cut; never ends a message mid-buffer
 *   sidecar_verdict  (sk_skb verdict)   walks the frames, counts and polices them, then
 *                                       redirects the message to the peer's send queue
 *                                       (bpf_sk_redirect_hash) or hands the connection to user
 *                                       space (SK_PASS, sticky)
 *
 * Frame judgement (h2_telemetry.h) and HPACK (h2_parsing.h) are shared by both hooks; msg_load.h
 * reads bytes either way. No program drops a byte of the applications': what the kernel cannot
 * decide is passed whole to the socket the proxy reads (or, for a send, the normal TCP path to
 * the proxy); the one byte dropped is the proxy's own trigger of a take-back (sidecar_take_back).
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
#include "msg_load.h"
#include "h2_telemetry.h"

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
			bpf_map_delete_elem(&takeback, &key);
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
	if (bpf_sock_hash_update(skops, (conn.flags & SIDECAR_RULE_F_SPLICE) ? (void *)&splice_hash : (void *)&sock_hash, &key, BPF_ANY)) {
		bpf_map_delete_elem(&conns, &key);
		sidecar_count(SIDECAR_REASON_SOCKHASH_FULL, 0);
		return 1;
	}
	sidecar_count(SIDECAR_REASON_OFFLOADED, 0);
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
	return 1;
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

/* --- sk_skb: the verdict ---------------------------------------------------------------------- */

/* Passes the message to the socket's own receive queue and hands the connection (both sockets)
 * to user space; `skip` bytes at its start end a frame the kernel forwarded. */
static __always_inline int sidecar_to_user(struct sidecar_conn *conn, const struct sidecar_sock_key *peer, __u32 reason,
					   __u32 sid, __u32 method, __u32 len, __u32 skip)
{
	sidecar_hand_over(conn, peer, reason, sid, method, skip);
	conn->user_frames++;
	conn->user_bytes += len;
	sidecar_count(reason, len);
	return SK_PASS;
}

/*
 * The proxy takes a SPLICE socket back (drain, a route timeout): it wrote the socket's key into
 * `takeback`, then one byte into the connection towards the socket, and writes nothing more
 * towards it until the entry is gone. That byte is the last of this buffer (earlier bytes of the
 * proxy's may share it): it is cut off (the application never sees it) and the socket is handed
 * to user space where its sends stand now. This runs under the socket's lock, as its sends do
 * (softirq backlogs while a sender owns it), so its carry is exact: user space reads whole frames
 * after the rest of the frame the kernel is in the middle of.
 */
static __always_inline int sidecar_take_back(struct __sk_buff *skb, const struct sidecar_sock_key *key, struct sidecar_conn *conn, __u32 len)
{
	bpf_map_delete_elem(&takeback, key);
	if (!(conn->flags & SIDECAR_CONN_F_USER))
		sidecar_hand_over(conn, NULL, SIDECAR_REASON_TAKEN_BACK, 0, 0, conn->carry);
	sidecar_count(SIDECAR_REASON_TAKEN_BACK, 0);
	if (len <= 1)
		return SK_DROP; /* the trigger byte alone */
	if (bpf_skb_change_tail(skb, len - 1, 0))
		return SK_DROP;
	__sync_fetch_and_add(&conn->rx_bytes, len - 1);
	return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int sidecar_verdict(struct __sk_buff *skb)
{
	struct sidecar_sock_key key, peer, *p;
	struct sidecar_scratch *s;
	struct sidecar_conn *conn;
	__u32 slot = SIDECAR_SLOT_SKB, len = skb->len, off, carry, i;
	__u8 pre[H2_PREFACE_LEN];
	int r, j;

	if (SIDECAR_KEY_FROM(skb, &key))
		return SK_PASS;
	conn = bpf_map_lookup_elem(&conns, &key);
	if (conn && (conn->flags & SIDECAR_RULE_F_MSG)) {
		if (bpf_map_lookup_elem(&takeback, &key))
			return sidecar_take_back(skb, &key, conn, len);
		/* sk_msg sockets are judged when they send; what reaches them through TCP came from
		 * the proxy (SPLICE's catch-up compares it with what the peer sent the normal way) */
		__sync_fetch_and_add(&conn->rx_bytes, len);
		return SK_PASS;
	}
	if (!conn || !(conn->flags & SIDECAR_RULE_F_H2))
		return SK_PASS;
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
	if (sidecar_walk_start(0, &key, &peer, conn))
		return sidecar_to_user(conn, &peer, SIDECAR_REASON_BAD_FRAME, 0, 0, len, carry);
	for (i = 0; i < SIDECAR_MAX_FRAMES && off < len; i++) {
		r = sidecar_frame_at(skb, off);
		if (r <= 0) {
			/* the frames before this one are counted: they reached the peer in earlier
			 * messages or are this message's, which the proxy relays from this frame on */
			sidecar_walk_clean(0, conn);
			sidecar_walk_apply(0, conn);
			s = bpf_map_lookup_elem(&scratch, &slot);
			return sidecar_to_user(conn, &peer, r < 0 ? (__u32)-r : SIDECAR_REASON_BAD_FRAME, s ? s->result_stream : 0,
					       s ? s->result_method : 0, len, carry);
		}
		off += (__u32)r;
	}
	sidecar_walk_clean(0, conn);
	sidecar_walk_apply(0, conn);
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
		if ((h[3] == H2_FRAME_HEADERS || (h[3] == H2_FRAME_SETTINGS && (flags & SIDECAR_RULE_F_SPLICE))) &&
		    off + H2_FRAME_HEADER_LEN + flen > len)
			return off + H2_FRAME_HEADER_LEN + flen;
		off += H2_FRAME_HEADER_LEN + flen;
	}
	/* more frames than the walk takes: handed over before any of them is counted */
	return off < len ? -1 : 0;
}

/*
 * The frames of a send from `off`, judged, their telemetry recorded as events in the scratch (not
 * applied): the offset reached (below msg->size: more frames than SIDECAR_MAX_FRAMES), or minus
 * the reason of the frame that hands the connection over (its stream and method in scratch).
 * Global: verified once.
 */
__noinline int sidecar_msg_walk(struct sk_msg_md *msg, __u32 off)
{
	__u32 size, i;
	int r;

	if (!msg)
		return -SIDECAR_REASON_BAD_FRAME;
	size = msg->size;
	for (i = 0; i < SIDECAR_MAX_FRAMES && off < size; i++) {
		r = sidecar_msg_frame_at(msg, off);
		if (r <= 0)
			return r < 0 ? r : -SIDECAR_REASON_BAD_FRAME;
		off += (__u32)r;
	}
	return (int)off;
}

/* The send goes the normal way (to the proxy) and the connection, both sockets, with it. */
static __always_inline int sidecar_msg_to_user(struct sidecar_conn *conn, const struct sidecar_sock_key *peer, __u32 reason,
					       __u32 sid, __u32 method, __u32 size, __u32 skip)
{
	sidecar_hand_over(conn, peer, reason, sid, method, skip);
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
	struct sidecar_sock_key peer = {}, *p;
	struct sidecar_conn *pc;
	struct sidecar_scratch *s;
	__u32 zero = 0, size = msg->size, carry = conn->carry, off, splice = conn->flags & SIDECAR_RULE_F_SPLICE;
	__u8 pre[H2_PREFACE_LEN];
	int r, need, j, paired;

	p = bpf_map_lookup_elem(&pairs, key);
	/* a SPLICE request socket may send before the proxy pairs it: judged, then the normal way */
	if (!p && !(splice && (conn->flags & SIDECAR_RULE_F_REQUESTS)))
		return sidecar_msg_to_user(conn, NULL, SIDECAR_REASON_NOT_PAIRED, 0, 0, size, carry);
	paired = p != NULL;
	if (p)
		peer = *p;
	/* at the program's start msg->data is the send's first byte: when its first element holds
	 * all of it, every read is in place (no bpf_msg_pull_data) until something pulls */
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (s)
		s->linear = (long)msg->data + size <= (long)msg->data_end;
	need = sidecar_msg_need(msg, carry, conn->flags);
	if (need > 0 && (__u32)need > size) {
		bpf_msg_cork_bytes(msg, need);
		return SK_PASS;
	}
	if (need < 0)
		return sidecar_msg_to_user(conn, paired ? &peer : NULL, SIDECAR_REASON_TOO_MANY_FRAMES, 0, 0, size, carry);
	off = carry;
	if (off < size && (conn->flags & SIDECAR_RULE_F_REQUESTS) && !(conn->flags & SIDECAR_CONN_F_PREFACE_DONE)) {
		if (size < H2_PREFACE_LEN || sidecar_load_small(msg, 1, 0, pre, H2_PREFACE_LEN))
			return sidecar_msg_to_user(conn, paired ? &peer : NULL, SIDECAR_REASON_BAD_PREFACE, 0, 0, size, carry);
		for (j = 0; j < H2_PREFACE_LEN; j++) {
			if (pre[j] != h2_preface[j])
				return sidecar_msg_to_user(conn, paired ? &peer : NULL, SIDECAR_REASON_BAD_PREFACE, 0, 0, size, carry);
		}
		conn->flags |= SIDECAR_CONN_F_PREFACE_DONE;
		off = H2_PREFACE_LEN;
	}
	/* conns and pairs were looked up once for the send: the walk reads them from the scratch */
	if (sidecar_walk_start(1, key, paired ? &peer : NULL, conn))
		return sidecar_msg_to_user(conn, paired ? &peer : NULL, SIDECAR_REASON_BAD_FRAME, 0, 0, size, carry);
	/* One walk judges the frames and records what they count; the events are applied only once
	 * the whole send is judged: a send handed over at one of its frames goes to the proxy whole
	 * (from its first frame), and the proxy counts the calls it carries; a call the kernel
	 * counted before that frame in the same send would be counted twice. */
	r = sidecar_msg_walk(msg, off);
	sidecar_walk_clean(1, conn);
	if (r < 0) {
		s = bpf_map_lookup_elem(&scratch, &zero);
		return sidecar_msg_to_user(conn, paired ? &peer : NULL, (__u32)-r, s ? s->result_stream : 0, s ? s->result_method : 0, size, carry);
	}
	if ((__u32)r < size)
		return sidecar_msg_to_user(conn, paired ? &peer : NULL, SIDECAR_REASON_TOO_MANY_FRAMES, 0, 0, size, carry);
	off = (__u32)r;
	sidecar_walk_apply(1, conn);
	if (splice) {
		s = bpf_map_lookup_elem(&scratch, &zero);
		if (s && s->set_kind != SIDECAR_SET_NONE) {
			r = sidecar_msg_fix_settings(msg);
			if (r >= 0) {
				sidecar_count(SIDECAR_REASON_SETTINGS, (__u32)r);
				off += (__u32)r;
				size = msg->size;
			}
		}
		/* before the pair, or while the peer has not received all this socket sent through the
		 * proxy, a redirect would overtake those bytes: this send follows them */
		pc = paired ? bpf_map_lookup_elem(&conns, &peer) : NULL;
		if (!pc || pc->rx_bytes != conn->user_bytes) {
			conn->carry = off > size ? off - size : 0;
			conn->user_frames++;
			conn->user_bytes += size;
			sidecar_count(SIDECAR_REASON_CATCH_UP, size);
			return SK_PASS;
		}
	}
	if (bpf_msg_redirect_hash(msg, splice ? (void *)&splice_hash : (void *)&sock_hash, &peer, BPF_F_INGRESS) != SK_PASS)
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
