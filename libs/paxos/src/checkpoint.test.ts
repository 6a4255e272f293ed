// Checkpoints without a replica: the log's absolute op numbers and truncation, the state
// machines' snapshot / restore (deterministic bytes, malformed refused without a change), the
// checkpoint image codec and the reassembly of chunks (reordered, duplicated, overlapping).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import { ConfigStateMachine, encodeConfigOp } from './config-machine.js';
import { KvStateMachine, encodeKvOp } from './kv.js';
import { ClientTable, ReplicaLog } from './log.js';
import { CHECKPOINT_WINDOW, CheckpointAssembly, decodeCheckpoint, encodeCheckpoint } from './snapshot.js';

const entry = (n: number): Buffer => paxos.encodeEntry([{ clientId: 1n, requestId: BigInt(n), payload: Buffer.from(`op${n}`) }]);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'ok';
}

test('the log keeps absolute op numbers across truncation, reset and suffix replacement', () => {
  const log = new ReplicaLog();
  for (let i = 1; i <= 10; i++) log.append(0, entry(i));
  assert.equal(log.dropThrough(4n), 4);
  assert.deepEqual([log.firstOp, log.lastOp, log.length], [5n, 10n, 6]);
  assert.equal(log.get(4n), undefined);
  assert.equal(log.get(5n)!.op, 5n);
  assert.equal(log.get(5n)!.requests[0]!.requestId, 5n);
  assert.deepEqual(log.after(6n, 2).map((e) => e.op), [7n, 8n]);
  assert.deepEqual(log.after(3n, 2), [], 'entries below the first one held are not served');
  assert.equal(log.dropThrough(3n), 0, 'nothing below the first entry to drop');
  log.truncate(8n);
  assert.equal(log.lastOp, 8n);
  assert.equal(log.append(1, entry(9)).op, 9n);
  assert.equal(log.dropThrough(100n), 9 - 4, 'dropping past the end empties the log');
  assert.deepEqual([log.firstOp, log.lastOp, log.length], [10n, 9n, 0]);
  log.reset(40n);
  assert.equal(log.append(2, entry(41)).op, 41n);
  log.truncate(0n);
  assert.deepEqual([log.firstOp, log.lastOp], [1n, 0n]);
});

test('KV snapshot: the same state gives the same bytes whatever the order it was built in; restore round-trips', () => {
  const a = new KvStateMachine();
  const b = new KvStateMachine();
  for (const [k, v] of [['x', '1'], ['ключ', 'värde'], ['a', '']]) a.apply(encodeKvOp({ kind: 'put', key: k!, value: v! }));
  for (const [k, v] of [['a', ''], ['x', '0'], ['ключ', 'värde'], ['gone', 'soon']]) b.apply(encodeKvOp({ kind: 'put', key: k!, value: v! }));
  b.apply(encodeKvOp({ kind: 'put', key: 'x', value: '1' }));
  b.apply(encodeKvOp({ kind: 'delete', key: 'gone' }));
  assert.deepEqual(a.snapshot(), b.snapshot());
  const c = new KvStateMachine();
  c.apply(encodeKvOp({ kind: 'put', key: 'old', value: 'dropped by restore' }));
  c.restore(a.snapshot());
  assert.deepEqual(c.entries(), a.entries());
  // Malformed: refused with the code, the store unchanged.
  for (const bad of [a.snapshot().subarray(0, 9), Buffer.concat([a.snapshot(), Buffer.of(0)]), Buffer.alloc(3)]) {
    assert.equal(code(() => c.restore(bad)), 'NA_ERR_PAXOS_BAD_KV_OP');
    assert.deepEqual(c.entries(), a.entries());
  }
});

test('config snapshot: restore tells the listeners every key whose version changed, once', () => {
  const a = new ConfigStateMachine();
  const b = new ConfigStateMachine();
  a.apply(encodeConfigOp({ kind: 'set', key: 'chain', expectedVersion: 0, value: 'v1' }));
  a.apply(encodeConfigOp({ kind: 'set', key: 'chain', expectedVersion: 1, value: 'v2' }));
  a.apply(encodeConfigOp({ kind: 'set', key: 'epoch', expectedVersion: 0, value: '7' }));
  b.apply(encodeConfigOp({ kind: 'set', key: 'epoch', expectedVersion: 0, value: '7' }));
  const heard: Array<[string, number, string]> = [];
  b.onChange((k, now) => heard.push([k, now.version, now.value]));
  b.restore(a.snapshot());
  assert.deepEqual(heard, [['chain', 2, 'v2']]);
  assert.deepEqual(b.snapshot(), a.snapshot());
  const zero = Buffer.from(a.snapshot());
  zero.writeUInt32BE(0, 4 + 2 + 'chain'.length); // chain's version
  assert.equal(code(() => b.restore(zero)), 'NA_ERR_PAXOS_BAD_CONFIG_OP');
  assert.equal(b.peek('chain')?.version, 2);
});

