/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * NetCRAQ chain node (issue 14): CRAQ chain replication of hot etcd keys in XDP, one program per
 * chain node, its role, neighbours, epoch and mode in `craq_config`.
 *
 *   READ    clean key (or at the tail): answered here (XDP_TX) with the clean version;
 *           dirty key: VERSION_QUERY to the tail, answered on its VERSION_REPLY;
 *           NetChain mode: non-tail nodes forward the READ toward the tail, only the tail answers.
 *   any client request of a key not in craq_keys: answered NOT_PLACED (the client uses etcd).
 *   WRITE/DELETE  head: a request already applied (its req_id in the key's craq_key.reqs) is
 *           answered, not applied again: OK with its version once committed, else RETRY;
 *           RETRY while the key is held (CRAQ_KEY_HOLD, set by the scheduler);
 *           version := last + 1 (at most CRAQ_MAX_DIRTY dirty, else RETRY), stored
 *           dirty, PROPAGATE to the successor; non-head: NOT_HEAD.
 *   PROPAGATE  stored dirty and forwarded; the tail commits (craq_commits record) and ACKs.
 *   ACK     the version becomes clean; passed up; the head answers the client (WRITE_REPLY).
 *   NetChain mode (chain replication as NetChain does it, no ACK path): every node applies a
 *           WRITE/PROPAGATE newer than its current version as the current value (no dirty
 *           versions) and forwards it; the tail commits it (craq_commits record) and answers the
 *           client (WRITE_REPLY/DELETE_REPLY). A retried request the head already applied is
 *           re-sent down the chain as the PROPAGATE of its version (while the head keeps it):
 *           nodes that hold it pass it on, the tail answers OK with it (README).
 *
 * XDP turns one frame into one frame, so in CRAQ mode the client of a write is answered by the
 * head when the ACK comes back (the tail cannot both ACK and answer). Wire format: craq_kern_user.h,
 * libs/protocol/src/craq. The TypeScript reference model is bpf/craq/model.ts.
 *
 * Concurrency: versions are assigned with a compare-and-swap; clean/last advance by CAS; a slot
 * is written before the version that names it is published. A reader racing a writer that
 * reuses the slot of a version CRAQ_MAX_DIRTY+1 versions older is not excluded (see README).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "craq_consts.h"
#include "craq_kern_user.h"
#include "craq_maps.h"
#include "craq_helpers.h"

/* BTF anchor: the shared structs no map names, so that their layout is in the object's BTF (checked by craq-layout.bpf.test.ts). */
struct craq_btf_anchor {
	struct craq_hdr hdr;
	struct craq_trailer trailer;
	struct craq_commit commit;
	struct craq_req_rec req_rec;
};
const volatile struct craq_btf_anchor craq_btf = {};

static __always_inline struct craq_slot *craq_slot_of(struct craq_key *k, __u64 version)
{
	__u32 i = version % CRAQ_SLOTS;

	asm volatile("" : "+r"(i)); /* keep the bound check: the verifier does not bound a modulo */
	if (i >= CRAQ_SLOTS)
		return NULL;
	return &k->slots[i];
}

/* Raises *field to v if it is lower (a few CAS attempts: concurrent raisers only move it up). */
static __always_inline void craq_raise(__u64 *field, __u64 v)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		__u64 cur = *(volatile __u64 *)field;

		if (cur >= v)
			return;
		if (__sync_val_compare_and_swap(field, cur, v) == cur)
			return;
	}
}

/*
 * Records that request `req_id` created version v of key k, in the key's own ring (req_id 0: not
 * recorded). No map update: the entry is already in hand and the slot of v % CRAQ_REQ_RING is
 * the record of version v - CRAQ_REQ_RING, which it replaces. The version is written before the
 * request id, so a head that matches the id reads this version (or a later one's: see README).
 */
static __always_inline void craq_remember(struct craq_key *k, __u64 req_id, __u64 v)
{
	__u32 i = v % CRAQ_REQ_RING;

	asm volatile("" : "+r"(i)); /* keep the bound check: the verifier does not bound a modulo */
	if (req_id == 0 || i >= CRAQ_REQ_RING)
		return;
	*(volatile __u64 *)&k->reqs[i].version = v;
	*(volatile __u64 *)&k->reqs[i].req_id = req_id;
}

