// The leader's commit point: the f-th largest acknowledgement among the followers (fthLargest,
// which replaced a filter + sort per PREPARE_OK) against the sort it replaced, on random groups.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { seededRandom } from '@netaccel/protocol';
import { fthLargest } from './normal.js';

const bySort = (acked: readonly bigint[], self: number, f: number): bigint | undefined =>
  acked.filter((_, i) => i !== self).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))[f - 1];

test('fthLargest equals the f-th of the sorted followers, ties and the leader left out included', () => {
  const rnd = seededRandom(15);
  for (let k = 0; k < 3000; k++) {
    const n = 1 + 2 * Math.floor(rnd() * 8); // 1..15 replicas
    const acked = Array.from({ length: n }, () => BigInt(Math.floor(rnd() * 6)));
    const self = Math.floor(rnd() * n);
    for (let f = 0; f <= n; f++) assert.equal(fthLargest(acked, self, f), f === 0 ? undefined : bySort(acked, self, f), `${acked.join(',')} self ${self} f ${f}`);
  }
  assert.equal(fthLargest([9n, 4n, 7n, 7n, 1n], 0, 2), 7n);
  assert.equal(fthLargest([9n, 4n, 7n, 7n, 1n], 2, 3), 4n);
});