test('checkpoint image: client table (rows by op, then client id) and machine round-trip; malformed images are refused', () => {
  const clients = new ClientTable();
  clients.set(9n, { requestId: 4n, status: paxos.ReplyStatus.Ok, result: Buffer.from('r9'), op: 30n });
  clients.set(2n, { requestId: 7n, status: paxos.ReplyStatus.Error, result: Buffer.from('refused'), op: 31n });
  clients.set(1n, { requestId: 3n, status: paxos.ReplyStatus.SessionExpired, result: Buffer.alloc(0), op: 31n });
  const cp = encodeCheckpoint(4096n, clients, Buffer.from('machine'));
  assert.equal(cp.checksum, paxos.checkpointChecksum(cp.bytes));
  const img = decodeCheckpoint(cp.bytes);
  assert.equal(img.op, 4096n);
  assert.deepEqual(img.clients.map(([id, c]) => [id, c.requestId, c.op, c.status, c.result.toString()]), [[9n, 4n, 30n, 0, 'r9'], [1n, 3n, 31n, 3, ''], [2n, 7n, 31n, 2, 'refused']]);
  assert.equal(img.machine.toString(), 'machine');
  const same = new ClientTable();
  same.replace(img.clients);
  assert.deepEqual(encodeCheckpoint(4096n, same, img.machine).bytes, cp.bytes, 'deterministic');
  const edit = (at: number, v: number): Buffer => {
    const c = Buffer.from(cp.bytes);
    c[at] = v;
    return c;
  };
  for (const [what, bytes, re] of [
    ['magic', edit(0, 0), /checkpoint\.magic/],
    ['version', edit(4, 1), /checkpoint\.version: expected 2, got 1/],
    ['op 0', Buffer.concat([cp.bytes.subarray(0, 5), Buffer.alloc(8), cp.bytes.subarray(13)]), /checkpoint\.op: expected >= 1/],
    ['truncated', cp.bytes.subarray(0, cp.bytes.length - 1), /checkpoint\.machine: needs 7 bytes, 6 left/],
    ['trailing', Buffer.concat([cp.bytes, Buffer.of(1)]), /1 bytes after/],
    // rows: 17 + (29 + 2) + (29 + 0): the third row (client 2 at op 31) starts at 77
    ['unordered clients', edit(77 + 7, 0), /clients\[2\]: rows must be ordered by row_op, then increasing client id/],
    ['a client twice', edit(77 + 7, 9), /clients\[2\]\.client_id: client 9 appears twice/],
    ['a row after the checkpoint', edit(17 + 16 + 4, 1), /clients\[0\]\.row_op: expected 1\.\.4096, got/],
    ['row op 0', edit(17 + 16 + 7, 0), /clients\[0\]\.row_op: expected 1\.\.4096, got 0/],
  ] as const) {
    assert.throws(() => decodeCheckpoint(bytes), (err: unknown) => (err as { code?: string }).code === 'NA_ERR_PAXOS_BAD_CHECKPOINT' && re.test((err as Error).message), what);
  }
});

test('chunk reassembly: reordered, duplicated and overlapping chunks give the bytes; far-ahead ones wait', () => {
  const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
  const meta = { op: 7n, total: bytes.length, checksum: paxos.checkpointChecksum(bytes) };
  const a = new CheckpointAssembly(meta);
  assert.ok(a.matches(meta) && !a.matches({ ...meta, checksum: meta.checksum ^ 1 }) && !a.matches({ ...meta, op: 8n }));
  const at = (o: number, n: number): [number, Buffer] => [o, bytes.subarray(o, o + n)];
  assert.equal(a.add(...at(2000, 1000)), false, 'ahead: kept');
  assert.equal(a.have, 0);
  assert.equal(a.add(...at(0, 1000)), true);
  assert.equal(a.add(...at(0, 1000)), false, 'a duplicate');
  assert.equal(a.add(...at(500, 1600)), true, 'an overlap: the new part taken, then the one kept ahead');
  assert.equal(a.have, 3000);
  assert.equal(a.complete, false);
  assert.equal(a.add(...at(3000, 2000)), true);
  assert.ok(a.complete);
  assert.deepEqual(a.bytes(), bytes);
  // A chunk beyond two windows is not kept (it comes again when asked for).
  const b = new CheckpointAssembly({ ...meta, total: 1 << 20 });
  assert.equal(b.add(2 * CHECKPOINT_WINDOW * paxos.PAXOS_MAX_CHUNK, Buffer.alloc(10)), false);
  assert.equal(b.add(0, Buffer.alloc(10)), true);
  assert.equal(b.have, 10);
});
