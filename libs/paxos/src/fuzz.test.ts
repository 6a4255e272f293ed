// Hostile input: 20,000 random and mutated datagrams (every message type, from replicas' and
// strangers' addresses) thrown at a follower and a leader. Nothing throws, the bad ones are
// counted, and the replica still does its job afterwards.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Logger } from '@netaccel/errors';
import { paxos } from '@netaccel/protocol';
import { encodeKvOp } from './kv.js';
import { PEERS, body, put, single } from './testing/steps-harness.js';

const { PaxosType } = paxos;
const SEED = Number(process.env.PAXOS_FUZZ_SEED ?? 20261207);

function samples(): Buffer[] {
  const r = (n: number): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max: BigInt(n) });
  const valid: fc.Arbitrary<paxos.PaxosMessage> = fc.oneof(
    fc.record({ type: fc.constant(PaxosType.Prepare), sender: fc.integer({ min: 0, max: 2 }), view: fc.integer({ min: 0, max: 3 }), op: r(6).map((x) => x + 1n), commit: fc.constant(0n), requests: fc.constant([put('k', 'v', 1n)]) }),
    fc.record({ type: fc.constant(PaxosType.Commit), sender: fc.integer({ min: 0, max: 2 }), view: fc.integer({ min: 0, max: 3 }), commit: r(6) }),
    fc.record({ type: fc.constant(PaxosType.PrepareOk), sender: fc.integer({ min: 0, max: 2 }), view: fc.integer({ min: 0, max: 3 }), op: r(6).map((x) => x + 1n), flags: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ type: fc.constant(PaxosType.StartViewChange), sender: fc.integer({ min: 0, max: 2 }), view: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ type: fc.constant(PaxosType.DoViewChange), sender: fc.integer({ min: 0, max: 2 }), view: fc.integer({ min: 1, max: 3 }), op: r(6), commit: fc.constant(0n), lastNormalView: fc.constant(0) }),
    fc.record({ type: fc.constant(PaxosType.StartView), sender: fc.integer({ min: 0, max: 2 }), view: fc.integer({ min: 1, max: 3 }), op: r(6), commit: fc.constant(0n) }),
    fc.record({ type: fc.constant(PaxosType.GetState), sender: fc.integer({ min: 0, max: 2 }), view: fc.integer({ min: 0, max: 3 }), op: r(6) }),
    fc.record({ type: fc.constant(PaxosType.NewState), sender: fc.integer({ min: 0, max: 2 }), view: fc.integer({ min: 0, max: 3 }), op: fc.constant(3n), commit: fc.constant(1n), entries: fc.constant([{ op: 1n, view: 0, body: body([put('a', 'b', 1n)]) }]) }),
    fc.record({ type: fc.constant(PaxosType.Recovery), sender: fc.integer({ min: 0, max: 2 }), nonce: r(1000) }),
    fc.record({ type: fc.constant(PaxosType.RecoveryResponse), sender: fc.integer({ min: 0, max: 2 }), view: fc.integer({ min: 0, max: 3 }), op: r(6), commit: fc.constant(0n), nonce: r(1000) }),
    fc.record({ type: fc.constant(PaxosType.Request), view: fc.constant(0), clientId: r(5), requestId: r(5), payload: fc.constant(encodeKvOp({ kind: 'get', key: 'k' })) }),
  ) as fc.Arbitrary<paxos.PaxosMessage>;
  const datagram = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    valid.map((m) => paxos.encodePaxos(m)),
    fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 })).map(([m, flips]) => {
      const b = Buffer.from(paxos.encodePaxos(m));
      for (const [at, v] of flips) b[at % b.length] = v;
      return b;
    }),
  );
  return fc.sample(datagram, { seed: SEED, numRuns: 10_000 });
}

for (const self of [0, 1]) {
  test(`replica ${self} (${self === 0 ? 'leader' : 'follower'}): 10,000 hostile datagrams, no throw, still working (seed ${SEED})`, async (t) => {
    const failures: unknown[] = [];
    const noop = (): void => undefined;
    const logger: Logger = { trace: noop, debug: noop, info: noop, warn: noop, fatal: noop, error: (obj) => void failures.push(obj), child: () => logger, isLevelEnabled: () => true };
    const { replica, transport, from, sent } = await single(self, t, { logger });
    const froms = [PEERS[0]!, PEERS[1]!, PEERS[2]!, { address: '127.0.0.1', port: 4444 }];
    let i = 0;
    for (const d of samples()) {
      transport.deliver(d, froms[i++ % froms.length]!);
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(failures, [], 'no step of the replica threw');
    const c = replica.counters();
    assert.ok(c.messages_malformed > 1000 && c.messages_forged > 1000, JSON.stringify(c));
    // Whatever state the noise left, the replica answers a RECOVERY when normal, or keeps status.
    const s = replica.snapshot();
    assert.ok(['normal', 'view-change'].includes(s.status));
    sent();
    await from(2, { type: PaxosType.Recovery, sender: 2, nonce: 99n });
    const answers = sent().filter((x) => x.m.type === PaxosType.RecoveryResponse);
    assert.equal(answers.length, replica.snapshot().status === 'normal' ? 1 : 0);
  });
}
