/**
 * BPF layer: at-most-once WRITE/DELETE on three XDP nodes (one craq.bpf.o each) in lockstep with
 * the reference model (retry-scenario.ts, the CI failure of the CRAQ lab): every frame's verdict
 * and output, and every key entry (with its request ring) the scenario reads or writes, equal
 * the model's; a write whose version a repair committed, retried after two newer writes, is
 * answered OK with its original version and changes nothing — at the same head, and at a new
 * head that knows the request only from the repair's copy. NetChain mode: a retry is re-sent
 * down the chain as its version and answered by the tail, committed once.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { craq } from '@netaccel/protocol';
import { CraqNodeObject } from './craq-harness.js';
import { CRAQ_REQ_RING } from './codec.js';
import { KEY } from './fixtures.js';
import { LockstepNode } from './lockstep.js';
import { R_ID, deliver, retryAfterRepair, writeFrame } from './retry-scenario.js';

let programs: CraqNodeObject[] = [];
beforeAll(() => {
  programs = [0, 1, 2].map(() => CraqNodeObject.load());
});
afterAll(() => {
  for (const p of programs) p.close();
});

const chain = (): LockstepNode[] => (['head', 'middle', 'tail'] as const).map((r, i) => new LockstepNode(i, programs[i]!, r));

for (const variant of ['same-head', 'new-head'] as const) {
  test(`XDP (${variant}): R's PROPAGATE lost, a repair commits R, two writes commit, R's retry is answered OK with R's version and applies nothing`, () => {
    const nodes = chain();
    const o = retryAfterRepair(nodes, variant);
    assert.equal(o.original, 6n);
    assert.deepEqual(o.writes.map((w) => [w?.status, w?.version]), [[craq.CraqStatus.OK, 7n], [craq.CraqStatus.OK, 8n]]);
    assert.deepEqual([o.retry?.op, o.retry?.status, o.retry?.version, o.retry?.reqId], [craq.CraqOp.WRITE_REPLY, craq.CraqStatus.OK, 6n, R_ID]);
    assert.deepEqual(o.after, o.before, 'no new version, the value unchanged');
    const head = variant === 'same-head' ? 0 : 1;
    assert.equal(programs[head]!.stats().get('DUPLICATE'), 1n, 'counted as a duplicate');
    assert.equal(programs[head]!.key(KEY.keyId)?.lastVersion, 8n);
  });
}

test('XDP (new-head) without the repair copying requests: the new head applies the retry again, as before the fix', () => {
  const o = retryAfterRepair(chain(), 'new-head', false);
  assert.deepEqual([o.retry?.status, o.retry?.version], [craq.CraqStatus.OK, 9n]);
});

test(`XDP (a chain of one): the window is the key's last ${CRAQ_REQ_RING} versions — a retry is answered until ${CRAQ_REQ_RING} newer writes of its key, then applied as new`, () => {
  const node = new LockstepNode(0, programs[0]!, 'single');
  const drain = programs[0]!.commitReader();
  try {
    const write = (reqId: bigint): craq.CraqMessage | undefined => deliver([node], 0, writeFrame(0, reqId, 'v'));
    const first = write(R_ID);
    assert.equal(first?.version, 6n);
    for (let i = 1n; i < BigInt(CRAQ_REQ_RING); i++) {
      assert.equal(write(R_ID + i)?.version, 6n + i);
      drain.drain();
    }
    const retry = write(R_ID);
    assert.deepEqual([retry?.status, retry?.version], [craq.CraqStatus.OK, 6n], `recognised after ${CRAQ_REQ_RING - 1} newer writes`);
    assert.equal(write(R_ID + BigInt(CRAQ_REQ_RING))?.version, 6n + BigInt(CRAQ_REQ_RING), 'its record replaced');
    assert.equal(write(R_ID)?.version, 7n + BigInt(CRAQ_REQ_RING), 'beyond the window: applied again');
    node.key(KEY.keyId);
  } finally {
    drain.close();
  }
});

test('XDP (NetChain): a retry after the PROPAGATE to the tail was lost is re-sent and committed once; retried again, the tail answers its version; with its slot reused at the head, RETRY', () => {
  const nodes = (['head', 'middle', 'tail'] as const).map((r, i) => new LockstepNode(i, programs[i]!, r, { netchain: true }));
  const drain = programs[2]!.commitReader();
  const { CraqOp, CraqStatus } = craq;
  try {
    drain.drain(); // the earlier tests' commits
    const dup0 = programs[0]!.stats().get('DUPLICATE') ?? 0n;
    const write = (reqId: bigint, lose?: (hop: number) => boolean): craq.CraqMessage | undefined => deliver(nodes, 0, writeFrame(0, reqId, `v${reqId}`), lose);
    assert.equal(write(R_ID, (hop) => hop === 1), undefined, 'the middle\'s PROPAGATE to the tail lost: no reply');
    assert.deepEqual([nodes[0]!.key(KEY.keyId)?.cleanVersion, nodes[1]!.key(KEY.keyId)?.cleanVersion, nodes[2]!.key(KEY.keyId)?.cleanVersion], [6n, 6n, 5n]);
    const retry = write(R_ID);
    assert.deepEqual([retry?.op, retry?.status, retry?.version, retry?.reqId], [CraqOp.WRITE_REPLY, CraqStatus.OK, 6n, R_ID], 're-sent: the tail commits it and answers');
    assert.deepEqual(drain.drain().map((c) => c.version), [6n]);
    const again = write(R_ID);
    assert.deepEqual([again?.status, again?.version], [CraqStatus.OK, 6n], 'retried again: the tail answers its version');
    assert.deepEqual(drain.drain(), [], 'not committed twice');
    for (let i = 1n; i <= 5n; i++) assert.equal(write(R_ID + i)?.version, 6n + i);
    assert.equal(drain.drain().length, 5);
    const late = write(R_ID);
    assert.deepEqual([late?.status, late?.version], [CraqStatus.RETRY, 0n], 'its slot reused by 5 newer versions: RETRY, nothing re-sent');
    for (const n of nodes) assert.equal(n.key(KEY.keyId)?.cleanVersion, 11n);
    assert.equal((programs[0]!.stats().get('DUPLICATE') ?? 0n) - dup0, 3n);
  } finally {
    drain.close();
  }
});
