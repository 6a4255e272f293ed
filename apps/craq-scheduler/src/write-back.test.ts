// The write-back queue on its own: coalescing per key, a failed write kept and retried, the
// pressure bound, flushKey. The target is in memory here; the daemon test writes to a real etcd.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { silentLogger } from '@netaccel/errors';
import type { CommittedValue } from '@netaccel/craq';
import { WriteBack } from './write-back.js';

const commit = (keyId: bigint, version: bigint, value: string | null): CommittedValue => ({ keyId, keyCheck: 1, version, value: value === null ? null : Buffer.from(value) });

function setup(maxPending = 10) {
  const store = new Map<bigint, { version: bigint; value: string | null }>();
  const pressure: boolean[] = [];
  let failing = false;
  let revision = 100n;
  const wb = new WriteBack(
    {
      write: async (c) => {
        await new Promise((r) => setImmediate(r));
        if (failing) throw new Error('etcd down');
        store.set(c.keyId, { version: c.version, value: c.value === null ? null : Buffer.from(c.value).toString() });
        return ++revision;
      },
      written: () => undefined,
      known: (id) => id < 100n,
    },
    { flushIntervalMs: 1000, maxPending, log: silentLogger, onPressure: (on) => pressure.push(on) },
  );
  return { wb, store, pressure, fail: (f: boolean) => (failing = f) };
}

test('commits are coalesced per key: the latest version reaches the store; unknown keys are dropped', async () => {
  const { wb, store } = setup();
  wb.commit(commit(1n, 1n, 'a'));
  wb.commit(commit(1n, 3n, 'c'));
  wb.commit(commit(1n, 2n, 'b')); // older than what is queued: ignored
  wb.commit(commit(2n, 1n, null));
  wb.commit(commit(500n, 1n, 'x'));
  assert.equal(wb.pending, 2);
  await wb.flush();
  assert.deepEqual([...store], [[1n, { version: 3n, value: 'c' }], [2n, { version: 1n, value: null }]]);
  assert.deepEqual({ ...wb.stats }, { written: 2, failed: 0, unknown: 1, coalesced: 1 });
  assert.equal(wb.pending, 0);
});

test('a failed write stays queued and goes at the next flush; flushKey writes one key now', async () => {
  const { wb, store, fail } = setup();
  fail(true);
  wb.commit(commit(1n, 1n, 'a'));
  await wb.flush();
  assert.equal(wb.pending, 1);
  assert.equal(wb.stats.failed, 1);
  await assert.rejects(wb.flushKey(1n), /etcd down/);
  fail(false);
  wb.commit(commit(1n, 2n, 'b'));
  await wb.flushKey(1n);
  assert.deepEqual(store.get(1n), { version: 2n, value: 'b' });
  assert.equal(wb.pending, 0);
});

test('over maxPending keys the head is held (pressure on) until the queue is back under half', async () => {
  const { wb, pressure, fail } = setup(2);
  fail(true);
  for (const id of [1n, 2n, 3n]) wb.commit(commit(id, 1n, 'v'));
  assert.deepEqual(pressure, [true]);
  assert.equal(wb.pressure, true);
  await wb.flush();
  assert.deepEqual(pressure, [true], 'still behind');
  fail(false);
  await wb.flush();
  assert.deepEqual(pressure, [true, false]);
  assert.equal(wb.pressure, false);
});
