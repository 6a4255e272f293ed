// Checkpoints at the level of single protocol steps (one replica, a recording transport): a
// follower checkpoints and truncates, serves a checkpoint below its log in chunks and entries
// above it; a follower behind a leader's checkpoint takes it in windows (reordered, duplicated,
// forged and corrupted chunks refused), then the entries after it; a new leader whose log is
// behind the best one's checkpoint adopts it in the view change.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import { KvStateMachine, encodeKvOp } from './kv.js';
import { ClientTable } from './log.js';
import { CHECKPOINT_WINDOW, decodeCheckpoint, encodeCheckpoint } from './snapshot.js';
import type { Checkpoint } from './snapshot.js';
import { body, prepare, put, single } from './testing/steps-harness.js';

const { PaxosType } = paxos;
type Harness = Awaited<ReturnType<typeof single>>;

/** A leader's checkpoint at `op`: `keys` keys of `size`-byte values, client 5 at request `op`. */
function leaderCheckpoint(op: bigint, keys: number, size: number): { cp: Checkpoint; kv: KvStateMachine } {
  const kv = new KvStateMachine();
  for (let i = 0; i < keys; i++) kv.apply(encodeKvOp({ kind: 'put', key: `k${i}`, value: String(i).padStart(size, '.') }));
  const clients = new ClientTable();
  clients.set(5n, { requestId: op, status: paxos.ReplyStatus.Ok, result: Buffer.alloc(0), op });
  return { cp: encodeCheckpoint(op, clients, kv.snapshot()), kv };
}

function chunk(cp: Checkpoint, offset: number, sender: number, view: number): paxos.CheckpointMessage {
  return { type: PaxosType.Checkpoint, sender, view, op: cp.op, total: cp.bytes.length, checksum: cp.checksum, offset, data: cp.bytes.subarray(offset, offset + paxos.PAXOS_MAX_CHUNK) };
}