/* The version request `req_id` created of key k, or 0 when it is not among the key's last CRAQ_REQ_RING. */
static __always_inline __u64 craq_remembered(struct craq_key *k, __u64 req_id)
{
	__u32 i;

	if (req_id == 0)
		return 0;
	for (i = 0; i < CRAQ_REQ_RING; i++) {
		if (*(volatile __u64 *)&k->reqs[i].req_id == req_id)
			return *(volatile __u64 *)&k->reqs[i].version;
	}
	return 0;
}

/* Stores version v (value at packet offset `off`, `len` bytes, written by request `req_id`) in its slot. 0 or -1. */
static __always_inline int craq_store(struct xdp_md *ctx, struct craq_key *k, __u64 v, __u32 off, __u32 len, bool tomb, __u64 req_id)
{
	struct craq_slot *s = craq_slot_of(k, v);

	if (!s)
		return -1;
	len &= 0x7ff;
	if (len > CRAQ_MAX_VALUE)
		return -1;
	s->flags = 0;
	{
		__u32 n = craq_copy_len(len);

		if (n > 0 && bpf_xdp_load_bytes(ctx, off, s->value, n))
			return -1;
	}
	s->value[len] = 0;
	s->value[len + 1] = 0;
	s->value[len + 2] = 0;
	s->csum = craq_value_sum(s, len);
	s->len = len;
	s->req_id = req_id;
	s->version = v;
	s->flags = CRAQ_SLOT_VALID | (tomb ? CRAQ_SLOT_TOMBSTONE : 0);
	return 0;
}

static __always_inline void craq_self(struct craq_endpoint *e, const struct craq_config *cfg, __u32 family)
{
	craq_peer_endpoint(e, &cfg->self, family);
	e->port = cfg->port ? cfg->port : bpf_htons(CRAQ_DEFAULT_PORT);
}

/* A neighbour's endpoint; false (reason CRAQ_R_NO_ROLE) when the config has none (port 0). */
static __always_inline bool craq_to_peer(struct craq_endpoint *e, const struct craq_peer *peer, __u32 family, __u32 *reason)
{
	if (peer->port == 0) {
		*reason = CRAQ_R_NO_ROLE;
		return false;
	}
	craq_peer_endpoint(e, peer, family);
	return true;
}

/* Endpoint of the packet's sender (for answers to it). */
static __always_inline void craq_sender(struct craq_endpoint *e, const struct craq_pkt *p)
{
	__builtin_memcpy(e->mac, p->smac, 6);
	e->port = p->sport;
	__builtin_memcpy(e->addr, p->saddr, 16);
}

/* Endpoint of the receiver (this node as the sender addressed it). */
static __always_inline void craq_receiver(struct craq_endpoint *e, const struct craq_pkt *p)
{
	__builtin_memcpy(e->mac, p->dmac, 6);
	e->port = p->dport;
	__builtin_memcpy(e->addr, p->daddr, 16);
}

static __always_inline void craq_client_of_trailer(struct craq_endpoint *e, const struct craq_trailer *t)
{
	__builtin_memcpy(e->mac, t->mac, 6);
	e->port = t->port;
	__builtin_memcpy(e->addr, t->addr, 16);
}

static __always_inline void craq_trailer_of_sender(struct craq_trailer *t, const struct craq_pkt *p)
{
	__builtin_memset(t, 0, sizeof(*t));
	t->family = p->family;
	t->port = p->sport;
	__builtin_memcpy(t->addr, p->saddr, 16);
	__builtin_memcpy(t->mac, p->smac, 6);
}

/* The header of a reply to a client request: op | 0x80, status, version, no value. */
static __always_inline void craq_reply_hdr(struct craq_hdr *h, __u8 status, __u64 version, __u8 flags)
{
	h->op |= 0x80;
	h->status = status;
	h->flags = flags;
	h->value_len = 0;
	h->ver = bpf_cpu_to_be64(version);
}

