/**
 * Why a Paxos message was passed up or dropped instead of being handled by an offload (enum
 * electrode_reason in electrode_kern_user.h), for libs/paxos, the CLI and the metrics.
 * `el_reasons` (per CPU) is indexed by `value`. `verdict`: `pass` (user space handles the
 * message) or `drop`. reasons.test.ts checks this table against the header, entry by entry.
 */

import { reasonTable } from '../common/reasons.js';
import type { Reason } from '../common/reasons.js';

const VERDICTS = ['pass', 'drop'] as const;
export type ElectrodeVerdict = (typeof VERDICTS)[number];
export type ElectrodeReason = Reason<'verdict', ElectrodeVerdict>;

const table = reasonTable({ prefix: 'ELECTRODE_R_', key: 'verdict', outcomes: VERDICTS }, [
  { name: 'ELECTRODE_R_MALFORMED', value: 1, verdict: 'pass', description: 'truncated, bad magic/version, body_len not the payload\'s, IP fragment or IPv4 options' },
  { name: 'ELECTRODE_R_UNKNOWN_TYPE', value: 2, verdict: 'pass', description: 'type 0 or above 15' },
  { name: 'ELECTRODE_R_OTHER_TYPE', value: 3, verdict: 'pass', description: 'a type the offloads leave to user space (request, reply, commit, view change)' },
  { name: 'ELECTRODE_R_OFFLOAD_OFF', value: 4, verdict: 'pass', description: 'the offload is switched off in electrode_state.offloads' },
  { name: 'ELECTRODE_R_NOT_NORMAL', value: 5, verdict: 'pass', description: 'status is view change or recovering' },
  { name: 'ELECTRODE_R_ROLE', value: 6, verdict: 'pass', description: 'a Prepare to the leader, a PrepareOK to a follower' },
  { name: 'ELECTRODE_R_BAD_SENDER', value: 7, verdict: 'pass', description: 'sender not the leader (Prepare) or not another replica < n (PrepareOK)' },
  { name: 'ELECTRODE_R_OLD_VIEW', value: 8, verdict: 'pass', description: "view below the replica's" },
  { name: 'ELECTRODE_R_NEW_VIEW', value: 9, verdict: 'pass', description: "view above the replica's" },
  { name: 'ELECTRODE_R_GAP', value: 10, verdict: 'pass', description: 'Prepare beyond last_op + 1 (an earlier one is missing)' },
  { name: 'ELECTRODE_R_OLD_OP', value: 11, verdict: 'pass', description: 'Prepare at or below last_op (a retransmission: user space re-acknowledges)' },
  { name: 'ELECTRODE_R_RING_FULL', value: 12, verdict: 'pass', description: 'the log ring slot of op still holds an undrained entry' },
  { name: 'ELECTRODE_R_TOO_BIG', value: 13, verdict: 'pass', description: 'body longer than a ring entry' },
  { name: 'ELECTRODE_R_ACK_COMMITTED', value: 14, verdict: 'drop', description: 'PrepareOK for op at or below the commit number' },
  { name: 'ELECTRODE_R_ACK_DUPLICATE', value: 15, verdict: 'drop', description: "this sender's PrepareOK for op was counted already" },
  { name: 'ELECTRODE_R_ACK_QUORUM_DONE', value: 16, verdict: 'drop', description: "op's quorum completed already (a late PrepareOK)" },
  { name: 'ELECTRODE_R_ACK_FUTURE', value: 17, verdict: 'pass', description: "PrepareOK for an op beyond the leader's last_op" },
  { name: 'ELECTRODE_R_ACK_WINDOW', value: 18, verdict: 'pass', description: "op's quorum slot holds a newer op (window exceeded)" },
  { name: 'ELECTRODE_R_NO_CONFIG', value: 19, verdict: 'pass', description: 'no valid el_config entry for a replica the offload needs' },
]);

/**
 * ELECTRODE_R: reason values by short name (ELECTRODE_R.GAP === 10); ELECTRODE_REASONS: every
 * reason but ELECTRODE_R_NONE (0, unused), in value order; ELECTRODE_R_MAX: entries of
 * el_reasons; electrodeReason(value), electrodeReasonByName(`ELECTRODE_R_GAP` or `GAP`): the
 * reason, or undefined (0 and out-of-range values have none). The list is checked when the
 * module loads.
 */
export const { values: ELECTRODE_R, reasons: ELECTRODE_REASONS, max: ELECTRODE_R_MAX, byValue: electrodeReason, byName: electrodeReasonByName } = table;
export type ElectrodeReasonName = keyof typeof ELECTRODE_R;
