/**
 * Encoding and decoding of every message of the Paxos/VR wire format v1 (README.md in this
 * folder). Decoding is strict: exact body lengths, header fields that the type does not use must
 * be 0, op and commit numbers consistent; every failure is a typed NA_ERR_PAXOSWIRE_* error.
 */
import { PAXOS_CHECKPOINT_CHUNK_OVERHEAD, PAXOS_CLIENT_SENDER, PAXOS_HEADER_LEN, PAXOS_MAX_MSG, PAXOS_MAX_OP, PAXOS_MAX_REPLICAS, PAXOS_REGISTER_ID, PaxosFlag, PaxosType, ReplyStatus, paxosTypeName } from './constants.js';
import { checkChunk, readChunk, writeChunk } from './checkpoint.js';
import { checkStateEntry, decodeEntry, encodeEntry, readRequest, readStateEntries, stateBodySize, writeStateEntries } from './entry.js';
import { NA_ERR_PAXOSWIRE_BAD_FIELD, NA_ERR_PAXOSWIRE_BAD_LENGTH, NA_ERR_PAXOSWIRE_INVALID_MESSAGE, NA_ERR_PAXOSWIRE_TOO_LARGE, NA_ERR_PAXOSWIRE_TRUNCATED } from './errors.js';
import { asBuffer, decodePaxosHeader, isU32, isU64, readU64, writePaxosHeader, writeU64 } from './header.js';
import type { HeaderFields } from './header.js';
import type { PaxosHeader, PaxosMessage } from './model.js';

// --- encoding -------------------------------------------------------------------------------

function frame(h: HeaderFields, bodyLen: number, body: (out: Buffer, at: number) => void): Buffer {
  const total = PAXOS_HEADER_LEN + bodyLen;
  if (total > PAXOS_MAX_MSG) throw NA_ERR_PAXOSWIRE_TOO_LARGE(paxosTypeName(h.type), total, PAXOS_MAX_MSG);
  // every byte is written below (header and each type's body): a pooled slice, no zeroed allocation per message
  const out = Buffer.allocUnsafe(total);
  writePaxosHeader(out, h);
  body(out, PAXOS_HEADER_LEN);
  return out;
}

const none = (): void => undefined;

function need(ok: boolean, path: string, what: string): void {
  if (!ok) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(path, what);
}

function checkReplica(sender: number): void {
  need(Number.isInteger(sender) && sender >= 0 && sender < PAXOS_MAX_REPLICAS, 'sender', `expected a replica index 0..${PAXOS_MAX_REPLICAS - 1}`);
}

