/**
 * Checkpoints: a replica's state after op N — its state machine's snapshot() and its client
 * table (the latest executed request of each client and its reply, for at-most-once execution)
 * — as one deterministic byte string, and the reassembly of one received in chunks (CHECKPOINT
 * messages, libs/protocol paxos). Image layout (big-endian):
 *   magic u32 "NAPC", version u8 (2), op u64, clients u32,
 *   clients x (client_id u64, request_id u64, row_op u64, status u8, result_len u32, result),
 *     by row_op then client id (row_op: the op that executed the request, <= op; the client
 *     table's eviction order, log.ts),
 *   machine_len u32, machine
 * The receiver checks total_len and the CRC-32 of the whole (every chunk of the same op, total
 * and checksum), then this layout (decodeCheckpoint throws NA_ERR_PAXOS_BAD_CHECKPOINT).
 */
import { paxos } from '@netaccel/protocol';
import { NA_ERR_PAXOS_BAD_CHECKPOINT } from './errors.js';
import type { CachedReply, ClientTable } from './log.js';
import { OpReader } from './op-codec.js';

const MAGIC = 0x4e415043; // "NAPC"
const VERSION = 2; // 2: each client row carries its op (the bounded client table)

/** Chunks a replica sends per GET_STATE / GET_CHECKPOINT answer (~11 KB in flight per fetch). */
export const CHECKPOINT_WINDOW = 8;

/** A checkpoint as kept and served: its op, its bytes and their CRC-32. */
export interface Checkpoint {
  readonly op: bigint;
  readonly bytes: Buffer;
  readonly checksum: number;
}

/** A decoded checkpoint. */
export interface CheckpointImage {
  readonly op: bigint;
  readonly clients: ReadonlyArray<readonly [bigint, CachedReply]>;
  readonly machine: Buffer;
}

/** The checkpoint of op `op`: the client table and the state machine's snapshot. */
export function encodeCheckpoint(op: bigint, clients: ClientTable, machine: Buffer): Checkpoint {
  const rows = clients.entries();
  let size = 4 + 1 + 8 + 4 + 4 + machine.length;
  for (const [, c] of rows) size += 29 + c.result.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt32BE(MAGIC, 0);
  at = out.writeUInt8(VERSION, at);
  at = out.writeBigUInt64BE(op, at);
  at = out.writeUInt32BE(rows.length, at);
  for (const [id, c] of rows) {
    at = out.writeBigUInt64BE(id, at);
    at = out.writeBigUInt64BE(c.requestId, at);
    at = out.writeBigUInt64BE(c.op, at);
    at = out.writeUInt8(c.status, at);
    at = out.writeUInt32BE(c.result.length, at);
    at += c.result.copy(out, at);
  }
  at = out.writeUInt32BE(machine.length, at);
  machine.copy(out, at);
  return { op, bytes: out, checksum: paxos.checkpointChecksum(out) };
}

/** Decodes a checkpoint's bytes; throws NA_ERR_PAXOS_BAD_CHECKPOINT naming the field. */
export function decodeCheckpoint(bytes: Buffer): CheckpointImage {
  const r = new OpReader(bytes, 'checkpoint', NA_ERR_PAXOS_BAD_CHECKPOINT);
  const magic = r.u32('magic');
  if (magic !== MAGIC) throw NA_ERR_PAXOS_BAD_CHECKPOINT('checkpoint.magic', `expected 0x${MAGIC.toString(16)}, got 0x${magic.toString(16)}`);
  const version = r.u8('version');
  if (version !== VERSION) throw NA_ERR_PAXOS_BAD_CHECKPOINT('checkpoint.version', `expected ${VERSION}, got ${version}`);
  const op = r.u64('op');
  if (op === 0n) throw NA_ERR_PAXOS_BAD_CHECKPOINT('checkpoint.op', 'expected >= 1, got 0');
  const count = r.u32('clients');
  const clients: Array<readonly [bigint, CachedReply]> = [];
  const seen = new Set<bigint>();
  for (let i = 0; i < count; i++) {
    const id = r.u64(`clients[${i}].client_id`);
    const requestId = r.u64(`clients[${i}].request_id`);
    const rowOp = r.u64(`clients[${i}].row_op`);
    if (rowOp === 0n || rowOp > op) throw NA_ERR_PAXOS_BAD_CHECKPOINT(`checkpoint.clients[${i}].row_op`, `expected 1..${op}, got ${rowOp}`);
    const prev = clients[i - 1];
    if (prev !== undefined && (rowOp < prev[1].op || (rowOp === prev[1].op && id <= prev[0]))) {
      throw NA_ERR_PAXOS_BAD_CHECKPOINT(`checkpoint.clients[${i}]`, 'rows must be ordered by row_op, then increasing client id');
    }
    const status = r.u8(`clients[${i}].status`);
    const result = Buffer.from(r.bytes(r.u32(`clients[${i}].result_len`), `clients[${i}].result`));
    if (seen.has(id)) throw NA_ERR_PAXOS_BAD_CHECKPOINT(`checkpoint.clients[${i}].client_id`, `client ${id} appears twice`);
    seen.add(id);
    clients.push([id, { requestId, status, result, op: rowOp }]);
  }
  const machine = Buffer.from(r.bytes(r.u32('machine_len'), 'machine'));
  r.end();
  return { op, clients, machine };
}

/**
 * One checkpoint received in chunks: the bytes held in order from 0 (`have`), chunks that arrived
 * ahead of them kept (up to two windows ahead), the end of the window last asked for.
 */
export class CheckpointAssembly {
  readonly op: bigint;
  readonly total: number;
  readonly checksum: number;
  private readonly parts: Buffer[] = [];
  private readonly early = new Map<number, Buffer>();
  have = 0;
  /** The window asked for ends here: reaching it asks for the next (GET_CHECKPOINT). */
  windowEnd = CHECKPOINT_WINDOW * paxos.PAXOS_MAX_CHUNK;

  constructor(m: Pick<paxos.CheckpointMessage, 'op' | 'total' | 'checksum'>) {
    this.op = m.op;
    this.total = m.total;
    this.checksum = m.checksum;
  }

  /** Whether a chunk belongs to this checkpoint (same op, total_len and checksum). */
  matches(m: Pick<paxos.CheckpointMessage, 'op' | 'total' | 'checksum'>): boolean {
    return m.op === this.op && m.total === this.total && m.checksum === this.checksum;
  }

  /** Adds a chunk; returns whether `have` advanced. */
  add(offset: number, data: Buffer): boolean {
    const before = this.have;
    if (offset > this.have) {
      if (offset < this.have + 2 * CHECKPOINT_WINDOW * paxos.PAXOS_MAX_CHUNK && this.early.size < 4 * CHECKPOINT_WINDOW) this.early.set(offset, Buffer.from(data));
      return false;
    }
    this.take(offset, data);
    for (let more = true; more; ) {
      more = false;
      for (const [at, d] of this.early) {
        if (at > this.have) continue;
        this.early.delete(at);
        this.take(at, d);
        more = true;
      }
    }
    return this.have > before;
  }

  private take(offset: number, data: Buffer): void {
    if (offset + data.length <= this.have) return; // held already
    this.parts.push(Buffer.from(data.subarray(this.have - offset)));
    this.have = offset + data.length;
  }

  get complete(): boolean {
    return this.have >= this.total;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts, this.total);
  }
}
