// CHECKPOINT / GET_CHECKPOINT: layout, round trip, and every malformed or truncated chunk refused
// with a typed error (the replica counts and drops it).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { isNetaccelError } from '@netaccel/errors';
import { checkpointChecksum } from './checkpoint.js';
import { PAXOS_HDR, PAXOS_MAX_CHECKPOINT, PAXOS_MAX_CHUNK, PAXOS_MAX_MSG, PaxosType, paxosTypeName } from './constants.js';
import { decodePaxos, encodePaxos } from './message.js';
import type { CheckpointMessage } from './model.js';

const chunk = (over: Partial<CheckpointMessage> = {}): CheckpointMessage => ({
  type: PaxosType.Checkpoint,
  sender: 1,
  view: 2,
  op: 4096n,
  total: 3000,
  checksum: 0xdeadbeef,
  offset: 1354,
  data: Buffer.from('abc'),
  ...over,
});

function refused(bytes: Uint8Array, code: string, re: RegExp): void {
  assert.throws(() => decodePaxos(bytes), (err: unknown) => isNetaccelError(err) && err.code === code && re.test(err.message), re.source);
}

test('the checksum is CRC-32 (zlib), the check value of "123456789"', () => {
  assert.equal(checkpointChecksum(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(paxosTypeName(13), 'CHECKPOINT');
  assert.equal(paxosTypeName(14), 'GET_CHECKPOINT');
});

test('a CHECKPOINT chunk has the documented layout and round-trips', () => {
  const b = encodePaxos(chunk());
  assert.equal(
    b.toString('hex'),
    '4e415058' + '01' + '0d' + '01' + '00' + '00000002' + '00000011' + '0000000000001000' + '0000000000000000' +
      '00000bb8' + 'deadbeef' + '0000054a' + '0003' + '616263',
  );
  const back = decodePaxos(b) as CheckpointMessage;
  assert.deepEqual({ ...back, data: back.data.toString() }, { ...chunk(), data: 'abc' });
  // The largest chunk fills one datagram exactly.
  const full = encodePaxos(chunk({ offset: 0, data: Buffer.alloc(PAXOS_MAX_CHUNK, 7) }));
  assert.equal(full.length, PAXOS_MAX_MSG);
  const get = encodePaxos({ type: PaxosType.GetCheckpoint, sender: 0, view: 2, op: 4096n, offset: 2708 });
  assert.equal(get.length, 36);
  assert.deepEqual(decodePaxos(get), { type: PaxosType.GetCheckpoint, sender: 0, view: 2, op: 4096n, offset: 2708 });
});

test('malformed and truncated chunks are refused with a typed error naming the field', () => {
  const b = encodePaxos(chunk());
  const edit = (fn: (c: Buffer) => void): Buffer => {
    const c = Buffer.from(b);
    fn(c);
    return c;
  };
  const cut = (n: number): Buffer => {
    const c = Buffer.from(b.subarray(0, b.length - n));
    c.writeUInt32BE(c.length - 32, PAXOS_HDR.bodyLen);
    return c;
  };
  refused(cut(1), 'NA_ERR_PAXOSWIRE_BAD_LENGTH', /checkpoint\.len: 3 but 2 bytes follow/);
  refused(cut(5), 'NA_ERR_PAXOSWIRE_TRUNCATED', /checkpoint: needs 14 bytes, 12 left/);
  refused(b.subarray(0, b.length - 1), 'NA_ERR_PAXOSWIRE_BAD_LENGTH', /header\.body_len/);
  refused(edit((c) => c.writeBigUInt64BE(0n, PAXOS_HDR.op)), 'NA_ERR_PAXOSWIRE_BAD_FIELD', /header\.op: must be >= 1 on a CHECKPOINT/);
  refused(edit((c) => c.writeBigUInt64BE(1n, PAXOS_HDR.commit)), 'NA_ERR_PAXOSWIRE_BAD_FIELD', /header\.commit: must be 0 on a CHECKPOINT/);
  refused(edit((c) => c.writeUInt32BE(0, 32)), 'NA_ERR_PAXOSWIRE_BAD_FIELD', /checkpoint\.total_len: expected 1\.\.67108864, got 0/);
  refused(edit((c) => c.writeUInt32BE(PAXOS_MAX_CHECKPOINT + 1, 32)), 'NA_ERR_PAXOSWIRE_BAD_FIELD', /checkpoint\.total_len/);
  refused(edit((c) => c.writeUInt32BE(2998, 40)), 'NA_ERR_PAXOSWIRE_BAD_FIELD', /checkpoint\.offset: bytes 2998\.\.3001 run past total_len 3000/);
  refused(edit((c) => c.writeUInt32BE(0xffffffff, 40)), 'NA_ERR_PAXOSWIRE_BAD_FIELD', /checkpoint\.offset/);
  refused(edit((c) => (c[PAXOS_HDR.flags] = 1)), 'NA_ERR_PAXOSWIRE_BAD_FLAGS', /on a CHECKPOINT/);
  const empty = Buffer.from(b.subarray(0, 46));
  empty.writeUInt32BE(14, PAXOS_HDR.bodyLen);
  empty.writeUInt16BE(0, 44);
  refused(empty, 'NA_ERR_PAXOSWIRE_BAD_FIELD', /checkpoint\.len: a chunk holds at least one byte/);
  const get = encodePaxos({ type: PaxosType.GetCheckpoint, sender: 0, view: 2, op: 9n, offset: 0 });
  const short = Buffer.from(get.subarray(0, 35));
  short.writeUInt32BE(3, PAXOS_HDR.bodyLen);
  refused(short, 'NA_ERR_PAXOSWIRE_BAD_LENGTH', /header\.body_len: 3 on a GET_CHECKPOINT, expected 4/);
  const get0 = Buffer.from(get);
  get0.writeBigUInt64BE(0n, PAXOS_HDR.op);
  refused(get0, 'NA_ERR_PAXOSWIRE_BAD_FIELD', /header\.op/);
});

test('the encoder refuses chunks the decoder would refuse', () => {
  const cases: Array<[CheckpointMessage, RegExp]> = [
    [chunk({ data: Buffer.alloc(0) }), /data: expected 1\.\.1354 bytes/],
    [chunk({ offset: 0, data: Buffer.alloc(PAXOS_MAX_CHUNK + 1), total: 5000 }), /data: expected 1\.\.1354 bytes/],
    [chunk({ offset: 2999 }), /offset: expected offset \+ 3 within total 3000/],
    [chunk({ total: 0 }), /total: expected 1\.\./],
    [chunk({ checksum: -1 }), /checksum: expected a u32/],
    [chunk({ op: 0n }), /op: expected >= 1/],
  ];
  for (const [m, re] of cases) assert.throws(() => encodePaxos(m), re);
  assert.throws(() => encodePaxos({ type: PaxosType.GetCheckpoint, sender: 0, view: 0, op: 1n, offset: -1 }), /offset: expected a u32/);
});
