/**
 * The key-value store shipped with the library: a state machine (get, put, delete,
 * compare-and-set on UTF-8 keys and values) and its client. Operation encoding (big-endian):
 *   op:     kind u8 (1 GET, 2 PUT, 3 DELETE, 4 CAS), key_len u16, key,
 *           PUT: value_len u16, value; CAS: has_expected u8, [expected_len u16, expected], value_len u16, value
 *   result: GET: found u8, value (the rest); PUT: empty; DELETE: existed u8; CAS: swapped u8
 */
import { paxos } from '@netaccel/protocol';
import type { PaxosClient } from './client.js';
import { NA_ERR_PAXOS_BAD_KV_OP, NA_ERR_PAXOS_OP_TOO_LARGE } from './errors.js';
import { OpReader, lenStr } from './op-codec.js';
import type { ApplyResult, StateMachine } from './state-machine.js';

export const KvKind = { Get: 1, Put: 2, Delete: 3, Cas: 4 } as const;

export type KvOp =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

function str(b: Buffer[], s: string): void {
  b.push(...lenStr(s));
}

/** Encodes an operation; throws NA_ERR_PAXOS_OP_TOO_LARGE beyond PAXOS_MAX_OP bytes. */
export function encodeKvOp(op: KvOp): Buffer {
  const parts: Buffer[] = [Buffer.of(KvKind[op.kind === 'get' ? 'Get' : op.kind === 'put' ? 'Put' : op.kind === 'delete' ? 'Delete' : 'Cas'])];
  str(parts, op.key);
  if (op.kind === 'put') str(parts, op.value);
  if (op.kind === 'cas') {
    parts.push(Buffer.of(op.expected === null ? 0 : 1));
    if (op.expected !== null) str(parts, op.expected);
    str(parts, op.value);
  }
  const out = Buffer.concat(parts);
  if (out.length > paxos.PAXOS_MAX_OP) throw NA_ERR_PAXOS_OP_TOO_LARGE(`kv ${op.kind} ${JSON.stringify(op.key.slice(0, 40))}`, out.length, paxos.PAXOS_MAX_OP);
  return out;
}

/** Decodes an operation; throws NA_ERR_PAXOS_BAD_KV_OP naming the field. */
export function decodeKvOp(b: Buffer): KvOp {
  const r = new OpReader(b, 'kv', NA_ERR_PAXOS_BAD_KV_OP);
  const kind = r.u8('kind');
  const key = r.str('key');
  let op: KvOp;
  if (kind === KvKind.Get) op = { kind: 'get', key };
  else if (kind === KvKind.Put) op = { kind: 'put', key, value: r.str('value') };
  else if (kind === KvKind.Delete) op = { kind: 'delete', key };
  else if (kind === KvKind.Cas) {
    const has = r.u8('has_expected');
    if (has > 1) throw NA_ERR_PAXOS_BAD_KV_OP('kv.has_expected', `expected 0 or 1, got ${has}`);
    const expected = has === 1 ? r.str('expected') : null;
    op = { kind: 'cas', key, expected, value: r.str('value') };
  } else throw NA_ERR_PAXOS_BAD_KV_OP('kv.kind', `expected 1 (GET), 2 (PUT), 3 (DELETE) or 4 (CAS), got ${kind}`);
  r.end();
  return op;
}

/** A put's result: no bytes (shared: a zero-length buffer cannot be written). */
const NO_RESULT = Buffer.alloc(0);

/** The key-value store: a Map, changed only by committed operations in log order. */
export class KvStateMachine implements StateMachine {
  private readonly data = new Map<string, string>();

  apply(bytes: Buffer): ApplyResult {
    let op: KvOp;
    try {
      op = decodeKvOp(bytes);
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    switch (op.kind) {
      case 'get': {
        const cur = this.data.get(op.key);
        return { ok: true, result: cur === undefined ? Buffer.of(0) : Buffer.concat([Buffer.of(1), Buffer.from(cur, 'utf8')]) };
      }
      case 'put': // the common operation: no read of the old value, one shared empty result
        this.data.set(op.key, op.value);
        return { ok: true, result: NO_RESULT };
      case 'delete':
        return { ok: true, result: Buffer.of(this.data.delete(op.key) ? 1 : 0) };
      case 'cas': {
        const swapped = (this.data.get(op.key) ?? null) === op.expected;
        if (swapped) this.data.set(op.key, op.value);
        return { ok: true, result: Buffer.of(swapped ? 1 : 0) };
      }
    }
  }

  /** The store as bytes (a checkpoint): count u32, then key and value (u16 length + UTF-8 each) by key. */
  snapshot(): Buffer {
    const rows = this.entries();
    let size = 4;
    for (const [k, v] of rows) size += 4 + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
    const out = Buffer.allocUnsafe(size);
    let at = out.writeUInt32BE(rows.length, 0);
    for (const [k, v] of rows) {
      for (const s of [k, v]) {
        const len = out.write(s, at + 2, 'utf8');
        at = out.writeUInt16BE(len, at) + len;
      }
    }
    return out;
  }

  /** Replaces the store with a snapshot(); throws NA_ERR_PAXOS_BAD_KV_OP (and keeps the store) on malformed bytes. */
  restore(bytes: Buffer): void {
    const r = new OpReader(bytes, 'kv_snapshot', NA_ERR_PAXOS_BAD_KV_OP);
    const count = r.u32('count');
    const next = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const key = r.str(`entries[${i}].key`);
      next.set(key, r.str(`entries[${i}].value`));
    }
    r.end();
    this.data.clear();
    for (const [k, v] of next) this.data.set(k, v);
  }

  /** The value of `key` in this replica's copy (for tests and status pages, not linearizable). */
  peek(key: string): string | undefined {
    return this.data.get(key);
  }

  get size(): number {
    return this.data.size;
  }

  /** Every key and value (a copy, sorted by key). */
  entries(): Array<[string, string]> {
    return [...this.data.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

function flag(result: Buffer, what: string): boolean {
  if (result.length !== 1 || result[0]! > 1) throw NA_ERR_PAXOS_BAD_KV_OP(`kv.${what}`, `expected one byte 0 or 1, got ${result.length} bytes`);
  return result[0] === 1;
}

/** Typed key-value operations over a PaxosClient; every operation is linearizable. */
export class KvClient {
  constructor(readonly client: PaxosClient) {}

  async get(key: string): Promise<string | null> {
    const r = await this.client.invoke(encodeKvOp({ kind: 'get', key }));
    if (r.length < 1 || r[0]! > 1 || (r[0] === 0 && r.length !== 1)) throw NA_ERR_PAXOS_BAD_KV_OP('kv.found', 'malformed GET result');
    return r[0] === 1 ? r.toString('utf8', 1) : null;
  }

  async put(key: string, value: string): Promise<void> {
    await this.client.invoke(encodeKvOp({ kind: 'put', key, value }));
  }

  /** True when the key existed. */
  async delete(key: string): Promise<boolean> {
    return flag(await this.client.invoke(encodeKvOp({ kind: 'delete', key })), 'existed');
  }

  /** Sets `value` if the current value is `expected` (null: absent); true when it did. */
  async cas(key: string, expected: string | null, value: string): Promise<boolean> {
    return flag(await this.client.invoke(encodeKvOp({ kind: 'cas', key, expected, value })), 'swapped');
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
