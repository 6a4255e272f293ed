/**
 * Log entries: the PREPARE body (a batch of client requests, one op number for the batch) and
 * the entries NEW_STATE carries (op, view, PREPARE body).
 */
import {
  PAXOS_MAX_ENTRY,
  PAXOS_MAX_OP,
  PAXOS_REGISTER_ID,
  PAXOS_REQUEST_OVERHEAD,
  PAXOS_STATE_ENTRY_OVERHEAD,
} from './constants.js';
import { NA_ERR_PAXOSWIRE_BAD_FIELD, NA_ERR_PAXOSWIRE_BAD_LENGTH, NA_ERR_PAXOSWIRE_INVALID_MESSAGE, NA_ERR_PAXOSWIRE_TRUNCATED } from './errors.js';
import { asBuffer, isU32, isU64, readU64, writeU64 } from './header.js';
import type { ClientRequest, StateEntry } from './model.js';

/** Bytes one request takes inside an entry. */
export function requestSize(payloadLength: number): number {
  return PAXOS_REQUEST_OVERHEAD + payloadLength;
}

/** Bytes an entry of these requests takes (the count, then each request). */
export function entrySize(requests: readonly ClientRequest[]): number {
  let n = 2;
  for (const r of requests) n += requestSize(r.payload.length);
  return n;
}

function checkRequest(r: ClientRequest, path: string): void {
  if (!isU64(r.clientId)) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(`${path}.clientId`, 'expected a u64 bigint');
  if (!isU64(r.requestId)) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(`${path}.requestId`, 'expected a u64 bigint');
  if (!(r.payload instanceof Uint8Array)) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(`${path}.payload`, 'expected bytes');
  if (r.payload.length > PAXOS_MAX_OP) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(`${path}.payload`, `${r.payload.length} bytes exceed the largest operation, ${PAXOS_MAX_OP}`);
  if (r.requestId === PAXOS_REGISTER_ID && r.payload.length !== 0) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(`${path}.payload`, 'a registration (request id 2^63) carries no operation');
  if (r.requestId === PAXOS_REGISTER_ID && r.clientId >= PAXOS_REGISTER_ID) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(`${path}.clientId`, 'a registration\'s client id is below 2^63');
}

/** Writes one request at `at`; returns the offset after it. */
export function writeRequest(out: Buffer, at: number, r: ClientRequest): number {
  writeU64(out, r.clientId, at);
  writeU64(out, r.requestId, at + 8);
  out.writeUInt16BE(r.payload.length, at + 16);
  out.set(r.payload, at + 18);
  return at + 18 + r.payload.length;
}

/** Reads one request at `at` of `buf[..end)`; `path` names it in errors. */
export function readRequest(buf: Buffer, at: number, end: number, path: string): { request: ClientRequest; next: number } {
  if (end - at < PAXOS_REQUEST_OVERHEAD) throw NA_ERR_PAXOSWIRE_TRUNCATED(path, PAXOS_REQUEST_OVERHEAD, end - at);
  const len = buf.readUInt16BE(at + 16);
  if (len > end - at - PAXOS_REQUEST_OVERHEAD) throw NA_ERR_PAXOSWIRE_TRUNCATED(`${path}.op`, len, end - at - PAXOS_REQUEST_OVERHEAD);
  const request = { clientId: readU64(buf, at), requestId: readU64(buf, at + 8), payload: buf.subarray(at + 18, at + 18 + len) };
  if (request.requestId === PAXOS_REGISTER_ID) {
    if (len !== 0) throw NA_ERR_PAXOSWIRE_BAD_FIELD(`${path}.op_len`, `${len}: a registration (request id 2^63) carries no operation`);
    // ids from 2^63 are the sessions the log assigns: registering under one could revive an evicted session
    if (request.clientId >= PAXOS_REGISTER_ID) throw NA_ERR_PAXOSWIRE_BAD_FIELD(`${path}.client_id`, `${request.clientId}: a registration's client id is below 2^63`);
  }
  return { request, next: at + 18 + len };
}

/**
 * Encodes a log entry (a PREPARE body): count u16 (>= 1), then each request. Throws
 * NA_ERR_PAXOSWIRE_INVALID_MESSAGE when it is empty or larger than PAXOS_MAX_ENTRY.
 */
export function encodeEntry(requests: readonly ClientRequest[], path = 'entry'): Buffer {
  if (requests.length === 0) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(`${path}.requests`, 'an entry holds at least one request');
  requests.forEach((r, i) => checkRequest(r, `${path}.requests[${i}]`));
  const size = entrySize(requests);
  if (size > PAXOS_MAX_ENTRY) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(path, `${size} bytes exceed the largest entry, ${PAXOS_MAX_ENTRY}`);
  const out = Buffer.allocUnsafe(size); // writeEntry writes every byte
  writeEntry(out, 0, requests);
  return out;
}

