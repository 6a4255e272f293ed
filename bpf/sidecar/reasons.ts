/**
 * The reason table of the sidecar data plane (enum sidecar_reason in sidecar_kern_user.h), for
 * the proxy, the CLI and the metrics. `reason_stats` (per CPU) is indexed by `value`;
 * conns[socket].reason holds the reason that handed a connection to user space. `path` says where
 * the bytes went: `kernel` (redirected to the peer socket), `user` (the socket the proxy reads)
 * or `normal` (not offloaded). reasons.test.ts checks this table against the header.
 */

import { reasonTable } from '../common/reasons.js';
import type { Reason } from '../common/reasons.js';

const PATHS = ['kernel', 'user', 'normal'] as const;
export type SidecarPath = (typeof PATHS)[number];
export type SidecarReason = Reason<'path', SidecarPath>;

const table = reasonTable({ prefix: 'SIDECAR_REASON_', key: 'path', outcomes: PATHS }, [
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

/**
 * SIDECAR_REASON: reason values by short name (SIDECAR_REASON.DENIED === 5); SIDECAR_REASONS:
 * every reason but SIDECAR_REASON_NONE (0, unused), in value order; SIDECAR_REASON_MAX: entries
 * of reason_stats; sidecarReason(value), sidecarReasonByName(`SIDECAR_REASON_DENIED` or
 * `DENIED`): the reason, or undefined (0 and out-of-range values have none). The list is
 * checked when the module loads.
 */
export const { values: SIDECAR_REASON, reasons: SIDECAR_REASONS, max: SIDECAR_REASON_MAX, byValue: sidecarReason, byName: sidecarReasonByName } = table;
export type SidecarReasonName = keyof typeof SIDECAR_REASON;
