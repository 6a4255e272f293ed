/**
 * BPF layer: the linearizability property on the XDP program itself. Three instances of
 * craq.bpf.o (one per node, their maps apart) handle the frames of random schedules through
 * BPF_PROG_TEST_RUN, in lockstep with the model: every frame's verdict and output must equal
 * the model's, and the clients' history must be linearizable.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { INIT, actionArb, modelChain, simulate } from './chain-sim.js';
import type { NodeStep } from './chain-sim.js';
import { CraqNodeObject } from './craq-harness.js';
import { KEY, chainConfig, worldKeys } from './fixtures.js';
import { isLinearizable } from './linearizability.js';

let nodes: CraqNodeObject[] = [];
beforeAll(() => {
  nodes = [0, 1, 2].map(() => CraqNodeObject.load());
});
afterAll(() => {
  for (const n of nodes) n.close();
});

function programChain(netchain: boolean): NodeStep {
  for (const [i, role] of (['head', 'middle', 'tail'] as const).entries()) {
    nodes[i]!.setConfig(chainConfig(role, { netchain }));
    for (const [id, k] of worldKeys()) nodes[i]!.putKey(id, k);
    nodes[i]!.clearRequests();
  }
  const model = modelChain(netchain);
  return (i, f) => {
    const want = model(i, f);
    const got = nodes[i]!.run(f);
    assert.equal(got.verdict, want.verdict, `node ${i} verdict`);
    assert.equal(Buffer.from(got.data).toString('hex'), Buffer.from(want.frame).toString('hex'), `node ${i} output`);
    return { verdict: got.verdict, frame: got.data };
  };
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
