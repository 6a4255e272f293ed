import { test } from 'vitest';
import assert from 'node:assert/strict';
import { FaultyTransport } from './faults.js';
import { MemoryTransport } from './testing/memory-transport.js';
import { paxos } from '@netaccel/protocol';

const msg = (op: bigint): Buffer => paxos.encodePaxos({ type: paxos.PaxosType.PrepareOk, sender: 1, view: 0, op, flags: 0 });
const TO = { address: '127.0.0.1', port: 7001 };

async function run(seed: number): Promise<{ ops: bigint[]; stats: unknown }> {
  const inner = new MemoryTransport({ address: '127.0.0.1', port: 7000 });
  const f = new FaultyTransport(inner, { seed, drop: 0.2, duplicate: 0.2, reorder: 0.2, delayMs: [0, 1] });
  for (let i = 1n; i <= 200n; i++) f.send(msg(i), TO);
  await new Promise((r) => setTimeout(r, 30));
  await f.close();
  return { ops: inner.sent.map((s) => (s.message as paxos.PrepareOkMessage).op), stats: { ...f.stats } };
}

test('the same seed drops, duplicates and reorders the same datagrams', async () => {
  const a = await run(42);
  const b = await run(42);
  const c = await run(43);
  assert.deepEqual(a.stats, b.stats);
  assert.deepEqual([...a.ops].sort((x, y) => Number(x - y)), [...b.ops].sort((x, y) => Number(x - y)));
  assert.notDeepEqual(a.stats, c.stats);
  const s = a.stats as { dropped: number; duplicated: number; reordered: number };
  assert.ok(s.dropped > 10 && s.duplicated > 10 && s.reordered > 10, JSON.stringify(s));
  assert.ok(a.ops.some((op, i) => i > 0 && op < a.ops[i - 1]!), 'some datagrams overtook others');
  assert.equal(a.ops.length, 200 - s.dropped + s.duplicated);
});

test('a blocked peer gets nothing and is not heard; bad rates are refused', async () => {
  const inner = new MemoryTransport({ address: '127.0.0.1', port: 7000 });
  const f = new FaultyTransport(inner, { seed: 1 });
  const got: bigint[] = [];
  f.onMessage((d) => got.push((paxos.decodePaxos(d) as paxos.PrepareOkMessage).op));
  f.block(TO);
  f.send(msg(1n), TO);
  inner.deliver(msg(2n), TO);
  f.unblock(TO);
  f.send(msg(3n), TO);
  inner.deliver(msg(4n), TO);
  assert.deepEqual(inner.sent.map((s) => (s.message as paxos.PrepareOkMessage).op), [3n]);
  assert.deepEqual(got, [4n]);
  assert.equal(f.stats.blocked, 2);
  assert.throws(() => new FaultyTransport(inner, { seed: 1, drop: 2 }), /faults\.drop: expected a probability 0\.\.1, got 2/);
  assert.throws(() => f.setFaults({ delayMs: [5, 1] }), /faults\.delayMs/);
});