/** Encodes one message into one datagram. Throws NA_ERR_PAXOSWIRE_INVALID_MESSAGE naming a bad field. */
export function encodePaxos(m: PaxosMessage): Buffer {
  if (m.type !== PaxosType.Request) checkReplica(m.sender);
  if ('view' in m) need(isU32(m.view), 'view', 'expected a u32');
  if ('op' in m) need(isU64(m.op), 'op', 'expected a u64 bigint');
  if ('commit' in m) need(isU64(m.commit), 'commit', 'expected a u64 bigint');
  switch (m.type) {
    case PaxosType.Request: {
      need(isU64(m.clientId), 'clientId', 'expected a u64 bigint');
      need(isU64(m.requestId), 'requestId', 'expected a u64 bigint');
      need(m.payload.length <= PAXOS_MAX_OP, 'payload', `${m.payload.length} bytes exceed the largest operation, ${PAXOS_MAX_OP}`);
      const register = m.requestId === PAXOS_REGISTER_ID;
      if (register) need(m.payload.length === 0, 'payload', 'a registration (request id 2^63) carries no operation');
      if (register) need(m.clientId < PAXOS_REGISTER_ID, 'clientId', 'a registration\'s client id is below 2^63 (ids from 2^63 are sessions)');
      return frame({ type: m.type, sender: PAXOS_CLIENT_SENDER, flags: register ? PaxosFlag.Register : 0, view: m.view }, 18 + m.payload.length, (out, at) => {
        writeU64(out, m.clientId, at);
        writeU64(out, m.requestId, at + 8);
        out.writeUInt16BE(m.payload.length, at + 16);
        out.set(m.payload, at + 18);
      });
    }
    case PaxosType.Reply:
      return encodeReply(m.sender, m.view, m.clientId, m.requestId, m.status, m.result);
    case PaxosType.Prepare: {
      need(m.op >= 1n, 'op', 'expected >= 1');
      need(m.commit < m.op, 'commit', `expected below op ${m.op}`);
      const entry = encodeEntry(m.requests, 'requests');
      return frame({ type: m.type, sender: m.sender, view: m.view, op: m.op, commit: m.commit }, entry.length, (out, at) => out.set(entry, at));
    }
    case PaxosType.PrepareOk:
      need(m.op >= 1n, 'op', 'expected >= 1');
      need(Number.isInteger(m.flags) && (m.flags & ~(PaxosFlag.Fast | PaxosFlag.Quorum)) === 0, 'flags', 'expected FAST (1) and/or QUORUM (2)');
      return frame({ type: m.type, sender: m.sender, flags: m.flags, view: m.view, op: m.op }, 0, none);
    case PaxosType.Commit:
      return frame({ type: m.type, sender: m.sender, view: m.view, commit: m.commit }, 0, none);
    case PaxosType.StartViewChange:
      need(m.view >= 1, 'view', 'a view change goes to a view >= 1');
      return frame({ type: m.type, sender: m.sender, view: m.view }, 0, none);
    case PaxosType.DoViewChange:
      need(m.view >= 1, 'view', 'a view change goes to a view >= 1');
      need(m.commit <= m.op, 'commit', `expected at most op ${m.op}`);
      need(isU32(m.lastNormalView) && m.lastNormalView < m.view, 'lastNormalView', `expected a u32 below view ${m.view}`);
      return frame({ type: m.type, sender: m.sender, view: m.view, op: m.op, commit: m.commit }, 4, (out, at) => out.writeUInt32BE(m.lastNormalView, at));
    case PaxosType.StartView:
      need(m.view >= 1, 'view', 'a view change goes to a view >= 1');
      need(m.commit <= m.op, 'commit', `expected at most op ${m.op}`);
      return frame({ type: m.type, sender: m.sender, view: m.view, op: m.op, commit: m.commit }, 0, none);
    case PaxosType.GetState:
      return frame({ type: m.type, sender: m.sender, view: m.view, op: m.op }, 0, none);
    case PaxosType.NewState: {
      need(m.commit <= m.op, 'commit', `expected at most op ${m.op}`);
      m.entries.forEach((e, i) => {
        checkStateEntry(e, `entries[${i}]`);
        if (i > 0) need(e.op === m.entries[i - 1]!.op + 1n, `entries[${i}].op`, 'entries have consecutive op numbers');
        need(e.op <= m.op, `entries[${i}].op`, `expected at most op ${m.op}`);
      });
      return frame({ type: m.type, sender: m.sender, view: m.view, op: m.op, commit: m.commit }, stateBodySize(m.entries), (out, at) => writeStateEntries(out, at, m.entries));
    }
    case PaxosType.Recovery:
      need(isU64(m.nonce), 'nonce', 'expected a u64 bigint');
      return frame({ type: m.type, sender: m.sender, view: 0 }, 8, (out, at) => out.writeBigUInt64BE(m.nonce, at));
    case PaxosType.RecoveryResponse:
      need(isU64(m.nonce), 'nonce', 'expected a u64 bigint');
      need(m.commit <= m.op, 'commit', `expected at most op ${m.op}`);
      return frame({ type: m.type, sender: m.sender, view: m.view, op: m.op, commit: m.commit }, 8, (out, at) => out.writeBigUInt64BE(m.nonce, at));
    case PaxosType.Checkpoint:
      need(m.op >= 1n, 'op', 'expected >= 1');
      checkChunk(m);
      return frame({ type: m.type, sender: m.sender, view: m.view, op: m.op }, PAXOS_CHECKPOINT_CHUNK_OVERHEAD + m.data.length, (out, at) => writeChunk(out, at, m));
    case PaxosType.GetCheckpoint:
      need(m.op >= 1n, 'op', 'expected >= 1');
      need(isU32(m.offset), 'offset', 'expected a u32');
      return frame({ type: m.type, sender: m.sender, view: m.view, op: m.op }, 4, (out, at) => out.writeUInt32BE(m.offset, at));
    default:
      throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE('type', `${(m as { type: unknown }).type} is not a message type`);
  }
}

