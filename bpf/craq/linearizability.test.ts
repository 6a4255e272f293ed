/**
 * Unit: the reference model is linearizable per key. Three model nodes and three clients; a
 * random schedule (fast-check) interleaves clients' operations (reads at any node, writes and
 * deletes at any node) with the delivery of in-flight frames in any order, and loses some;
 * the history of completed operations must be linearizable (linearizability.ts), in CRAQ and
 * in NetChain mode. The checker itself is tested on known histories first.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { INIT, actionArb, modelChain, simulate } from './chain-sim.js';
import { isLinearizable } from './linearizability.js';
import type { RegisterOp } from './linearizability.js';

test('the checker accepts and refuses the textbook histories', () => {
  const w = (value: string, invoke: number, response?: number): RegisterOp => ({ kind: 'write', value, invoke, ...(response !== undefined ? { response } : {}) });
  const r = (value: string | undefined, invoke: number, response: number): RegisterOp => ({ kind: 'read', value, invoke, response });
  assert.equal(isLinearizable([w('a', 0, 1), r('a', 2, 3)], undefined), true);
  assert.equal(isLinearizable([w('a', 0, 1), r(undefined, 2, 3)], undefined), false, 'a stale read after the write completed');
  assert.equal(isLinearizable([w('a', 0, 5), r('a', 1, 2), r(undefined, 3, 4)], undefined), false, 'new then old');
  assert.equal(isLinearizable([w('a', 0, 5), r(undefined, 1, 2), r('a', 3, 4)], undefined), true, 'concurrent write seen late');
  assert.equal(isLinearizable([w('a', 0), r('a', 3, 4)], undefined), true, 'a pending write may take effect');
  assert.equal(isLinearizable([w('a', 0), r('a', 1, 2), r(undefined, 3, 4)], undefined), false);
});

for (const netchain of [false, true]) {
  test(`property: histories of the model chain are linearizable (${netchain ? 'NetChain' : 'CRAQ'} mode, reordering and loss)`, () => {
    let total = 0;
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 10, maxLength: 60 }), (actions) => {
        const { ops, completed } = simulate(actions, modelChain(netchain));
        total += completed;
        if (ops.length > 30) return;
        assert.ok(isLinearizable(ops, INIT), JSON.stringify(ops));
      }),
      { numRuns: 300 },
    );
    assert.ok(total > 300, `the schedules completed operations (${total})`);
  });
}
