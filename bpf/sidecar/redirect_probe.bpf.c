// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The sockmap redirect alone, for measuring it apart from sidecar.bpf.o's parsing and telemetry
 * (issue 16; bench/sidecar's `sidecar-redirect` lane, README "Cost per message"):
 *
 *   redirect_sockops  (sockops, cgroup)  established TCP sockets with probe_port at either end
 *                                        -> probe_hash, by their own 4-tuple (sidecar_keys.h)
 *   redirect_msg      (sk_msg verdict)   every send goes to the receive queue of the other end
 *                                        of its connection (bpf_msg_redirect_hash, BPF_F_INGRESS)
 *   redirect_verdict  (sk_skb verdict)   optional: passes every skb (SK_PASS), for measuring what
 *                                        a verdict on the sockhash costs (the kernel path's SPLICE
 *                                        sockets have one: their reads go through
 *                                        tcp_bpf_recvmsg_parser)
 *
 * Merbridge's arrangement between two local sockets: the same per-send kernel work as the
 * sidecar's kernel path (tcp_bpf_sendmsg, the peer's ingress queue, tcp_bpf_recvmsg) with no
 * frame walk, no map but the sockhash and two per-CPU counters. A send whose peer is not in
 * probe_hash (yet, or any more) takes the normal TCP path: passed, never dropped.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sidecar_kern_user.h"
#include "sidecar_keys.h"

#ifndef REDIRECT_PROBE_MAX_SOCKS
#define REDIRECT_PROBE_MAX_SOCKS 1024
#endif

/* Rows of probe_stats (bpf/sidecar/redirect-probe.ts REDIRECT_PROBE_STATS). */
#define REDIRECT_PROBE_REDIRECTED 0 /* sends redirected to the peer's receive queue */
#define REDIRECT_PROBE_PASSED     1 /* sends whose peer was not in probe_hash: normal TCP path */
#define REDIRECT_PROBE_STATS      2

/* The port (host order) whose connections are put in probe_hash; 0 puts none. Set before load. */
const volatile __u16 probe_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, REDIRECT_PROBE_MAX_SOCKS);
	__type(key, struct sidecar_sock_key);
	__type(value, __u64);
} probe_hash SEC(".maps");

struct redirect_probe_stat {
	__u64 sends;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, REDIRECT_PROBE_STATS);
	__type(key, __u32);
	__type(value, struct redirect_probe_stat);
} probe_stats SEC(".maps");

static __always_inline void redirect_probe_count(__u32 row, __u64 bytes)
{
	struct redirect_probe_stat *s = bpf_map_lookup_elem(&probe_stats, &row);

	if (!s)
		return;
	s->sends++;
	s->bytes += bytes;
}

SEC("sockops")
int redirect_sockops(struct bpf_sock_ops *skops)
{
	struct sidecar_sock_key key;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (probe_port == 0 || SIDECAR_KEY_FROM(skops, &key))
		return 1;
	if (key.local_port != bpf_htons(probe_port) && key.remote_port != bpf_htons(probe_port))
		return 1;
	bpf_sock_hash_update(skops, &probe_hash, &key, BPF_ANY);
	return 1;
}

SEC("sk_msg")
int redirect_msg(struct sk_msg_md *msg)
{
	struct sidecar_sock_key key, peer;
	__u64 size = msg->size;

	if (SIDECAR_KEY_FROM(msg, &key))
		return SK_PASS;
	sidecar_reverse(&key, &peer);
	if (bpf_msg_redirect_hash(msg, &probe_hash, &peer, BPF_F_INGRESS) == SK_PASS) {
		redirect_probe_count(REDIRECT_PROBE_REDIRECTED, size);
		return SK_PASS;
	}
	redirect_probe_count(REDIRECT_PROBE_PASSED, size);
	return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int redirect_verdict(struct __sk_buff *skb)
{
	(void)skb;
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