/* Answers a client READ from the slot of `version` (NOT_FOUND for none or a tombstone). */
static __always_inline int craq_answer_read(struct xdp_md *ctx, const struct craq_pkt *p, struct craq_hdr *h,
					    struct craq_key *k, __u64 version, __u8 flags,
					    const struct craq_endpoint *src, const struct craq_endpoint *dst, __u32 *reason)
{
	struct craq_slot *s = craq_slot_of(k, version);

	h->op = CRAQ_OP_READ;
	if (version == 0 || !s || s->version != version || !(s->flags & CRAQ_SLOT_VALID) ||
	    (s->flags & CRAQ_SLOT_TOMBSTONE)) {
		__u8 st = CRAQ_ST_NOT_FOUND;

		if (version != 0 && (!s || s->version != version || !(s->flags & CRAQ_SLOT_VALID)))
			st = CRAQ_ST_RETRY;
		craq_reply_hdr(h, st, version, flags);
		return craq_emit(ctx, p, h, NULL, false, NULL, src, dst, reason);
	}
	craq_reply_hdr(h, CRAQ_ST_OK, version, flags);
	h->value_len = bpf_htons(s->len);
	return craq_emit(ctx, p, h, s, false, NULL, src, dst, reason);
}

static __always_inline int craq_handle(struct xdp_md *ctx, struct craq_pkt *p, const struct craq_config *cfg,
				       struct craq_key *k, __u32 *reason, __u32 *stat)
{
	struct craq_endpoint src, dst;
	struct craq_hdr *h = &p->h;
	bool head = cfg->role & CRAQ_ROLE_HEAD, tail = cfg->role & CRAQ_ROLE_TAIL;
	bool netchain = (cfg->flags & CRAQ_CFG_NETCHAIN) && !(head && tail); /* a chain of one commits at once in both modes */
	__u64 v = bpf_be64_to_cpu(h->ver);
	__u32 vmsg = p->l4off + 8 + CRAQ_HDR_LEN;

	/* chain-internal messages: this epoch, from the expected neighbour */
	if (p->has_trailer) {
		if (bpf_ntohl(h->epoch) != cfg->epoch) {
			*reason = CRAQ_R_WRONG_EPOCH;
			return XDP_DROP;
		}
		if (p->t.family != p->family) {
			*reason = CRAQ_R_BAD_HEADER;
			return XDP_DROP;
		}
		if (((h->op == CRAQ_OP_PROPAGATE || h->op == CRAQ_OP_READ) && (head || !craq_addr_eq(p->saddr, &cfg->pred, p->family))) ||
		    (h->op == CRAQ_OP_ACK && (tail || !craq_addr_eq(p->saddr, &cfg->succ, p->family))) ||
		    (h->op == CRAQ_OP_VERSION_REPLY && !craq_addr_eq(p->saddr, &cfg->tail, p->family))) {
			*reason = CRAQ_R_FORGED;
			return XDP_DROP;
		}
	}

	/* neighbours needed after a state change are checked before it */
	if (((h->op == CRAQ_OP_WRITE || h->op == CRAQ_OP_DELETE) && head && !tail && cfg->succ.port == 0) ||
	    (h->op == CRAQ_OP_PROPAGATE && (tail ? cfg->pred.port : cfg->succ.port) == 0) ||
	    (h->op == CRAQ_OP_ACK && !head && cfg->pred.port == 0)) {
		*reason = CRAQ_R_NO_ROLE;
		return XDP_DROP;
	}