/** Plays the responder: answers each GET_CHECKPOINT (and a GET_STATE below `cp`) with its window, reversed, up to the last; returns what the replica asks next. */
async function serve(h: Harness, cp: Checkpoint, sender: number, view: number, first: paxos.PaxosMessage): Promise<{ windows: number; next: paxos.PaxosMessage }> {
  let ask = first;
  for (let windows = 0; windows < 100; windows++) {
    assert.ok(ask.type === PaxosType.GetCheckpoint || (ask.type === PaxosType.GetState && ask.op < cp.op), JSON.stringify(ask, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    const from = ask.type === PaxosType.GetCheckpoint ? ask.offset : 0;
    const window: paxos.CheckpointMessage[] = [];
    for (let o = from; o < cp.bytes.length && window.length < CHECKPOINT_WINDOW; o += paxos.PAXOS_MAX_CHUNK) window.push(chunk(cp, o, sender, view));
    for (const m of window.reverse()) await h.from(sender, m);
    const out = h.sent();
    assert.equal(out.length, 1, JSON.stringify(out.map((s) => s.m.type)));
    ask = out[0]!.m;
    const last = window[0]!;
    if (last.offset + last.data.length === cp.bytes.length) return { windows: windows + 1, next: ask };
  }
  throw new Error('no end');
}

test('a follower checkpoints every checkpointEvery ops, keeps logRetain entries below, serves the checkpoint below its log and entries above', async (t) => {
  const h = await single(1, t, { checkpointEvery: 4, logRetain: 2 });
  for (let i = 1n; i <= 10n; i++) await h.from(0, prepare(i, i - 1n, [put(`k${i}`, `v${i}`, i)]));
  await h.from(0, { type: PaxosType.Commit, sender: 0, view: 0, commit: 10n });
  h.sent();
  assert.deepEqual(h.replica.logStats(), { firstOp: 7n, lastOp: 10n, entries: 4, checkpointOp: 8n, checkpointBytes: h.replica.logStats().checkpointBytes });
  const c = h.replica.counters();
  assert.equal(c.checkpoints_taken, 2);
  assert.equal(c.log_entries_truncated, 6);
  // Below the log (op 4 wanted, first held 7): the checkpoint of op 8.
  await h.from(2, { type: PaxosType.GetState, sender: 2, view: 0, op: 3n });
  const out = h.sent();
  assert.equal(out.length, 1);
  const m = out[0]!.m as paxos.CheckpointMessage;
  assert.deepEqual([out[0]!.to, m.type, m.op, m.offset, m.total], [2, PaxosType.Checkpoint, 8n, 0, m.data.length]);
  const img = decodeCheckpoint(m.data);
  const kv = new KvStateMachine();
  kv.restore(img.machine);
  assert.deepEqual(kv.entries().map(([k]) => k), ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8']);
  assert.deepEqual(img.clients.map(([id, r]) => [id, r.requestId]), [[5n, 8n]]);
  // Within the retained tail: entries.
  await h.from(2, { type: PaxosType.GetState, sender: 2, view: 0, op: 6n });
  const ns = h.sent()[0]!.m as paxos.NewStateMessage;
  assert.deepEqual(ns.entries.map((e) => e.op), [7n, 8n, 9n, 10n]);
  // GET_CHECKPOINT of another (old) op: the current one from byte 0.
  await h.from(2, { type: PaxosType.GetCheckpoint, sender: 2, view: 0, op: 4n, offset: 100 });
  assert.deepEqual(h.sent().map((s) => [(s.m as paxos.CheckpointMessage).op, (s.m as paxos.CheckpointMessage).offset]), [[8n, 0]]);
});

test('a follower behind the leader\'s checkpoint takes it in windows, refuses forged and corrupted chunks, then fetches the entries after it', async (t) => {
  const h = await single(2, t);
  const { cp, kv: leaderKv } = leaderCheckpoint(100n, 40, 600);
  const chunks = Math.ceil(cp.bytes.length / paxos.PAXOS_MAX_CHUNK);
  assert.ok(chunks > 2 * CHECKPOINT_WINDOW, `${chunks} chunks: several windows`);
  await h.from(0, { type: PaxosType.Commit, sender: 0, view: 0, commit: 103n });
  const ask = h.sent();
  assert.deepEqual(ask.map((s) => s.m), [{ type: PaxosType.GetState, sender: 2, view: 0, op: 0n }]);
  // A corrupted copy (right framing, one byte flipped): refused whole, asked again from the start.
  const bad: Checkpoint = { ...cp, bytes: Buffer.from(cp.bytes) };
  bad.bytes[bad.bytes.length - 3]! ^= 0xff;
  const first = await serve(h, bad, 0, 0, ask[0]!.m);
  assert.deepEqual(first.next, { type: PaxosType.GetState, sender: 2, view: 0, op: 0n });
  assert.equal(h.replica.counters().checkpoint_chunks_rejected, 1);
  assert.equal(h.replica.logStats().checkpointOp, 0n);
  // A chunk of the same op with another checksum starts a checkpoint the right chunk then replaces
  // (refused: what was held was damaged); a chunk from a replica not asked is stale.
  await h.from(0, { ...chunk(cp, 0, 0, 0), checksum: cp.checksum ^ 1 });
  await h.from(0, chunk(cp, paxos.PAXOS_MAX_CHUNK, 0, 0));
  await h.from(1, chunk(cp, 0, 1, 0));
  assert.equal(h.replica.counters().messages_stale, 1);
  assert.equal(h.replica.counters().checkpoint_chunks_rejected, 2);
  h.sent();
  const { windows, next } = await serve(h, cp, 0, 0, first.next);
  assert.equal(windows, Math.ceil(chunks / CHECKPOINT_WINDOW));
  assert.deepEqual(next, { type: PaxosType.GetState, sender: 2, view: 0, op: 100n });
  assert.deepEqual(h.replica.logStats(), { firstOp: 101n, lastOp: 100n, entries: 0, checkpointOp: 100n, checkpointBytes: cp.bytes.length });
  assert.equal(h.replica.snapshot().executed, 100n);
  assert.deepEqual(h.kv.entries(), leaderKv.entries());
  await h.from(0, { type: PaxosType.NewState, sender: 0, view: 0, op: 103n, commit: 103n, entries: [101n, 102n, 103n].map((op) => ({ op, view: 0, body: body([put(`n${op}`, 'x', op)]) })) });
  assert.deepEqual(h.sent().map((s) => s.m), [{ type: PaxosType.PrepareOk, sender: 2, view: 0, op: 103n, flags: 0 }]);
  assert.equal(h.replica.snapshot().executed, 103n);
  assert.equal(h.kv.peek('n103'), 'x');
  // The client table came with the checkpoint: request 100 of client 5 is not executed again.
  await h.from(0, prepare(104n, 103n, [put('k0', 'again', 100n), put('k1', 'new', 104n)]));
  await h.from(0, { type: PaxosType.Commit, sender: 0, view: 0, commit: 104n });
  assert.equal(h.kv.peek('k0'), leaderKv.peek('k0'));
  assert.equal(h.kv.peek('k1'), 'new');
  assert.equal(h.replica.counters().checkpoints_installed, 1);
});

test('view change: the new leader, behind the best log\'s checkpoint, adopts the checkpoint and the entries after it', async (t) => {
  const h = await single(1, t);
  for (let i = 1n; i <= 3n; i++) await h.from(0, prepare(i, i - 1n, [put(`mine${i}`, 'x', i, 6n)]));
  await h.from(0, { type: PaxosType.Commit, sender: 0, view: 0, commit: 3n });
  h.sent();
  await h.from(2, { type: PaxosType.StartViewChange, sender: 2, view: 1 });
  await h.from(2, { type: PaxosType.DoViewChange, sender: 2, view: 1, op: 50n, commit: 48n, lastNormalView: 0 });
  const ask = h.sent().filter((s) => s.m.type === PaxosType.GetState);
  assert.deepEqual(ask.map((s) => [s.to, s.m]), [[2, { type: PaxosType.GetState, sender: 1, view: 1, op: 3n }]]);
  const { cp, kv: best } = leaderCheckpoint(40n, 3, 10);
  const { next } = await serve(h, cp, 2, 1, ask[0]!.m);
  assert.deepEqual(next, { type: PaxosType.GetState, sender: 1, view: 1, op: 40n });
  // Nothing replaced before the fetch completes.
  assert.equal(h.replica.snapshot().status, 'view-change');
  assert.equal(h.kv.peek('mine1'), 'x');
  await h.from(2, { type: PaxosType.NewState, sender: 2, view: 1, op: 50n, commit: 48n, entries: Array.from({ length: 10 }, (_, i) => ({ op: 41n + BigInt(i), view: 0, body: body([put(`after${41 + i}`, 'y', 41n + BigInt(i))]) })) });
  const sv = h.sent().filter((s) => s.m.type === PaxosType.StartView);
  assert.deepEqual(sv.map((s) => s.m), [0, 2].map(() => ({ type: PaxosType.StartView, sender: 1, view: 1, op: 50n, commit: 48n })));
  const s = h.replica.snapshot();
  assert.deepEqual([s.isLeader, s.lastOp, s.commit, s.executed], [true, 50n, 48n, 48n]);
  assert.equal(h.kv.peek('mine1'), undefined, 'the state is the checkpoint\'s');
  assert.equal(h.kv.peek('k2'), best.peek('k2'));
  assert.equal(h.kv.peek('after48'), 'y');
  assert.equal(h.kv.peek('after49'), undefined, 'uncommitted');
  assert.deepEqual(h.replica.logStats().firstOp, 41n);
});
