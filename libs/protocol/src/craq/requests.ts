/**
 * Builders for the client-visible messages: requests a client sends and the reply a node
 * (or the scheduler's node agent, for NOT_PLACED) sends back for a request.
 */
import { CraqOp, CraqStatus } from './constants.js';
import type { CraqStatusCode } from './constants.js';
import type { CraqMessage } from './codec.js';
import { craqKey } from './hash.js';

export interface CraqRequestInit {
  /** The full etcd key (hashed to key_id and key_check). */
  readonly key: string | Uint8Array;
  readonly reqId: bigint;
  /** Chain epoch the client last saw (nodes ignore it for client requests); default 0. */
  readonly epoch?: number;
}

function request(op: CraqMessage['op'], init: CraqRequestInit, value?: Uint8Array): CraqMessage {
  const { keyId, keyCheck } = craqKey(init.key);
  return { op, status: 0, flags: 0, reqId: init.reqId, keyId, keyCheck, epoch: init.epoch ?? 0, version: 0n, value: value ?? new Uint8Array(0) };
}

export function craqReadRequest(init: CraqRequestInit): CraqMessage {
  return request(CraqOp.READ, init);
}
export function craqWriteRequest(init: CraqRequestInit & { readonly value: Uint8Array }): CraqMessage {
  return request(CraqOp.WRITE, init, init.value);
}
export function craqDeleteRequest(init: CraqRequestInit): CraqMessage {
  return request(CraqOp.DELETE, init);
}

const REPLY_OF = new Map<number, CraqMessage['op']>([
  [CraqOp.READ, CraqOp.READ_REPLY],
  [CraqOp.WRITE, CraqOp.WRITE_REPLY],
  [CraqOp.DELETE, CraqOp.DELETE_REPLY],
]);

/** The reply op of a client op (READ → READ_REPLY …), undefined for chain-internal ops. */
export function craqReplyOp(op: number): CraqMessage['op'] | undefined {
  return REPLY_OF.get(op);
}

/** A reply to a client request: req_id, key_id, key_check and epoch echoed. */
export function craqReply(
  req: CraqMessage,
  status: CraqStatusCode,
  opts: { readonly version?: bigint; readonly value?: Uint8Array; readonly flags?: number } = {},
): CraqMessage {
  const op = craqReplyOp(req.op);
  if (op === undefined) throw new TypeError(`craqReply: op ${req.op} is not a client request`);
  const value = status === CraqStatus.OK && op === CraqOp.READ_REPLY ? (opts.value ?? new Uint8Array(0)) : new Uint8Array(0);
  return { op, status, flags: opts.flags ?? 0, reqId: req.reqId, keyId: req.keyId, keyCheck: req.keyCheck, epoch: req.epoch, version: opts.version ?? 0n, value };
}
