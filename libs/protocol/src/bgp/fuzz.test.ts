// Bounded fuzzing in the unit suite: 25,000 random and mutated messages (a second or two). The long
// run is `node --import tsx libs/protocol/scripts/fuzz-bgp.ts` (1,000,000 by default).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { runFuzz } from './testing/fuzz.js';

const SEED = Number(process.env.BGP_FUZZ_SEED ?? 20261122);

test(`25,000 random and mutated messages: only typed errors, every one a defined NOTIFICATION (seed ${SEED})`, () => {
  const stats = runFuzz({ iterations: 25_000, seed: SEED });
  assert.equal(stats.failureCount, 0, `failures (replay with BGP_FUZZ_SEED=${SEED}):\n${stats.failures.map((f) => `${f.problem}\n  context ${f.context} input ${f.input}`).join('\n')}`);
  assert.equal(stats.iterations, 25_000);
  assert.equal(stats.random + stats.mutated, 25_000);
  // The inputs reach every outcome, not only the first checks.
  assert.ok(stats.ok > 1000 && stats.okWithDiscards > 100 && stats.treatAsWithdraw > 100, JSON.stringify(stats));
  for (const key of ['1/1', '1/2', '1/3', '2/0', '2/1', '2/4', '2/6', '3/1', '3/2', '3/4', '3/9', '3/10']) {
    assert.ok((stats.notifications[key] ?? 0) > 0, `no ${key} in ${JSON.stringify(stats.notifications)}`);
  }
  for (const key of ['3/3 treat-as-withdraw', '3/5 treat-as-withdraw', '3/11 treat-as-withdraw', '3/5 attribute-discard', '3/1 attribute-discard']) {
    assert.ok((stats.updateFaults[key] ?? 0) > 0, `no ${key} in ${JSON.stringify(stats.updateFaults)}`);
  }
  assert.ok(stats.framerChecks > 1000);
});
