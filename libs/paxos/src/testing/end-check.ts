/**
 * The end of a cluster test: every key read once more (recorded), the group converged, the
 * recorded history linearizable, no replica step threw, and every running replica holding the
 * same store.
 */
import assert from 'node:assert/strict';
import { checkHistory } from '@netaccel/linearizability';
import type { HistoryRecorder } from '@netaccel/linearizability';
import type { TestCluster } from './cluster.js';

export async function checkClusterEnd(c: TestCluster, rec: HistoryRecorder, keys: readonly string[], convergeMs = 10_000): Promise<void> {
  const reader = await c.client({ timeoutMs: 8000 });
  for (const key of keys) {
    const p = rec.begin({ kind: 'read', key });
    rec.ok(p, await reader.get(key));
  }
  await c.waitFor('the group to converge', () => c.converged(), convergeMs);
  const result = checkHistory(rec.history());
  assert.equal(result.outcome, 'linearizable', result.counterexample?.explanation);
  assert.deepEqual(c.failures, [], 'no replica step threw');
  const stores = c.members.filter((m) => m !== null).map((m) => JSON.stringify(m.kv.entries()));
  assert.equal(new Set(stores).size, 1, `every running replica holds the same store:\n${stores.join('\n')}`);
}