/** Writes an already checked entry at `at`; returns the offset after it. */
export function writeEntry(out: Buffer, at: number, requests: readonly ClientRequest[]): number {
  out.writeUInt16BE(requests.length, at);
  let pos = at + 2;
  for (const r of requests) pos = writeRequest(out, pos, r);
  return pos;
}

/** Decodes a log entry (a PREPARE body, or a body drained from the offload ring). */
export function decodeEntry(bytes: Uint8Array, path = 'entry'): ClientRequest[] {
  const buf = asBuffer(bytes);
  if (buf.length > PAXOS_MAX_ENTRY) throw NA_ERR_PAXOSWIRE_BAD_LENGTH(path, `${buf.length} bytes exceed the largest entry, ${PAXOS_MAX_ENTRY}`);
  if (buf.length < 2) throw NA_ERR_PAXOSWIRE_TRUNCATED(`${path}.count`, 2, buf.length);
  const count = buf.readUInt16BE(0);
  if (count === 0) throw NA_ERR_PAXOSWIRE_BAD_FIELD(`${path}.count`, 'an entry holds at least one request, got 0');
  const requests: ClientRequest[] = [];
  let pos = 2;
  for (let i = 0; i < count; i++) {
    const { request, next } = readRequest(buf, pos, buf.length, `${path}.requests[${i}]`);
    requests.push(request);
    pos = next;
  }
  if (pos !== buf.length) throw NA_ERR_PAXOSWIRE_BAD_LENGTH(path, `${buf.length - pos} bytes after the last of ${count} requests`);
  return requests;
}

/** Bytes a NEW_STATE body of these entries takes. */
export function stateBodySize(entries: readonly StateEntry[]): number {
  let n = 2;
  for (const e of entries) n += PAXOS_STATE_ENTRY_OVERHEAD + e.body.length;
  return n;
}

export function checkStateEntry(e: StateEntry, path: string): void {
  if (!isU64(e.op) || e.op === 0n) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(`${path}.op`, 'expected a u64 bigint >= 1');
  if (!isU32(e.view)) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(`${path}.view`, 'expected a u32');
  if (!(e.body instanceof Uint8Array)) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(`${path}.body`, 'expected bytes');
  decodeEntry(e.body, `${path}.body`);
}

export function writeStateEntries(out: Buffer, at: number, entries: readonly StateEntry[]): void {
  out.writeUInt16BE(entries.length, at);
  let pos = at + 2;
  for (const e of entries) {
    writeU64(out, e.op, pos);
    out.writeUInt32BE(e.view, pos + 8);
    out.writeUInt16BE(e.body.length, pos + 12);
    out.set(e.body, pos + 14);
    pos += 14 + e.body.length;
  }
}

/** Reads NEW_STATE entries from `buf`: consecutive op numbers, each body a valid entry. */
export function readStateEntries(buf: Buffer, path: string): StateEntry[] {
  if (buf.length < 2) throw NA_ERR_PAXOSWIRE_TRUNCATED(`${path}.count`, 2, buf.length);
  const count = buf.readUInt16BE(0);
  const entries: StateEntry[] = [];
  let pos = 2;
  for (let i = 0; i < count; i++) {
    const p = `${path}.entries[${i}]`;
    if (buf.length - pos < PAXOS_STATE_ENTRY_OVERHEAD) throw NA_ERR_PAXOSWIRE_TRUNCATED(p, PAXOS_STATE_ENTRY_OVERHEAD, buf.length - pos);
    const op = readU64(buf, pos);
    const view = buf.readUInt32BE(pos + 8);
    const len = buf.readUInt16BE(pos + 12);
    if (len > buf.length - pos - PAXOS_STATE_ENTRY_OVERHEAD) throw NA_ERR_PAXOSWIRE_TRUNCATED(`${p}.body`, len, buf.length - pos - PAXOS_STATE_ENTRY_OVERHEAD);
    if (op === 0n) throw NA_ERR_PAXOSWIRE_BAD_FIELD(`${p}.op`, 'expected >= 1, got 0');
    const prev = entries[entries.length - 1];
    if (prev !== undefined && op !== prev.op + 1n) throw NA_ERR_PAXOSWIRE_BAD_FIELD(`${p}.op`, `expected ${prev.op + 1n} (consecutive), got ${op}`);
    const body = buf.subarray(pos + 14, pos + 14 + len);
    decodeEntry(body, `${p}.body`);
    entries.push({ op, view, body });
    pos += PAXOS_STATE_ENTRY_OVERHEAD + len;
  }
  if (pos !== buf.length) throw NA_ERR_PAXOSWIRE_BAD_LENGTH(path, `${buf.length - pos} bytes after the last of ${count} entries`);
  return entries;
}
