/**
 * The leader's lease: its arithmetic step by step (first sends, acknowledgements, the new
 * leader's wait, a view change), then three ReplicatedConfig members over real UDP on 127.0.0.1
 * whose leader is cut off from the others (FaultyTransport blocks both ways): its lease runs out
 * before another member's begins, never two at once, and reads it answered locally go through
 * the group once it has none.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { ReplicatedConfig } from './config-store.js';
import { FaultyTransport } from './faults.js';
import { LeaderLease } from './lease.js';
import { resolveReplicaOptions } from './options.js';
import { ConfigStateMachine } from './config-machine.js';
import { udpTransport } from './transport.js';

test('lease steps: none before the predecessor\'s ran out, renewed by a quorum\'s acks of first sends, lost at a new view', () => {
  const l = new LeaderLease(3, 1, 0, 100, 0.1);
  assert.deepEqual(l.state(0, true, 0), { held: false, remainingMs: 0 }, 'a new leader waits');
  l.sent(0, 1n, 50);
  l.acked(0, 1, 1n, 60);
  assert.equal(l.state(0, true, 109).held, false, 'still within leaseMs x (1 + drift) of becoming leader');
  assert.deepEqual(l.state(0, true, 111), { held: true, remainingMs: 39 }, 'op 1 first sent at 50: lease to 150');
  assert.equal(l.state(0, false, 111).held, false, 'only while it leads');
  l.sent(0, 2n, 120);
  l.sent(0, 2n, 140); // a re-send: the first send counts
  l.acked(0, 2, 2n, 145);
  assert.deepEqual(l.state(0, true, 146), { held: true, remainingMs: 74 }, 'lease to 220');
  assert.equal(l.state(0, true, 220).held, false, 'run out without newer acks');
  l.acked(0, 1, 9n, 221); // an op never sent in this view proves nothing
  assert.equal(l.state(0, true, 221).held, false);
  // view 3: everything starts again, the wait included
  l.sent(3, 10n, 300);
  l.acked(3, 1, 10n, 301);
  assert.equal(l.state(3, true, 330).held, false);
  assert.equal(l.state(3, true, 411).held, false, 'op 10 (300) + 100 < 411');
  l.sent(3, 11n, 405);
  l.acked(3, 2, 11n, 406);
  assert.equal(l.state(3, true, 411).held, true);
  // a single replica holds it after its wait
  const one = new LeaderLease(1, 0, 0, 100, 0);
  assert.equal(one.state(0, true, 0).held, false);
  assert.equal(one.state(0, true, 100).held, true);
  // options
  const base = { replicas: [{ address: '127.0.0.1', port: 1 }], self: 0, stateMachine: new ConfigStateMachine() };
  assert.deepEqual([resolveReplicaOptions(base).leaseMs, resolveReplicaOptions(base).clockDrift], [400, 0.1]);
  assert.throws(() => resolveReplicaOptions({ ...base, clockDrift: 2 }), { code: 'NA_ERR_PAXOS_INVALID_OPTIONS', message: /clockDrift: expected a number 0\.\.1, got 2/ });
  assert.throws(() => resolveReplicaOptions({ ...base, leaseMs: 0 }), /leaseMs: expected an integer 1\.\.600000, got 0/);
});

test('lease steps: first sends kept for the last 4096 ops; an ack of an op forgotten, or of an op never sent, renews nothing', () => {
  // 5 replicas, f = 2: the lease follows the second most recent follower evidence
  const lease = (last: bigint): LeaderLease => {
    const l = new LeaderLease(5, 2, 0, 100, 0);
    assert.equal(l.state(0, true, 0).held, false); // leading view 0 from time 0: no lease before 100
    l.sent(0, 1n, 110);
    for (let op = 2n; op <= last; op++) l.sent(0, op, op === 4097n ? 140 : 120);
    return l;
  };
  const kept = lease(4096n);
  kept.acked(0, 1, 1n, 130);
  kept.acked(0, 2, 1n, 131);
  assert.deepEqual(kept.state(0, true, 150), { held: true, remainingMs: 60 }, 'op 1 (first sent at 110) kept after 4095 more');

  const gone = lease(4097n); // op 4097 takes op 1's place
  gone.acked(0, 1, 2n, 130);
  gone.acked(0, 2, 1n, 131);
  assert.equal(gone.state(0, true, 150).held, false, 'the ack of op 1 renews nothing');
  gone.acked(0, 3, 4097n + 4096n, 132); // never sent (its slot holds 4097)
  assert.equal(gone.state(0, true, 150).held, false);
  gone.acked(0, 3, 4097n, 141);
  assert.deepEqual(gone.state(0, true, 150), { held: true, remainingMs: 70 }, 'ops 2 (120) and 4097 (140): lease to 220');
});

test('three members: the leader cut off loses its lease before another member gains one; never two at once', async (t) => {
  const sockets = await Promise.all([0, 1, 2].map(() => udpTransport({ address: '127.0.0.1', port: 0 })));
  const faulty = sockets.map((s, i) => new FaultyTransport(s, { seed: i + 1 }));
  const replicas = sockets.map((s) => s.local);
  const timing = { heartbeatMs: 20, viewChangeTimeoutMs: 250, retransmitMs: 30, leaseMs: 200, clockDrift: 0.1 };
  const members = await Promise.all(faulty.map((transport, self) => ReplicatedConfig.start({ replicas, self, transport, replica: timing, timeoutMs: 3000, retryMs: 40 })));
  t.onTestFinished(async () => {
    for (const m of members) await m.close();
  });
  const holders = (): number[] => members.flatMap((m, i) => (m.leaseHeld() ? [i] : []));
  const until = async (what: string, pred: () => boolean): Promise<void> => {
    for (let i = 0; i < 600 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(pred(), what);
  };

  await members[0]!.update('k', () => 'v1');
  await until('the leader holds the lease (renewed while the group is idle)', () => holders().length === 1);
  const old = holders()[0]!;
  assert.equal(members[old]!.replica.snapshot().isLeader, true);
  await new Promise((r) => setTimeout(r, 3 * timing.leaseMs)); // idle: the renewals keep it
  assert.deepEqual(holders(), [old]);
  assert.deepEqual(await members[old]!.leaseRead('k'), { version: 1, value: 'v1' }, 'answered from its copy');

  // cut the leader off both ways; sample the holders until another member holds the lease
  for (let i = 0; i < 3; i++) {
    if (i === old) continue;
    faulty[old]!.block(replicas[i]!);
    faulty[i]!.block(replicas[old]!);
  }
  let oldLast = performance.now();
  let newFirst = Infinity;
  let newHolder = -1;
  for (let i = 0; i < 2000 && newHolder < 0; i++) {
    const h = holders();
    assert.ok(h.length <= 1, `two members hold the lease at once: ${h.join(', ')}`);
    const now = performance.now();
    if (h[0] === old) oldLast = now;
    else if (h[0] !== undefined) {
      newHolder = h[0];
      newFirst = now;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(newHolder >= 0 && newHolder !== old, 'another member took over');
  assert.ok(oldLast < newFirst, 'the old lease ended before the new one began');
  assert.equal(members[old]!.leaseHeld(), false);
  assert.equal(members[old]!.replica.snapshot().isLeader, true, 'it still believes it leads its view: only the lease stops it');

  // a change through the new leader; the old one's read goes through the group and sees it
  await members[newHolder]!.update('k', () => 'v2');
  assert.deepEqual(await members[old]!.leaseRead('k'), { version: 2, value: 'v2' }, 'no stale local answer');
  assert.deepEqual(holders(), [newHolder]);
});
