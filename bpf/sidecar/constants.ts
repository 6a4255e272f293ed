/**
 * Constants shared with the C headers (sidecar_kern_user.h, sidecar_consts.h): rule and
 * connection flags, actions, build-time defaults, the object and its programs and maps.
 * constants.test.ts compares them with the headers.
 */

/** sidecar_rule.flags (copied into sidecar_conn.flags by sockops). */
export const SIDECAR_RULE_F = Object.freeze({
  /** sk_msg: what the socket sends goes to the peer's receive queue. */
  MSG: 0x1,
  /** sk_skb: what the socket receives is HTTP/2, framed and redirected to the peer's send queue. */
  H2: 0x2,
  /** H2: the socket receives requests (client side: preface, policy). */
  REQUESTS: 0x4,
  /** H2: the socket receives responses (upstream side: status, latency). */
  RESPONSES: 0x8,
  /**
   * MSG | H2, the daemon's mode: the proxy relays the connection's first bytes and pairs it late;
   * sends before the pair, or before the peer received all this socket sent through the proxy,
   * take the normal path without a hand-over; SETTINGS say HEADER_TABLE_SIZE = 0.
   */
  SPLICE: 0x10,
  ALL: 0x1f,
} as const);

/** sidecar_conn.flags set by the kernel. */
export const SIDECAR_CONN_F = Object.freeze({
  USER: 0x100,
  PREFACE_DONE: 0x200,
  HPACK_CLEAN: 0x400,
  ACTIVE: 0x800,
} as const);

/** enum sidecar_action. */
export const SIDECAR_ACTION = Object.freeze({ NONE: 0, ALLOW: 1, DENY: 2 } as const);
export type SidecarActionName = 'allow' | 'deny';

/** ABI constants of sidecar_kern_user.h (struct sizes depend on them). */
export const SIDECAR_MAX_PATH = 128;
export const SIDECAR_STATUS_UNKNOWN = 17;
export const SIDECAR_STATUS_SLOTS = 18;
export const SIDECAR_LATENCY_BUCKETS = 24;

/** Build-time defaults of sidecar_consts.h (`make DEFINES=-D...` overrides them). */
export const SIDECAR_BUILD_DEFAULTS = Object.freeze({
  SIDECAR_MAX_SOCKS: 65536,
  SIDECAR_MAX_METHODS: 1024,
  SIDECAR_MAX_STREAMS: 65536,
  SIDECAR_MAX_HBLOCK: 256,
  SIDECAR_MAX_FRAME_LEN: 16384,
  SIDECAR_MAX_FRAMES: 256,
  SIDECAR_MAX_FIELDS: 16,
  SIDECAR_MAX_TIMEOUT_FIELDS: 6,
} as const);

/** The object (path under bpf/), its programs by attach type and its maps. */
export const SIDECAR_OBJECT = Object.freeze({
  path: 'build/sidecar/sidecar.bpf.o',
  programs: Object.freeze({
    sockops: 'sidecar_sockops', // cgroup_sock_ops on the cgroup of the offloaded workloads
    msg: 'sidecar_msg', // sk_msg_verdict on sock_hash
    parser: 'sidecar_parser', // sk_skb_stream_parser on sock_hash
    verdict: 'sidecar_verdict', // sk_skb_stream_verdict on sock_hash
  }),
  maps: Object.freeze([
    'sock_hash', 'splice_hash', 'offload_rules', 'pairs', 'conns', 'policy', 'sidecar_cfg', 'streams', 'method_stats', 'reason_stats', 'scratch',
    'takeback',
  ] as const),
});
export type SidecarMapName = (typeof SIDECAR_OBJECT.maps)[number];
