import { test } from 'vitest';
import assert from 'node:assert/strict';
import { checkHistory } from '@netaccel/linearizability';
import type { RegisterOp } from '@netaccel/linearizability';
import { counterDeltas, counterFaults, perSecond, phaseFigures, quantile, runFaults } from './figures.js';

const op = (invoke: number, complete: number | null): RegisterOp => ({ kind: 'read', key: 'k', invoke, complete, output: null });

test('quantile: nearest rank, 0 for none', () => {
  assert.equal(quantile([], 0.99), 0);
  assert.equal(quantile([5, 1, 3], 0.5), 3);
  assert.equal(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99), 99);
});

test('perSecond and phaseFigures count completions in their interval, latency = complete - invoke', () => {
  const h = [op(0, 10), op(10, 30), op(900, 1100), op(1500, 1600), op(1700, null)];
  assert.deepEqual(perSecond(h, 0, 2000), [
    { atMs: 1000, opsPerSec: 2, p99Ms: 20 },
    { atMs: 2000, opsPerSec: 2, p99Ms: 200 },
  ]);
  const [a, b] = phaseFigures(h, [{ name: 'a', from: 0, to: 1000 }, { name: 'b', from: 1000, to: 2000 }], 0);
  assert.deepEqual([a!.ops, a!.opsPerSec, a!.p50Ms, a!.unknown], [2, 2, 10, 0]);
  assert.deepEqual([b!.ops, b!.p99Ms, b!.unknown], [2, 200, 1]);
});

test('counterDeltas sums over the later sample\'s replicas; a replica new in it starts from zero', () => {
  const s = (at: number, m: [number, Record<string, number>][]) => ({ at, stats: new Map(m) });
  const samples = [s(0, [[0, { FAST_ACKS: 5 }], [1, { FAST_ACKS: 7 }]]), s(1, [[1, { FAST_ACKS: 9, QUORUMS: 2 }], [2, { FAST_ACKS: 3 }]])];
  const [c] = counterDeltas(samples, [{ name: 'p', offloads: 7 }]);
  assert.equal(c!.fastAck.acks, 2 + 3);
  assert.equal(c!.quorum.quorums, 2);
  const bits = { broadcast: 1, fastAck: 2, quorum: 4 };
  assert.deepEqual(counterFaults(c!, bits), ['p: the broadcast was on and its counters did not move']);
  assert.deepEqual(counterFaults({ ...c!, offloads: 0 }, bits), ['p: the fast acknowledgement was off and its counters moved by 5', 'p: the quorum wait was off and its counters moved by 2']);
});

test('runFaults: an acknowledged write that a later read misses fails the run, as do counters against the switches', () => {
  const bits = { broadcast: 1, fastAck: 2, quorum: 4 };
  const quiet = { phase: 'off', offloads: 0, broadcast: { prepares: 0, clones: 0, errors: 0 }, fastAck: { acks: 0 }, quorum: { quorums: 0, filtered: 0 }, passed: 9 };
  const kept: RegisterOp[] = [
    { kind: 'write', key: 'k', value: 'a', invoke: 0, complete: 5 },
    { kind: 'read', key: 'k', output: 'a', invoke: 10, complete: 12 },
  ];
  assert.deepEqual(runFaults(checkHistory(kept), [quiet], bits), []);
  const lost: RegisterOp[] = [kept[0]!, { kind: 'read', key: 'k', output: null, invoke: 10, complete: 12 }];
  const faults = runFaults(checkHistory(lost), [{ ...quiet, fastAck: { acks: 3 } }], bits);
  assert.equal(faults.length, 2);
  assert.match(faults[0]!, /^the clients' history is not linearizable \(not-linearizable\):\n/);
  assert.match(faults[1]!, /off: the fast acknowledgement was off and its counters moved by 3/);
});