	switch (h->op) {
	case CRAQ_OP_READ:
		__sync_fetch_and_add(&k->reads, 1);
		if (p->has_trailer) { /* NetChain: a READ forwarded by the predecessor */
			craq_self(&src, cfg, p->family);
			if (tail) {
				craq_client_of_trailer(&dst, &p->t);
				h->flags = 0;
				*stat = CRAQ_S_READ_CLEAN;
				return craq_answer_read(ctx, p, h, k, k->clean_version, CRAQ_F_FROM_TAIL, &src, &dst, reason);
			}
			if (!craq_to_peer(&dst, &cfg->succ, p->family, reason))
				return XDP_DROP;
			*stat = CRAQ_S_READ_FORWARD;
			return craq_emit(ctx, p, h, NULL, false, &p->t, &src, &dst, reason);
		}
		if (!tail && (cfg->flags & CRAQ_CFG_NETCHAIN)) {
			struct craq_trailer t;

			craq_trailer_of_sender(&t, p);
			craq_self(&src, cfg, p->family);
			if (!craq_to_peer(&dst, &cfg->succ, p->family, reason))
				return XDP_DROP;
			h->flags = CRAQ_F_CLIENT;
			h->epoch = bpf_htonl(cfg->epoch);
			*stat = CRAQ_S_READ_FORWARD;
			return craq_emit(ctx, p, h, NULL, false, &t, &src, &dst, reason);
		}
		craq_receiver(&src, p);
		if (tail || k->last_version <= k->clean_version) {
			craq_sender(&dst, p);
			*stat = CRAQ_S_READ_CLEAN;
			return craq_answer_read(ctx, p, h, k, k->clean_version, tail ? CRAQ_F_FROM_TAIL : 0, &src, &dst, reason);
		} else {
			struct craq_trailer t;

			craq_trailer_of_sender(&t, p);
			craq_self(&src, cfg, p->family);
			if (!craq_to_peer(&dst, &cfg->tail, p->family, reason))
				return XDP_DROP;
			h->op = CRAQ_OP_VERSION_QUERY;
			h->flags = CRAQ_F_CLIENT;
			h->epoch = bpf_htonl(cfg->epoch);
			h->ver = 0;
			*stat = CRAQ_S_READ_QUERY;
			return craq_emit(ctx, p, h, NULL, false, &t, &src, &dst, reason);
		}

	case CRAQ_OP_WRITE:
	case CRAQ_OP_DELETE: {
		bool tomb = h->op == CRAQ_OP_DELETE;
		__u64 last, clean, done;

		craq_receiver(&src, p);
		craq_sender(&dst, p);
		if (!head) {
			craq_reply_hdr(h, CRAQ_ST_NOT_HEAD, 0, 0);
			*stat = CRAQ_S_NOT_HEAD;
			return craq_emit(ctx, p, h, NULL, false, NULL, &src, &dst, reason);
		}
		/*
		 * At most once: a request this node (or a predecessor, or a repair) already made a
		 * version of is not applied again. Committed: answered as the tail's ACK would have been;
		 * still dirty: RETRY (its ACK or a repair commits it).
		 */
		done = craq_remembered(k, bpf_be64_to_cpu(h->req_id));
		if (done != 0 && netchain) {
			/*
			 * NetChain: the head never learns that a version committed, so it re-sends the
			 * version down the chain, whose tail answers (OK: it committed it or a newer one).
			 * Its slot reused by CRAQ_SLOTS newer versions: RETRY (nothing re-sent).
			 */
			struct craq_slot *s = craq_slot_of(k, done);
			struct craq_trailer t;

			*stat = CRAQ_S_DUPLICATE;
			if (!s || s->version != done || !(s->flags & CRAQ_SLOT_VALID)) {
				craq_reply_hdr(h, CRAQ_ST_RETRY, 0, 0);
				return craq_emit(ctx, p, h, NULL, false, NULL, &src, &dst, reason);
			}
			craq_trailer_of_sender(&t, p);
			craq_self(&src, cfg, p->family);
			if (!craq_to_peer(&dst, &cfg->succ, p->family, reason))
				return XDP_DROP;
			h->op = CRAQ_OP_PROPAGATE;
			h->flags = CRAQ_F_CLIENT | ((s->flags & CRAQ_SLOT_TOMBSTONE) ? CRAQ_F_TOMBSTONE : 0);
			h->epoch = bpf_htonl(cfg->epoch);
			h->value_len = bpf_htons(s->len);
			h->ver = bpf_cpu_to_be64(done);
			return craq_emit(ctx, p, h, s, false, &t, &src, &dst, reason);
		}
		if (done != 0) {
			clean = *(volatile __u64 *)&k->clean_version;
			if (done <= clean)
				craq_reply_hdr(h, CRAQ_ST_OK, done, CRAQ_F_FROM_TAIL);
			else
				craq_reply_hdr(h, CRAQ_ST_RETRY, 0, 0);
			*stat = CRAQ_S_DUPLICATE;
			return craq_emit(ctx, p, h, NULL, false, NULL, &src, &dst, reason);
		}
		if (*(volatile __u32 *)&k->flags & CRAQ_KEY_HOLD) { /* writes held by the scheduler */
			craq_reply_hdr(h, CRAQ_ST_RETRY, 0, 0);
			*stat = CRAQ_S_RETRY;
			return craq_emit(ctx, p, h, NULL, false, NULL, &src, &dst, reason);
		}
		last = *(volatile __u64 *)&k->last_version;
		clean = *(volatile __u64 *)&k->clean_version;
		if (!netchain && last - clean >= CRAQ_MAX_DIRTY) {
			__sync_fetch_and_add(&k->dirty_full, 1);
			craq_reply_hdr(h, CRAQ_ST_RETRY, 0, 0);
			*stat = CRAQ_S_RETRY;
			return craq_emit(ctx, p, h, NULL, false, NULL, &src, &dst, reason);
		}
		v = last + 1;
		if (__sync_val_compare_and_swap(&k->last_version, last, v) != last) {
			craq_reply_hdr(h, CRAQ_ST_RETRY, 0, 0);
			*stat = CRAQ_S_RETRY;
			return craq_emit(ctx, p, h, NULL, false, NULL, &src, &dst, reason);
		}
		if (tail) { /* a chain of one: commit now */
			struct craq_commit *rec = bpf_ringbuf_reserve(&craq_commits, sizeof(*rec), 0);

			if (!rec) {
				*reason = CRAQ_R_RINGBUF;
				return XDP_DROP;
			}
			if (craq_store(ctx, k, v, vmsg, p->value_len, tomb, bpf_be64_to_cpu(h->req_id))) {
				bpf_ringbuf_discard(rec, 0);
				*reason = CRAQ_R_ADJUST;
				return XDP_DROP;
			}
			craq_remember(k, bpf_be64_to_cpu(h->req_id), v);
			rec->key_id = bpf_be64_to_cpu(h->key_id);
			rec->version = v;
			rec->key_check = bpf_ntohl(h->key_check);
			rec->epoch = cfg->epoch;
			rec->value_len = p->value_len;
			rec->tombstone = tomb;
			if (craq_copy_len(p->value_len) > 0)
				bpf_xdp_load_bytes(ctx, vmsg, rec->value, craq_copy_len(p->value_len));
			bpf_ringbuf_submit(rec, 0);
			craq_raise(&k->clean_version, v);
			__sync_fetch_and_add(&k->writes, 1);
			craq_reply_hdr(h, CRAQ_ST_OK, v, CRAQ_F_FROM_TAIL);
			*stat = CRAQ_S_COMMIT;
			return craq_emit(ctx, p, h, NULL, false, NULL, &src, &dst, reason);
		}
		if (craq_store(ctx, k, v, vmsg, p->value_len, tomb, bpf_be64_to_cpu(h->req_id))) {
			*reason = CRAQ_R_ADJUST;
			return XDP_DROP;
		}
		craq_remember(k, bpf_be64_to_cpu(h->req_id), v);
		if (netchain) /* applied as the current value: no dirty versions, no ACK to wait for */
			craq_raise(&k->clean_version, v);
		__sync_fetch_and_add(&k->writes, 1);
		{
			struct craq_trailer t;

			craq_trailer_of_sender(&t, p);
			craq_self(&src, cfg, p->family);
			if (!craq_to_peer(&dst, &cfg->succ, p->family, reason))
				return XDP_DROP;
			h->op = CRAQ_OP_PROPAGATE;
			h->flags = CRAQ_F_CLIENT | (tomb ? CRAQ_F_TOMBSTONE : 0);
			h->epoch = bpf_htonl(cfg->epoch);
			h->ver = bpf_cpu_to_be64(v);
			*stat = CRAQ_S_WRITE;
			return craq_emit(ctx, p, h, craq_slot_of(k, v), true, &t, &src, &dst, reason);
		}
	}

	case CRAQ_OP_PROPAGATE: {
		bool tomb = (h->flags & CRAQ_F_TOMBSTONE) != 0;
		struct craq_commit *rec = NULL;

		if (netchain && v <= k->clean_version) {
			/*
			 * NetChain: a version this node applied already (a retry the head re-sent) or one a
			 * newer version superseded. The tail answers it OK (a version >= v committed here,
			 * and v was assigned before it); a node still holding v passes it on; any other
			 * node drops it as out of order, as NetChain does.
			 */
			struct craq_slot *s = craq_slot_of(k, v);

			craq_self(&src, cfg, p->family);
			*stat = CRAQ_S_DUPLICATE;
			if (tail) {
				craq_client_of_trailer(&dst, &p->t);
				h->op = tomb ? CRAQ_OP_DELETE : CRAQ_OP_WRITE;
				craq_reply_hdr(h, CRAQ_ST_OK, v, CRAQ_F_FROM_TAIL);
				return craq_emit(ctx, p, h, NULL, false, NULL, &src, &dst, reason);
			}
			if (!s || s->version != v || !(s->flags & CRAQ_SLOT_VALID)) {
				*stat = CRAQ_S_MAX;
				*reason = CRAQ_R_STALE;
				return XDP_DROP;
			}
			if (!craq_to_peer(&dst, &cfg->succ, p->family, reason))
				return XDP_DROP;
			h->value_len = bpf_htons(s->len); /* the value as this node holds it */
			return craq_emit(ctx, p, h, s, false, &p->t, &src, &dst, reason);
		}
		if (v <= k->clean_version) {
			*reason = CRAQ_R_STALE;
			return XDP_DROP;
		}
		if (!netchain && v - k->clean_version > CRAQ_MAX_DIRTY) {
			__sync_fetch_and_add(&k->dirty_full, 1);
			*reason = CRAQ_R_DIRTY_FULL;
			return XDP_DROP;
		}
		if (tail) {
			rec = bpf_ringbuf_reserve(&craq_commits, sizeof(*rec), 0);
			if (!rec) {
				*reason = CRAQ_R_RINGBUF;
				return XDP_DROP;
			}
		}
		if (craq_store(ctx, k, v, vmsg, p->value_len, tomb, bpf_be64_to_cpu(h->req_id))) {
			if (rec)
				bpf_ringbuf_discard(rec, 0);
			*reason = CRAQ_R_ADJUST;
			return XDP_DROP;
		}
		craq_remember(k, bpf_be64_to_cpu(h->req_id), v);
		craq_raise(&k->last_version, v);
		if (netchain) /* applied as the current value */
			craq_raise(&k->clean_version, v);
		__sync_fetch_and_add(&k->writes, 1);
		craq_self(&src, cfg, p->family);
		if (!rec) {
			if (!craq_to_peer(&dst, &cfg->succ, p->family, reason))
				return XDP_DROP;
			*stat = CRAQ_S_PROPAGATE;
			return craq_emit(ctx, p, h, craq_slot_of(k, v), true, &p->t, &src, &dst, reason);
		}
		rec->key_id = bpf_be64_to_cpu(h->key_id);
		rec->version = v;
		rec->key_check = bpf_ntohl(h->key_check);
		rec->epoch = cfg->epoch;
		rec->value_len = p->value_len;
		rec->tombstone = tomb;
		if (craq_copy_len(p->value_len) > 0)
			bpf_xdp_load_bytes(ctx, vmsg, rec->value, craq_copy_len(p->value_len));
		bpf_ringbuf_submit(rec, 0);
		craq_raise(&k->clean_version, v);
		if (netchain) { /* NetChain: the tail answers the client; nothing goes back up the chain */
			craq_client_of_trailer(&dst, &p->t);
			h->op = tomb ? CRAQ_OP_DELETE : CRAQ_OP_WRITE;
			craq_reply_hdr(h, CRAQ_ST_OK, v, CRAQ_F_FROM_TAIL);
			*stat = CRAQ_S_COMMIT;
			return craq_emit(ctx, p, h, NULL, false, NULL, &src, &dst, reason);
		}
		if (!craq_to_peer(&dst, &cfg->pred, p->family, reason))
			return XDP_DROP;
		h->op = CRAQ_OP_ACK;
		h->value_len = 0;
		*stat = CRAQ_S_COMMIT;
		return craq_emit(ctx, p, h, NULL, false, &p->t, &src, &dst, reason);
	}

	case CRAQ_OP_ACK:
		if (v > k->last_version) {
			*reason = CRAQ_R_STALE;
			return XDP_DROP;
		}
		craq_raise(&k->clean_version, v);
		craq_self(&src, cfg, p->family);
		if (head) {
			craq_client_of_trailer(&dst, &p->t);
			h->op = (h->flags & CRAQ_F_TOMBSTONE) ? CRAQ_OP_DELETE : CRAQ_OP_WRITE;
			craq_reply_hdr(h, CRAQ_ST_OK, v, CRAQ_F_FROM_TAIL);
			*stat = CRAQ_S_WRITE_REPLY;
			return craq_emit(ctx, p, h, NULL, false, NULL, &src, &dst, reason);
		}
		if (!craq_to_peer(&dst, &cfg->pred, p->family, reason))
			return XDP_DROP;
		*stat = CRAQ_S_ACK;
		return craq_emit(ctx, p, h, NULL, false, &p->t, &src, &dst, reason);

	case CRAQ_OP_VERSION_QUERY: {
		struct craq_slot *s;

		if (!tail) {
			*reason = CRAQ_R_NOT_TAIL;
			return XDP_DROP;
		}
		craq_self(&src, cfg, p->family);
		craq_sender(&dst, p);
		v = k->clean_version;
		s = craq_slot_of(k, v);
		h->op = CRAQ_OP_VERSION_REPLY;
		h->flags = CRAQ_F_CLIENT;
		if (s && s->version == v && (s->flags & CRAQ_SLOT_TOMBSTONE))
			h->flags |= CRAQ_F_TOMBSTONE;
		h->ver = bpf_cpu_to_be64(v);
		*stat = CRAQ_S_VQUERY;
		return craq_emit(ctx, p, h, NULL, false, &p->t, &src, &dst, reason);
	}

	case CRAQ_OP_VERSION_REPLY:
		/* the tail committed v: a version this node holds dirty up to v is clean (repairs a lost ACK) */
		if (v <= k->last_version)
			craq_raise(&k->clean_version, v);
		craq_self(&src, cfg, p->family);
		craq_client_of_trailer(&dst, &p->t);
		*stat = CRAQ_S_READ_VREPLY;
		return craq_answer_read(ctx, p, h, k, v, CRAQ_F_FROM_TAIL, &src, &dst, reason);
	}
	*reason = CRAQ_R_UNKNOWN_OP;
	return XDP_DROP;
}

