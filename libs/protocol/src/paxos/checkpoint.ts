/**
 * CHECKPOINT (13) and GET_CHECKPOINT (14): state transfer of a replica's checkpoint in chunks,
 * when the entries a replica needs are below the sender's first retained log entry. The bytes
 * of the checkpoint are opaque here (libs/paxos snapshot.ts); the codec checks each chunk's
 * framing (offset + length within total_len, total_len within PAXOS_MAX_CHECKPOINT) and the
 * receiver checks the whole: every chunk of the same op, total_len and checksum (CRC-32).
 */
import { crc32 } from 'node:zlib';
import { PAXOS_CHECKPOINT_CHUNK_OVERHEAD, PAXOS_MAX_CHECKPOINT, PAXOS_MAX_CHUNK } from './constants.js';
import { NA_ERR_PAXOSWIRE_BAD_FIELD, NA_ERR_PAXOSWIRE_BAD_LENGTH, NA_ERR_PAXOSWIRE_INVALID_MESSAGE, NA_ERR_PAXOSWIRE_TRUNCATED } from './errors.js';
import { isU32 } from './header.js';
import type { CheckpointMessage } from './model.js';

/** The checksum every CHECKPOINT chunk carries: CRC-32 (zlib's) of the whole checkpoint. */
export function checkpointChecksum(bytes: Uint8Array): number {
  return crc32(bytes) >>> 0;
}

type Chunk = Pick<CheckpointMessage, 'total' | 'checksum' | 'offset' | 'data'>;

/** Checks a chunk to encode; throws NA_ERR_PAXOSWIRE_INVALID_MESSAGE naming the field. */
export function checkChunk(m: Chunk): void {
  const need = (ok: boolean, path: string, what: string): void => {
    if (!ok) throw NA_ERR_PAXOSWIRE_INVALID_MESSAGE(path, what);
  };
  need(isU32(m.total) && m.total >= 1 && m.total <= PAXOS_MAX_CHECKPOINT, 'total', `expected 1..${PAXOS_MAX_CHECKPOINT} bytes`);
  need(isU32(m.checksum), 'checksum', 'expected a u32');
  need(m.data instanceof Uint8Array && m.data.length >= 1 && m.data.length <= PAXOS_MAX_CHUNK, 'data', `expected 1..${PAXOS_MAX_CHUNK} bytes`);
  need(isU32(m.offset) && m.offset + m.data.length <= m.total, 'offset', `expected offset + ${m.data.length} within total ${m.total}`);
}

export function writeChunk(out: Buffer, at: number, m: Chunk): void {
  out.writeUInt32BE(m.total, at);
  out.writeUInt32BE(m.checksum, at + 4);
  out.writeUInt32BE(m.offset, at + 8);
  out.writeUInt16BE(m.data.length, at + 12);
  out.set(m.data, at + PAXOS_CHECKPOINT_CHUNK_OVERHEAD);
}

/** Reads a CHECKPOINT body (the data is a view of `body`). */
export function readChunk(body: Buffer): Chunk {
  if (body.length < PAXOS_CHECKPOINT_CHUNK_OVERHEAD) throw NA_ERR_PAXOSWIRE_TRUNCATED('checkpoint', PAXOS_CHECKPOINT_CHUNK_OVERHEAD, body.length);
  const total = body.readUInt32BE(0);
  const checksum = body.readUInt32BE(4);
  const offset = body.readUInt32BE(8);
  const len = body.readUInt16BE(12);
  if (len !== body.length - PAXOS_CHECKPOINT_CHUNK_OVERHEAD) throw NA_ERR_PAXOSWIRE_BAD_LENGTH('checkpoint.len', `${len} but ${body.length - PAXOS_CHECKPOINT_CHUNK_OVERHEAD} bytes follow`);
  if (len === 0) throw NA_ERR_PAXOSWIRE_BAD_FIELD('checkpoint.len', 'a chunk holds at least one byte, got 0');
  if (total === 0 || total > PAXOS_MAX_CHECKPOINT) throw NA_ERR_PAXOSWIRE_BAD_FIELD('checkpoint.total_len', `expected 1..${PAXOS_MAX_CHECKPOINT}, got ${total}`);
  if (offset + len > total) throw NA_ERR_PAXOSWIRE_BAD_FIELD('checkpoint.offset', `bytes ${offset}..${offset + len} run past total_len ${total}`);
  return { total, checksum, offset, data: body.subarray(PAXOS_CHECKPOINT_CHUNK_OVERHEAD) };
}
