/**
 * The reason table of the NetCRAQ node (enum craq_reason in craq_kern_user.h) and its action
 * counters (enum craq_stat), for the scheduler, the CLI and the metrics. `craq_reasons` and
 * `craq_stats` (per CPU) are indexed by `value`. reasons.test.ts checks both tables against the
 * header, entry by entry.
 */

import { reasonTable } from '../common/reasons.js';
import type { Reason } from '../common/reasons.js';

const VERDICTS = ['pass', 'drop'] as const;
export type CraqReasonVerdict = (typeof VERDICTS)[number];
export type CraqReason = Reason<'verdict', CraqReasonVerdict>;

const table = reasonTable({ prefix: 'CRAQ_R_', key: 'verdict', outcomes: VERDICTS }, [
  { name: 'CRAQ_R_DISABLED', value: 1, verdict: 'pass', description: 'the node is not enabled (craq_config.flags)' },
  { name: 'CRAQ_R_NOT_PLACED', value: 2, verdict: 'pass', description: 'a chain message of a key id not in craq_keys (client requests are answered NOT_PLACED)' },
  { name: 'CRAQ_R_KEY_CHECK', value: 3, verdict: 'pass', description: 'key id placed with another key_check (a collision)' },
  { name: 'CRAQ_R_REPLY', value: 4, verdict: 'pass', description: 'a reply op to this host (a client here)' },
  { name: 'CRAQ_R_IP', value: 5, verdict: 'pass', description: 'IPv4 options or fragment, IPv6 extension headers' },
  { name: 'CRAQ_R_TRUNCATED', value: 6, verdict: 'drop', description: 'UDP payload shorter than the header, value or trailer' },
  { name: 'CRAQ_R_BAD_HEADER', value: 7, verdict: 'drop', description: 'magic, version, status of a request or flags invalid' },
  { name: 'CRAQ_R_UNKNOWN_OP', value: 8, verdict: 'drop', description: 'op is not one of the ten' },
  { name: 'CRAQ_R_VALUE_TOO_LARGE', value: 9, verdict: 'drop', description: 'value_len over CRAQ_MAX_VALUE, or a value on an op without one' },
  { name: 'CRAQ_R_BAD_LENGTH', value: 10, verdict: 'drop', description: 'UDP length differs from the message length, or beyond the frame' },
  { name: 'CRAQ_R_WRONG_EPOCH', value: 11, verdict: 'drop', description: 'chain-internal message of another epoch' },
  { name: 'CRAQ_R_FORGED', value: 12, verdict: 'drop', description: 'chain-internal message not from the expected neighbour' },
  { name: 'CRAQ_R_NOT_TAIL', value: 13, verdict: 'drop', description: 'VERSION_QUERY at a node that is not the tail' },
  { name: 'CRAQ_R_STALE', value: 14, verdict: 'drop', description: 'PROPAGATE/ACK/VERSION_REPLY of a version already superseded' },
  { name: 'CRAQ_R_DIRTY_FULL', value: 15, verdict: 'drop', description: 'PROPAGATE beyond CRAQ_MAX_DIRTY at a non-head node' },
  { name: 'CRAQ_R_ADJUST', value: 16, verdict: 'drop', description: 'growing/shrinking the frame or copying into it failed' },
  { name: 'CRAQ_R_RINGBUF', value: 17, verdict: 'drop', description: 'craq_commits full; the commit is not made (the client retries)' },
  { name: 'CRAQ_R_NO_ROLE', value: 18, verdict: 'drop', description: 'no successor/predecessor for a chain message (config)' },
]);

/**
 * CRAQ_REASON: reason values by short name (CRAQ_REASON.NOT_PLACED === 2); CRAQ_REASONS: every
 * reason but CRAQ_R_NONE, in value order; CRAQ_REASON_MAX: entries of craq_reasons;
 * craqReason(value), craqReasonByName(full CRAQ_R_FORGED or short FORGED): the reason, or
 * undefined. The list is checked when the module loads.
 */
export const { values: CRAQ_REASON, reasons: CRAQ_REASONS, max: CRAQ_REASON_MAX, byValue: craqReason, byName: craqReasonByName } = table;
export type CraqReasonName = keyof typeof CRAQ_REASON;

/** What the node did, by short name (craq_stats index). */
export const CRAQ_STAT = Object.freeze({
  READ_CLEAN: 0,
  READ_QUERY: 1,
  READ_FORWARD: 2,
  READ_VREPLY: 3,
  WRITE: 4,
  NOT_HEAD: 5,
  RETRY: 6,
  PROPAGATE: 7,
  COMMIT: 8,
  ACK: 9,
  WRITE_REPLY: 10,
  VQUERY: 11,
  DUPLICATE: 12,
  NOT_PLACED: 13,
} as const);
export type CraqStatName = keyof typeof CRAQ_STAT;
export const CRAQ_STAT_MAX = 14;
