/**
 * The replicated configuration: its operation codec and state machine, and three members over
 * real UDP on 127.0.0.1 — a change proposed by one is seen by the others in the same order,
 * concurrent compare-and-sets both land (the loser decides again on what won), and after the
 * leader's replica is closed the group elects another and the survivors still agree.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { ConfigStateMachine, decodeConfigOp, decodeConfigResult, encodeConfigOp } from './config-machine.js';
import type { Versioned } from './config-machine.js';
import { ReplicatedConfig } from './config-store.js';
import { udpTransport } from './transport.js';
import { TEST_TIMING } from './testing/cluster.js';

test('config ops: round trip, compare-and-set by version, malformed input refused with the field', () => {
  const m = new ConfigStateMachine();
  const seen: [string, Versioned][] = [];
  m.onChange((k, v) => seen.push([k, v]));
  const apply = (op: Parameters<typeof encodeConfigOp>[0]) => {
    const r = m.apply(encodeConfigOp(op));
    assert.ok(r.ok);
    return decodeConfigResult(r.result);
  };
  assert.deepEqual(decodeConfigOp(encodeConfigOp({ kind: 'set', key: 'k', expectedVersion: 7, value: 'é' })), { kind: 'set', key: 'k', expectedVersion: 7, value: 'é' });
  assert.deepEqual(apply({ kind: 'read', key: 'k' }), { flag: false, version: 0, value: '' });
  assert.deepEqual(apply({ kind: 'set', key: 'k', expectedVersion: 1, value: 'a' }), { flag: false, version: 0, value: '' }, 'version 1 expected of an absent key');
  assert.deepEqual(apply({ kind: 'set', key: 'k', expectedVersion: 0, value: 'a' }), { flag: true, version: 1, value: 'a' });
  assert.deepEqual(apply({ kind: 'set', key: 'k', expectedVersion: 0, value: 'b' }), { flag: false, version: 1, value: 'a' }, 'the loser learns what won');
  assert.deepEqual(apply({ kind: 'set', key: 'k', expectedVersion: 1, value: 'c' }), { flag: true, version: 2, value: 'c' });
  assert.deepEqual(seen, [['k', { version: 1, value: 'a' }], ['k', { version: 2, value: 'c' }]]);

  const bad = m.apply(Buffer.of(2, 0, 1, 0x6b, 0, 0));
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.error, /config\.expected_version: needs 4 bytes/);
  assert.throws(() => decodeConfigOp(Buffer.of(9, 0, 0)), /config\.kind: expected 1 \(READ\) or 2 \(SET\), got 9/);
  assert.throws(() => encodeConfigOp({ kind: 'set', key: 'k', expectedVersion: 0, value: 'x'.repeat(2000) }), { code: 'NA_ERR_PAXOS_OP_TOO_LARGE' });
  assert.equal(m.peek('k')?.value, 'c', 'refused operations changed nothing');
});

test('three members over UDP: one proposes, all see it; concurrent updates both land; the leader closed, the others agree', async (t) => {
  const sockets = await Promise.all([0, 1, 2].map(() => udpTransport({ address: '127.0.0.1', port: 0 })));
  const replicas = sockets.map((s) => s.local);
  const members = await Promise.all(sockets.map((transport, self) => ReplicatedConfig.start({ replicas, self, transport, replica: TEST_TIMING, timeoutMs: 4000, retryMs: 50 })));
  t.onTestFinished(async () => {
    for (const m of members) await m.close();
  });
  const seen = members.map(() => [] as string[]);
  members.forEach((m, i) => m.watch('chain', (now) => seen[i]!.push(`${now.version}:${now.value}`)));
  const until = async (what: string, pred: () => boolean): Promise<void> => {
    for (let i = 0; i < 400 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(pred(), what);
  };

  const first = await members[1]!.update('chain', (cur) => (cur === null ? 'n1,n2,n3' : undefined));
  assert.deepEqual(first, { changed: true, now: { version: 1, value: 'n1,n2,n3' } });
  await until('every member executed version 1', () => members.every((m) => m.local('chain')?.version === 1));

  // two members take a different node out at once: one wins, the other decides again on it
  const without = (node: string) => (cur: Versioned | null) => {
    const nodes = (cur?.value ?? '').split(',').filter((n) => n !== '');
    return nodes.includes(node) ? nodes.filter((n) => n !== node).join(',') : undefined;
  };
  const [a, b] = await Promise.all([members[0]!.update('chain', without('n2')), members[2]!.update('chain', without('n3'))]);
  assert.ok(a.changed && b.changed);
  assert.deepEqual((await members[1]!.read('chain'))?.value, 'n1');
  await until('every member executed version 3', () => members.every((m) => m.local('chain')?.version === 3));
  assert.deepEqual(seen[0], seen[1]);
  assert.deepEqual(seen[1], seen[2]);
  assert.equal(seen[0]!.length, 3);

  // the leader's replica goes away: a new view, and a change proposed by a survivor reaches the other
  const leader = members.findIndex((m) => m.replica.snapshot().isLeader);
  assert.ok(leader >= 0);
  await members[leader]!.close();
  const live = members.filter((_, i) => i !== leader);
  const after = await live[0]!.update('chain', (cur) => `${cur?.value ?? ''},n4`);
  assert.deepEqual(after, { changed: true, now: { version: 4, value: 'n1,n4' } });
  await until('both survivors executed version 4', () => live.every((m) => m.local('chain')?.version === 4));
  assert.ok(live.every((m) => m.replica.snapshot().view > 0), 'a view change happened');
  assert.deepEqual(seen[members.indexOf(live[0]!)], seen[members.indexOf(live[1]!)]);
});

test('three members, a client table of 1: a member whose client was evicted reads and updates again under a new session', async (t) => {
  const sockets = await Promise.all([0, 1, 2].map(() => udpTransport({ address: '127.0.0.1', port: 0 })));
  const replicas = sockets.map((s) => s.local);
  const members = await Promise.all(sockets.map((transport, self) => ReplicatedConfig.start({ replicas, self, transport, replica: { ...TEST_TIMING, maxClients: 1 }, timeoutMs: 4000, retryMs: 50 })));
  t.onTestFinished(async () => {
    for (const m of members) await m.close();
  });
  const append = (node: string) => (cur: Versioned | null) => [cur?.value, node].filter(Boolean).join(',');
  // members 1 and 2 take turns: each one's row evicts the other's (and the leader's lease reads may evict either)
  assert.deepEqual((await members[1]!.update('chain', append('a'))).now, { version: 1, value: 'a' });
  assert.deepEqual((await members[2]!.update('chain', append('b'))).now, { version: 2, value: 'a,b' });
  assert.deepEqual((await members[1]!.update('chain', append('c'))).now, { version: 3, value: 'a,b,c' });
  assert.deepEqual((await members[2]!.update('chain', append('d'))).now, { version: 4, value: 'a,b,c,d' });
  const expired = (): number[] => members.map((m) => m.replica.counters().requests_session_expired);
  // the followers execute the last entries when the next PREPARE or heartbeat tells them the commit
  for (let i = 0; i < 400 && new Set(expired()).size > 1; i++) await new Promise((r) => setTimeout(r, 10));
  const e = expired();
  assert.ok(e[0]! >= 2, `member 1's, then member 2's client were evicted and refused (${e.join(',')})`);
  assert.deepEqual(e, [e[0], e[0], e[0]], 'refused on every replica alike');
  assert.equal(members[0]!.replica.snapshot().clients, 1);
  assert.equal((await members[1]!.read('chain'))?.value, 'a,b,c,d');
});
