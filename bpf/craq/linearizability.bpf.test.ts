/**
 * BPF layer: the linearizability property on the XDP program itself. Three instances of
 * craq.bpf.o (one per node, their maps apart) handle the frames of random schedules through
 * BPF_PROG_TEST_RUN, in lockstep with the model: every frame's verdict and output must equal
 * the model's, and the clients' history must be linearizable.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { INIT, actionArb, scenarioChain, simulate } from './chain-sim.js';
import type { NodeStep } from './chain-sim.js';
import { CraqNodeObject } from './craq-harness.js';
import { KEY } from './fixtures.js';
import { LockstepNode } from './lockstep.js';
import { isLinearizable } from './linearizability.js';

let nodes: CraqNodeObject[] = [];
beforeAll(() => {
  nodes = [0, 1, 2].map(() => CraqNodeObject.load());
});
afterAll(() => {
  for (const n of nodes) n.close();
});

/** The three programs in lockstep with the model (every frame's verdict and output compared), repairs on both. */
function programChain(netchain: boolean): NodeStep {
  return scenarioChain((['head', 'middle', 'tail'] as const).map((role, i) => new LockstepNode(i, nodes[i]!, role, { netchain, checkRequests: false })));
}

for (const netchain of [false, true]) {
  test(`property: the XDP chain's histories are linearizable and match the model frame for frame (${netchain ? 'NetChain' : 'CRAQ'})`, () => {
    let completed = 0;
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 10, maxLength: 50 }), (actions) => {
        const r = simulate(actions, programChain(netchain));
        completed += r.completed;
        if (r.ops.length > 30) return;
        assert.ok(isLinearizable(r.ops, INIT), JSON.stringify(r.ops));
      }),
      { numRuns: 100 },
    );
    assert.ok(completed > 100, `operations completed: ${completed}`);
    assert.ok(nodes[0]!.key(KEY.keyId), 'the key is still placed');
  });
}
