/**
 * The drop-reason table of xlb (enum xlb_drop_reason in xlb_kern_user.h), for the controller,
 * the CLI and the metrics. `drop_stats` (per CPU, both objects) is indexed by `value`.
 * `verdict` says what the data plane did with such a packet: `pass` (left to the kernel stack,
 * which drops what is malformed), `drop`, or `tx` (answered instead of forwarded: an ICMP error
 * sent back with XDP_TX). drop-reasons.test.ts checks this table against the
 * header, entry by entry.
 */

import { reasonTable } from '../common/reasons.js';
import type { Reason } from '../common/reasons.js';

const VERDICTS = ['pass', 'drop', 'tx'] as const;
export type XlbDropVerdict = (typeof VERDICTS)[number];
export type XlbDropReason = Reason<'verdict', XlbDropVerdict>;

const table = reasonTable({ prefix: 'XLB_DROP_', key: 'verdict', outcomes: VERDICTS }, [
  { name: 'XLB_DROP_TRUNCATED', value: 1, verdict: 'pass', description: 'a header does not fit in the frame or in the IP length' },
  { name: 'XLB_DROP_BAD_IHL', value: 2, verdict: 'pass', description: "IPv4 IHL below 5 or IP version not the EtherType's" },
  { name: 'XLB_DROP_BAD_LEN', value: 3, verdict: 'pass', description: 'IP total / payload length below the header or beyond the frame' },
  { name: 'XLB_DROP_EXT_CHAIN', value: 4, verdict: 'pass', description: 'more IPv6 extension headers than XLB_MAX_IPV6_EXT' },
  { name: 'XLB_DROP_FRAGMENT', value: 5, verdict: 'drop', description: 'an IP fragment to a VIP' },
  { name: 'XLB_DROP_NO_BACKEND', value: 6, verdict: 'drop', description: 'the table entry is no valid backend, or all probes were draining' },
  { name: 'XLB_DROP_BAD_CONFIG', value: 7, verdict: 'drop', description: 'VIP meta unusable (mode, table size or index out of range)' },
  { name: 'XLB_DROP_NO_NEXTHOP', value: 8, verdict: 'drop', description: 'no MAC for the backend (not on-link and no valid next hop)' },
  { name: 'XLB_DROP_NAT_PORTS_EXHAUSTED', value: 9, verdict: 'drop', description: 'every NAT source port probed is taken by a live flow' },
  { name: 'XLB_DROP_NO_NAT_SOURCE', value: 10, verdict: 'drop', description: "NAT VIP but no NAT source address for the backend's family" },
  { name: 'XLB_DROP_ADJUST_HEAD', value: 11, verdict: 'drop', description: 'bpf_xdp_adjust_head refused to grow the frame' },
  { name: 'XLB_DROP_TOO_BIG', value: 12, verdict: 'drop', description: 'the encapsulated packet would exceed encap_mtu (IPv4 without DF, ICMP errors)' },
  { name: 'XLB_DROP_FAMILY', value: 13, verdict: 'drop', description: 'NAT between address families (IPv4 VIP, IPv6 backend)' },
  { name: 'XLB_DROP_ICMP_NAT', value: 14, verdict: 'pass', description: 'an ICMP error quoting a NAT VIP flow without a usable entry (not translated)' },
  { name: 'XLB_DROP_DECAP_ADJUST_ROOM', value: 15, verdict: 'drop', description: 'decap, bpf_skb_adjust_room failed' },
  { name: 'XLB_DROP_DECAP_BAD_INNER', value: 16, verdict: 'drop', description: 'decap, the inner packet is not IPv4/IPv6 or is truncated' },
  { name: 'XLB_DROP_DECAP_BAD_GUE', value: 17, verdict: 'drop', description: 'decap, GUE control message or unknown GUE version/protocol' },
  { name: 'XLB_DROP_ICMP_TOO_BIG', value: 18, verdict: 'tx', description: 'over encap_mtu with DF (or IPv6): ICMP frag needed / packet too big sent back' },
]);

/**
 * XLB_DROP: reason values by short name (XLB_DROP.TRUNCATED === 1); XLB_DROP_REASONS: every
 * reason but XLB_DROP_NONE (0, unused), in value order; XLB_DROP_MAX: entries of drop_stats;
 * dropReason(value), dropReasonByName(`XLB_DROP_FRAGMENT` or `FRAGMENT`): the reason, or
 * undefined (0 and out-of-range values have none). The list is checked when the module loads.
 */
export const { values: XLB_DROP, reasons: XLB_DROP_REASONS, max: XLB_DROP_MAX, byValue: dropReason, byName: dropReasonByName } = table;
export type XlbDropName = keyof typeof XLB_DROP;
