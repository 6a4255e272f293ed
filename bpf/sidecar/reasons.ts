/**
 * The reason table of the sidecar data plane (enum sidecar_reason in sidecar_kern_user.h), for
 * the proxy, the CLI and the metrics. `reason_stats` (per CPU) is indexed by `value`;
 * conns[socket].reason holds the reason that handed a connection to user space. `path` says where
 * the bytes went: `kernel` (redirected to the peer socket), `user` (the socket the proxy reads)
 * or `normal` (not offloaded). reasons.test.ts checks this table against the header.
 */

export type SidecarPath = 'kernel' | 'user' | 'normal';

/** Reason values by short name: SIDECAR_REASON.DENIED === 5. */
export const SIDECAR_REASON = Object.freeze({
  REDIRECTED: 1,
  NOT_PAIRED: 2,
  PEER_GONE: 3,
  STICKY: 4,
  DENIED: 5,
  HPACK_DYNAMIC: 6,
  HPACK_TABLE_SIZE: 7,
  CONTINUATION: 8,
  PATH_TOO_LONG: 9,
  NO_PATH: 10,
  BAD_HPACK: 11,
  BAD_PREFACE: 12,
  BAD_FRAME: 13,
  SOCKHASH_FULL: 14,
  OFFLOADED: 15,
  TOO_MANY_FRAMES: 16,
  CATCH_UP: 17,
  SETTINGS: 18,
  TAKEN_BACK: 19,
} as const);
export type SidecarReasonName = keyof typeof SIDECAR_REASON;

export interface SidecarReason {
  readonly name: string;
  readonly value: number;
  readonly path: SidecarPath;
  readonly description: string;
}

/** Every reason but SIDECAR_REASON_NONE (0, unused), in value order. */
export const SIDECAR_REASONS: readonly SidecarReason[] = Object.freeze([
  { name: 'SIDECAR_REASON_REDIRECTED', value: 1, path: 'kernel', description: 'redirected to the peer socket' },
  { name: 'SIDECAR_REASON_NOT_PAIRED', value: 2, path: 'user', description: 'the socket has no peer in pairs' },
  { name: 'SIDECAR_REASON_PEER_GONE', value: 3, path: 'user', description: 'the peer is not in sock_hash (closed?), redirect failed' },
  { name: 'SIDECAR_REASON_STICKY', value: 4, path: 'user', description: 'the connection was handed to user space before' },
  { name: 'SIDECAR_REASON_DENIED', value: 5, path: 'user', description: 'the method is denied by the policy' },
  { name: 'SIDECAR_REASON_HPACK_DYNAMIC', value: 6, path: 'user', description: 'a dynamic-table index, or indexing before a table size update to 0' },
  { name: 'SIDECAR_REASON_HPACK_TABLE_SIZE', value: 7, path: 'user', description: 'a dynamic table size update above 0' },
  { name: 'SIDECAR_REASON_CONTINUATION', value: 8, path: 'user', description: 'a header block continued in CONTINUATION frames' },
  { name: 'SIDECAR_REASON_PATH_TOO_LONG', value: 9, path: 'user', description: ':path longer than SIDECAR_MAX_PATH' },
  { name: 'SIDECAR_REASON_NO_PATH', value: 10, path: 'user', description: 'no :path within the fields and bytes scanned' },
  { name: 'SIDECAR_REASON_BAD_HPACK', value: 11, path: 'user', description: 'a malformed HPACK integer, string or index 0' },
  { name: 'SIDECAR_REASON_BAD_PREFACE', value: 12, path: 'user', description: 'a request socket that does not start with the client preface' },
  { name: 'SIDECAR_REASON_BAD_FRAME', value: 13, path: 'user', description: 'HEADERS on stream 0, padding beyond the frame, a second preface' },
  { name: 'SIDECAR_REASON_SOCKHASH_FULL', value: 14, path: 'normal', description: 'sockops could not add the socket to sock_hash' },
  { name: 'SIDECAR_REASON_OFFLOADED', value: 15, path: 'normal', description: 'sockops added the socket to sock_hash (connections, bytes 0)' },
  { name: 'SIDECAR_REASON_TOO_MANY_FRAMES', value: 16, path: 'user', description: 'more frames in one message than SIDECAR_MAX_FRAMES' },
  { name: 'SIDECAR_REASON_CATCH_UP', value: 17, path: 'normal', description: 'a SPLICE socket not paired yet, or its peer has not received all it sent through the proxy (not sticky)' },
  { name: 'SIDECAR_REASON_SETTINGS', value: 18, path: 'kernel', description: 'a SETTINGS frame rewritten to SETTINGS_HEADER_TABLE_SIZE = 0 (SPLICE)' },
  { name: 'SIDECAR_REASON_TAKEN_BACK', value: 19, path: 'user', description: 'the proxy took the socket back (takeback map and its trigger byte: drain, a route timeout)' },
]);

/** Entries of reason_stats (SIDECAR_REASON_MAX). */
export const SIDECAR_REASON_MAX = 20;

/** The reason with `value`, or undefined (0 and out-of-range values have none). */
export function sidecarReason(value: number): SidecarReason | undefined {
  return SIDECAR_REASONS.find((r) => r.value === value);
}

/** The reason called `name` (`SIDECAR_REASON_DENIED` or `DENIED`), or undefined. */
export function sidecarReasonByName(name: string): SidecarReason | undefined {
  const full = name.startsWith('SIDECAR_REASON_') ? name : `SIDECAR_REASON_${name}`;
  return SIDECAR_REASONS.find((r) => r.name === full);
}