SEC("xdp")
int craq_node(struct xdp_md *ctx)
{
	struct craq_pkt p;
	struct craq_config *cfg;
	struct craq_key *k;
	__u32 zero = 0, reason = 0, stat = CRAQ_S_MAX;
	__u64 bytes = ctx->data_end - ctx->data;
	__u64 key_id;
	int verdict;

	cfg = bpf_map_lookup_elem(&craq_config, &zero);
	if (!cfg)
		return XDP_PASS;
	verdict = craq_parse(ctx, cfg->port ? cfg->port : bpf_htons(CRAQ_DEFAULT_PORT), &p, &reason);
	if (verdict >= 0)
		goto out;
	if (!(cfg->flags & CRAQ_CFG_ENABLED)) {
		reason = CRAQ_R_DISABLED;
		verdict = XDP_PASS;
		goto out;
	}
	key_id = bpf_be64_to_cpu(p.h.key_id);
	k = bpf_map_lookup_elem(&craq_keys, &key_id);
	if (!k) {
		if (p.h.op <= CRAQ_OP_DELETE && !p.has_trailer) {
			/* a client's READ/WRITE/DELETE of a key not here: NOT_PLACED, so the client goes to etcd
			   at once (nothing else on the node would answer it) knowing nothing was applied */
			struct craq_endpoint src, dst;

			craq_receiver(&src, &p);
			craq_sender(&dst, &p);
			craq_reply_hdr(&p.h, CRAQ_ST_NOT_PLACED, 0, 0);
			stat = CRAQ_S_NOT_PLACED;
			verdict = craq_emit(ctx, &p, &p.h, NULL, false, NULL, &src, &dst, &reason);
			goto out;
		}
		reason = CRAQ_R_NOT_PLACED;
		verdict = XDP_PASS;
		goto out;
	}
	if (k->key_check != bpf_ntohl(p.h.key_check)) {
		reason = CRAQ_R_KEY_CHECK;
		verdict = XDP_PASS;
		goto out;
	}
	verdict = craq_handle(ctx, &p, cfg, k, &reason, &stat);
out:
	if (reason != 0 && reason < CRAQ_R_MAX)
		craq_count(&craq_reasons, reason, bytes);
	else if (stat < CRAQ_S_MAX)
		craq_count(&craq_stats, stat, bytes);
	return verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