/**
 * Encodes a REPLY (what encodePaxos does for one, with the same checks) without a message object
 * or a closure: the leader sends one per request.
 */
export function encodeReply(sender: number, view: number, clientId: bigint, requestId: bigint, status: number, result: Uint8Array): Buffer {
  checkReplica(sender);
  need(isU32(view), 'view', 'expected a u32');
  need(isU64(clientId), 'clientId', 'expected a u64 bigint');
  need(isU64(requestId), 'requestId', 'expected a u64 bigint');
  need(status === ReplyStatus.Ok || status === ReplyStatus.NotLeader || status === ReplyStatus.Error || status === ReplyStatus.SessionExpired, 'status', 'expected 0 (OK), 1 (NOT_LEADER), 2 (ERROR) or 3 (SESSION_EXPIRED)');
  if (status === ReplyStatus.NotLeader) need(result.length === 1 && result[0]! < PAXOS_MAX_REPLICAS, 'result', 'a NOT_LEADER result is one byte, the leader index');
  const total = PAXOS_HEADER_LEN + 19 + result.length;
  if (total > PAXOS_MAX_MSG) throw NA_ERR_PAXOSWIRE_TOO_LARGE(paxosTypeName(PaxosType.Reply), total, PAXOS_MAX_MSG);
  const out = Buffer.allocUnsafe(total);
  writePaxosHeader(out, { type: PaxosType.Reply, sender, view });
  const at = PAXOS_HEADER_LEN;
  writeU64(out, clientId, at);
  writeU64(out, requestId, at + 8);
  out[at + 16] = status;
  out.writeUInt16BE(result.length, at + 17);
  out.set(result, at + 19);
  return out;
}

// --- decoding -------------------------------------------------------------------------------

function zero(h: PaxosHeader, field: 'op' | 'commit' | 'view'): void {
  if (h[field] !== 0 && h[field] !== 0n) throw NA_ERR_PAXOSWIRE_BAD_FIELD(`header.${field}`, `must be 0 on a ${paxosTypeName(h.type)}, got ${h[field]}`);
}

function bodyLength(h: PaxosHeader, expected: number): void {
  if (h.bodyLen !== expected) throw NA_ERR_PAXOSWIRE_BAD_LENGTH('header.body_len', `${h.bodyLen} on a ${paxosTypeName(h.type)}, expected ${expected}`);
}

function commitAtMostOp(h: PaxosHeader): void {
  if (h.commit > h.op) throw NA_ERR_PAXOSWIRE_BAD_FIELD('header.commit', `${h.commit} exceeds op ${h.op} on a ${paxosTypeName(h.type)}`);
}

function newView(h: PaxosHeader): void {
  if (h.view === 0) throw NA_ERR_PAXOSWIRE_BAD_FIELD('header.view', `a ${paxosTypeName(h.type)} goes to a view >= 1, got 0`);
}

function opAtLeastOne(h: PaxosHeader): void {
  if (h.op === 0n) throw NA_ERR_PAXOSWIRE_BAD_FIELD('header.op', `must be >= 1 on a ${paxosTypeName(h.type)}, got 0`);
}

