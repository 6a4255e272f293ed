/**
 * The P4Runtime-facing description of p4/netcraq.p4 (PSA, NetCRAQ v1): its tables, actions,
 * registers, counters and digest by the names the scheduler would program, the wire headers it
 * declares, and how each decision of the reference model (model.ts: CRAQ_STAT actions and
 * CRAQ_REASON reasons) maps onto a P4 action. p4.test.ts parses netcraq.p4 and checks that it
 * declares exactly these names, that its headers match the codec, and that every model
 * decision has its P4 action. Fully qualified P4Runtime names are `${control}.${name}`.
 */
import type { CraqReasonName, CraqStatName } from './reasons.js';

export const NETCRAQ_P4_FILE = 'p4/netcraq.p4';
export const NETCRAQ_P4_CONTROL = 'NetCraqIngress';
/** Value words (32 bits) a switch keeps per version: values up to 128 bytes, a multiple of 4. */
export const NETCRAQ_P4_WORDS = 32;

export interface P4Table {
  readonly keys: readonly string[];
  readonly actions: readonly string[];
}

export const NETCRAQ_P4_TABLES: Readonly<Record<string, P4Table>> = Object.freeze({
  craq_config: { keys: [], actions: ['set_node'] },
  craq_peers: { keys: [], actions: ['set_peers'] },
  craq_keys: { keys: ['hdr.craq.key_id', 'hdr.craq.key_check'], actions: ['set_key_index', 'key_not_placed'] },
});

/** Actions of the model's decisions (CRAQ_STAT names). */
export const NETCRAQ_P4_MODEL_ACTIONS: Readonly<Record<CraqStatName, string>> = Object.freeze({
  READ_CLEAN: 'reply_read_clean',
  READ_QUERY: 'send_version_query',
  READ_FORWARD: 'forward_read',
  READ_VREPLY: 'reply_read_version',
  WRITE: 'head_assign_and_propagate',
  NOT_HEAD: 'reply_not_head',
  RETRY: 'reply_retry',
  PROPAGATE: 'store_and_propagate',
  COMMIT: 'tail_commit_and_ack',
  ACK: 'apply_ack_and_forward',
  WRITE_REPLY: 'head_reply_write',
  VQUERY: 'tail_version_reply',
  DUPLICATE: 'reply_duplicate',
  NOT_PLACED: 'reply_not_placed',
});

/** NetChain mode's decisions that take another action than CRAQ mode's (the tail answers writes, no ACK). */
export const NETCRAQ_P4_NETCHAIN_ACTIONS: readonly string[] = Object.freeze(['tail_commit_and_reply', 'head_resend_duplicate', 'pass_duplicate', 'tail_reply_duplicate']);

/** The P4 action of a model decision at a node (its mode and role: a chain of one commits at once in both modes). */
export function netcraqP4Action(stat: CraqStatName, node: { readonly netchain: boolean; readonly head: boolean; readonly tail: boolean }): string {
  if (node.netchain && !(node.head && node.tail)) {
    if (stat === 'COMMIT') return 'tail_commit_and_reply';
    if (stat === 'DUPLICATE') return node.head ? 'head_resend_duplicate' : node.tail ? 'tail_reply_duplicate' : 'pass_duplicate';
  }
  return NETCRAQ_P4_MODEL_ACTIONS[stat];
}

/**
 * How each model reason is realised: 'drop_reason' / 'pass_to_cpu' with the same reason value,
 * or `parser` (the P4 parser does not extract the CRAQ header, so the packet is not the node's),
 * or `n/a` with why the switch never meets it.
 */
export const NETCRAQ_P4_REASONS: Readonly<Record<CraqReasonName, 'drop_reason' | 'pass_to_cpu' | 'parser' | `n/a: ${string}`>> = Object.freeze({
  DISABLED: 'n/a: a switch without the program is the disabled node',
  NOT_PLACED: 'pass_to_cpu',
  KEY_CHECK: 'n/a: key_check is part of the craq_keys match, so a collision is NOT_PLACED',
  REPLY: 'pass_to_cpu',
  IP: 'parser',
  TRUNCATED: 'parser',
  BAD_HEADER: 'drop_reason',
  UNKNOWN_OP: 'drop_reason',
  VALUE_TOO_LARGE: 'pass_to_cpu',
  BAD_LENGTH: 'parser',
  WRONG_EPOCH: 'drop_reason',
  FORGED: 'drop_reason',
  NOT_TAIL: 'drop_reason',
  STALE: 'drop_reason',
  DIRTY_FULL: 'drop_reason',
  ADJUST: 'n/a: the deparser emits whatever headers are valid; nothing to resize',
  RINGBUF: 'n/a: commits leave as digests, which the target queues',
  NO_ROLE: 'n/a: craq_peers is one default action the control plane sets before placing keys',
});

/** Helper actions (not decisions of their own). */
export const NETCRAQ_P4_HELPER_ACTIONS: readonly string[] = Object.freeze([
  'pass_to_cpu',
  'drop_reason',
  'to_sender',
  'from_self_to',
  'to_client',
  'add_trailer_of_sender',
  'reply_header',
  'slot_of',
  'store_value',
  'request_index',
  'remember_request',
  'answer_read',
  'load_value',
]);

/** Every action of NetCraqIngress. */
export function netcraqP4Actions(): string[] {
  const fromTables = Object.values(NETCRAQ_P4_TABLES).flatMap((t) => t.actions);
  return [...new Set([...fromTables, ...Object.values(NETCRAQ_P4_MODEL_ACTIONS), ...NETCRAQ_P4_NETCHAIN_ACTIONS, ...NETCRAQ_P4_HELPER_ACTIONS])].sort();
}

/** Registers (name -> bits of an element): the XDP node's craq_key fields, split, and its request records (craq_key.reqs) as a direct-mapped table. */
export const NETCRAQ_P4_REGISTERS: Readonly<Record<string, number>> = Object.freeze({
  craq_clean_version: 64,
  craq_last_version: 64,
  craq_slot_version: 64,
  craq_slot_len: 16,
  craq_slot_flags: 8,
  craq_slot_req_id: 64,
  craq_req_tag: 128,
  craq_req_version: 64,
  ...Object.fromEntries(Array.from({ length: NETCRAQ_P4_WORDS }, (_, k) => [`craq_value_w${k}`, 32])),
});

export const NETCRAQ_P4_COUNTERS: readonly string[] = Object.freeze(['craq_key_reads', 'craq_key_writes', 'craq_key_dirty_full', 'craq_reasons']);
export const NETCRAQ_P4_DIGESTS: readonly string[] = Object.freeze(['craq_commits']);

/** The P4 headers that carry the wire structs: [P4 header, codec layout name]. */
export const NETCRAQ_P4_HEADERS = Object.freeze({ craq_t: 'hdr', craq_trailer_t: 'trailer' } as const);

/** Fully qualified P4Runtime name of a table, action, register, counter or digest. */
export function p4RuntimeName(name: string): string {
  return `${NETCRAQ_P4_CONTROL}.${name}`;
}
