/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Finds a Paxos message in a frame: Ethernet (+VLAN), IPv4 without fragments or IPv6 with UDP as
 * the next header, UDP to the group's port, then the 32-byte header checked against the wire
 * format (magic, version, body_len equal to the UDP payload after the header, the payload inside
 * the frame). Works on XDP and TC frames alike (a cursor over [data, data_end)).
 */
#ifndef ELECTRODE_PARSING_H
#define ELECTRODE_PARSING_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netaccel_parsing.h"
#include "electrode_consts.h"
#include "electrode_kern_user.h"

/* What el_parse found. Offsets are from the start of the frame. */
struct el_msg {
	struct ethhdr *eth;
	void *l3;              /* struct iphdr or struct ipv6hdr */
	struct udphdr *udp;
	struct paxos_hdr *hdr;
	__u32 l3_off;
	__u32 udp_off;
	__u32 body_off;
	__u32 body_len;        /* checked: UDP payload - 32, inside the frame */
	__u8 family;           /* 4 or 6 */
	__u8 ip_options;       /* IPv4 header longer than 20 bytes */
	__u8 type;
	__u8 pad;
};

/* el_parse results: the frame is not a message to the port, a malformed one, or a message. */
enum el_parse_result {
	EL_NOT_MINE = 0,
	EL_MALFORMED = 1,
	EL_MESSAGE = 2,
};

/* Parses [c->pos, c->end) for a Paxos message to UDP port `port` (network order). */
static __always_inline enum el_parse_result el_parse(struct na_cursor *c, __be16 port, struct el_msg *m)
{
	void *start = c->pos;
	struct iphdr *ip4;
	struct ipv6hdr *ip6;
	__be16 proto;
	__u32 udp_len;

	m->eth = na_parse_eth(c, &proto);
	if (!m->eth)
		return EL_NOT_MINE;
	m->l3 = c->pos;
	m->l3_off = (__u32)(c->pos - start);
	if (proto == NA_ETH_P_IP_BE) {
		ip4 = na_parse_ipv4(c);
		if (!ip4 || ip4->protocol != EL_IPPROTO_UDP)
			return EL_NOT_MINE;
		m->family = 4;
		m->ip_options = ip4->ihl != 5;
		m->udp = NA_PULL(c, struct udphdr);
		if (na_ipv4_is_fragment(ip4)) {
			/* a later fragment has no UDP header to look at; a first one to us is malformed */
			if (ip4->frag_off & bpf_htons(0x1FFF))
				return EL_NOT_MINE;
			return m->udp && m->udp->dest == port ? EL_MALFORMED : EL_NOT_MINE;
		}
	} else if (proto == EL_ETH_P_IPV6_BE) {
		ip6 = NA_PULL(c, struct ipv6hdr);
		if (!ip6 || ip6->version != 6 || ip6->nexthdr != EL_IPPROTO_UDP)
			return EL_NOT_MINE;
		m->family = 6;
		m->ip_options = 0;
		m->udp = NA_PULL(c, struct udphdr);
	} else {
		return EL_NOT_MINE;
	}
	if (!m->udp || m->udp->dest != port)
		return EL_NOT_MINE;
	m->udp_off = (__u32)((void *)m->udp - start);
	m->hdr = NA_PULL(c, struct paxos_hdr);
	if (!m->hdr)
		return EL_MALFORMED;
	if (m->hdr->magic != bpf_htonl(PAXOS_MAGIC) || m->hdr->version != PAXOS_VERSION)
		return EL_MALFORMED;
	udp_len = bpf_ntohs(m->udp->len);
	if (udp_len < sizeof(struct udphdr) + PAXOS_HDR_LEN || udp_len > sizeof(struct udphdr) + PAXOS_MAX_MSG)
		return EL_MALFORMED;
	m->body_len = udp_len - sizeof(struct udphdr) - PAXOS_HDR_LEN;
	if (bpf_ntohl(m->hdr->body_len) != m->body_len)
		return EL_MALFORMED;
	if (c->pos + m->body_len > c->end)
		return EL_MALFORMED;
	m->body_off = (__u32)(c->pos - start);
	m->type = m->hdr->type;
	return EL_MESSAGE;
}

/* The reason for a message the offloads do not handle by type (0 when the type is theirs). */
static __always_inline __u32 el_type_reason(__u8 type)
{
	if (type == PAXOS_PREPARE || type == PAXOS_PREPARE_OK)
		return ELECTRODE_R_NONE;
	if (type == 0 || type > PAXOS_TYPE_MAX)
		return ELECTRODE_R_UNKNOWN_TYPE;
	return ELECTRODE_R_OTHER_TYPE;
}

#endif /* ELECTRODE_PARSING_H */