/** Decodes one datagram (the whole UDP payload). Throws a typed NA_ERR_PAXOSWIRE_* error. */
export function decodePaxos(bytes: Uint8Array): PaxosMessage {
  const buf = asBuffer(bytes);
  const h = decodePaxosHeader(buf);
  const body = buf.subarray(PAXOS_HEADER_LEN);
  const { sender, view } = h;
  switch (h.type) {
    case PaxosType.Request: {
      zero(h, 'op');
      zero(h, 'commit');
      const { request, next } = readRequest(body, 0, body.length, 'request');
      if (next !== body.length) throw NA_ERR_PAXOSWIRE_BAD_LENGTH('request', `${body.length - next} bytes after the operation`);
      if ((h.flags === PaxosFlag.Register) !== (request.requestId === PAXOS_REGISTER_ID)) {
        throw NA_ERR_PAXOSWIRE_BAD_FIELD('request.request_id', `${request.requestId} with flags 0x${h.flags.toString(16)}: REGISTER (0x4) is set exactly on request id 2^63`);
      }
      return { type: h.type, view, clientId: request.clientId, requestId: request.requestId, payload: request.payload };
    }
    case PaxosType.Reply: {
      zero(h, 'op');
      zero(h, 'commit');
      if (body.length < 19) throw NA_ERR_PAXOSWIRE_TRUNCATED('reply', 19, body.length);
      const status = body[16]!;
      if (status !== ReplyStatus.Ok && status !== ReplyStatus.NotLeader && status !== ReplyStatus.Error && status !== ReplyStatus.SessionExpired) {
        throw NA_ERR_PAXOSWIRE_BAD_FIELD('reply.status', `expected 0 (OK), 1 (NOT_LEADER), 2 (ERROR) or 3 (SESSION_EXPIRED), got ${status}`);
      }
      const len = body.readUInt16BE(17);
      if (len !== body.length - 19) throw NA_ERR_PAXOSWIRE_BAD_LENGTH('reply.result_len', `${len} but ${body.length - 19} bytes follow`);
      const result = body.subarray(19);
      if (status === ReplyStatus.NotLeader && (len !== 1 || result[0]! >= PAXOS_MAX_REPLICAS)) {
        throw NA_ERR_PAXOSWIRE_BAD_FIELD('reply.result', 'a NOT_LEADER result is one byte, the leader index 0..30');
      }
      return { type: h.type, sender, view, clientId: readU64(body, 0), requestId: readU64(body, 8), status, result };
    }
    case PaxosType.Prepare:
      opAtLeastOne(h);
      if (h.commit >= h.op) throw NA_ERR_PAXOSWIRE_BAD_FIELD('header.commit', `${h.commit} must be below op ${h.op} on a PREPARE`);
      return { type: h.type, sender, view, op: h.op, commit: h.commit, requests: decodeEntry(body, 'prepare.entry') };
    case PaxosType.PrepareOk:
      opAtLeastOne(h);
      zero(h, 'commit');
      bodyLength(h, 0);
      return { type: h.type, sender, view, op: h.op, flags: h.flags };
    case PaxosType.Commit:
      zero(h, 'op');
      bodyLength(h, 0);
      return { type: h.type, sender, view, commit: h.commit };
    case PaxosType.StartViewChange:
      newView(h);
      zero(h, 'op');
      zero(h, 'commit');
      bodyLength(h, 0);
      return { type: h.type, sender, view };
    case PaxosType.DoViewChange: {
      newView(h);
      commitAtMostOp(h);
      bodyLength(h, 4);
      const lastNormalView = body.readUInt32BE(0);
      if (lastNormalView >= view) throw NA_ERR_PAXOSWIRE_BAD_FIELD('do_view_change.last_normal_view', `${lastNormalView} is not below view ${view}`);
      return { type: h.type, sender, view, op: h.op, commit: h.commit, lastNormalView };
    }
    case PaxosType.StartView:
      newView(h);
      commitAtMostOp(h);
      bodyLength(h, 0);
      return { type: h.type, sender, view, op: h.op, commit: h.commit };
    case PaxosType.GetState:
      zero(h, 'commit');
      bodyLength(h, 0);
      return { type: h.type, sender, view, op: h.op };
    case PaxosType.NewState: {
      commitAtMostOp(h);
      const entries = readStateEntries(body, 'new_state');
      const last = entries[entries.length - 1];
      if (last !== undefined && last.op > h.op) throw NA_ERR_PAXOSWIRE_BAD_FIELD('new_state.entries', `last op ${last.op} exceeds header op ${h.op}`);
      return { type: h.type, sender, view, op: h.op, commit: h.commit, entries };
    }
    case PaxosType.Recovery:
      zero(h, 'view');
      zero(h, 'op');
      zero(h, 'commit');
      bodyLength(h, 8);
      return { type: h.type, sender, nonce: body.readBigUInt64BE(0) };
    case PaxosType.RecoveryResponse:
      commitAtMostOp(h);
      bodyLength(h, 8);
      return { type: h.type, sender, view, op: h.op, commit: h.commit, nonce: body.readBigUInt64BE(0) };
    case PaxosType.Checkpoint: {
      opAtLeastOne(h);
      zero(h, 'commit');
      return { type: h.type, sender, view, op: h.op, ...readChunk(body) };
    }
    case PaxosType.GetCheckpoint:
      opAtLeastOne(h);
      zero(h, 'commit');
      bodyLength(h, 4);
      return { type: h.type, sender, view, op: h.op, offset: body.readUInt32BE(0) };
  }
}
