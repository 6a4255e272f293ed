/**
 * Unit: the reference model as a protocol. Three model nodes wired into a chain deliver frames
 * to each other by destination address; a write is committed at the tail, acknowledged up the
 * chain and answered by the head (NetChain mode: answered by the tail, no ACK); reads at every
 * node see only committed versions.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { craq } from '@netaccel/protocol';
import { CLIENT, KEY, NODES, VALUE, chainConfig, frame, worldKeys } from './fixtures.js';
import { l4Offset } from './frame.js';
import { craqStep } from './model.js';
import { ModelNode, R_ID, retryAfterRepair } from './retry-scenario.js';
import type { CraqNodeState } from './model.js';
import type { CraqCommit } from './codec.js';

const { CraqOp, CraqStatus, CraqFlag } = craq;

class Chain {
  nodes: CraqNodeState[];
  commits: CraqCommit[] = [];
  constructor(netchain = false) {
    this.nodes = (['head', 'middle', 'tail'] as const).map((r) => ({ config: chainConfig(r, { netchain }), keys: worldKeys() }));
  }
  /** Delivers `f` to node i and every frame it causes, until one leaves for the client. */
  send(i: number, f: Uint8Array, hops: string[] = [], stopAt?: (hop: number) => boolean): craq.CraqMessage | undefined {
    for (let hop = 0; hop < 10; hop++) {
      if (stopAt?.(hop)) return undefined;
      const step = craqStep(this.nodes[i]!, f);
      this.nodes[i] = step.state;
      this.commits.push(...step.commits);
      hops.push(`${i}:${step.stat ?? step.reason}`);
      if (step.verdict !== 'XDP_TX') return undefined;
      const dst = step.frame.subarray(30, 34).join('.');
      const next = NODES.findIndex((n) => n.ip4 === dst);
      if (next < 0) return craq.decodeCraq(step.frame.subarray(l4Offset(4) + 8));
      i = next;
      f = step.frame;
    }
    throw new Error('loop');
  }
}

const client = { mac: CLIENT.mac, ip: CLIENT.ip4, port: CLIENT.port };
const to = (i: number): { mac: string; ip: string; port: number } => ({ mac: NODES[i]!.mac, ip: NODES[i]!.ip4, port: NODES[i]!.port });
const req = (i: number, m: craq.CraqMessage): Uint8Array => frame(4, client, to(i), craq.encodeCraq(m));
const read = (reqId: bigint): craq.CraqMessage => ({ ...craq.craqReadRequest({ key: 'x', reqId }), keyId: KEY.keyId, keyCheck: KEY.keyCheck });

test('a write goes head → middle → tail, commits once, and the head answers with the new version', () => {
  const c = new Chain();
  const hops: string[] = [];
  const w = { ...craq.craqWriteRequest({ key: 'x', reqId: 9n, value: VALUE }), keyId: KEY.keyId, keyCheck: KEY.keyCheck };
  const reply = c.send(0, req(0, w), hops);
  assert.deepEqual(hops, ['0:WRITE', '1:PROPAGATE', '2:COMMIT', '1:ACK', '0:WRITE_REPLY']);
  assert.equal(reply?.op, CraqOp.WRITE_REPLY);
  assert.equal(reply?.status, CraqStatus.OK);
  assert.equal(reply?.version, 6n);
  assert.equal(reply?.reqId, 9n);
  assert.deepEqual(c.commits.map((x) => x.version), [6n]);
  for (const n of c.nodes) assert.equal(n.keys.get(KEY.keyId)?.cleanVersion, 6n);
  for (const i of [0, 1, 2]) {
    const r = c.send(i, req(i, read(1n)));
    assert.deepEqual([r?.status, r?.version, Buffer.from(r?.value ?? []).toString()], [CraqStatus.OK, 6n, Buffer.from(VALUE).toString()]);
  }
});

test('while a write is in flight, a read at the head asks the tail and gets the committed version', () => {
  const c = new Chain();
  const w = { ...craq.craqWriteRequest({ key: 'x', reqId: 9n, value: Uint8Array.of(1) }), keyId: KEY.keyId, keyCheck: KEY.keyCheck };
  c.send(0, req(0, w), [], (hop) => hop === 2); // stopped before the tail: dirty at head and middle
  const hops: string[] = [];
  const r = c.send(0, req(0, read(2n)), hops);
  assert.deepEqual(hops, ['0:READ_QUERY', '2:VQUERY', '0:READ_VREPLY']);
  assert.equal(r?.version, 5n);
  assert.equal(r?.flags, CraqFlag.FROM_TAIL);
  assert.equal(Buffer.from(r?.value ?? []).toString(), Buffer.from(VALUE).toString());
});

test('NetChain: a read at the head travels to the tail, which answers the client', () => {
  const c = new Chain(true);
  const hops: string[] = [];
  const r = c.send(0, req(0, read(3n)), hops);
  assert.deepEqual(hops, ['0:READ_FORWARD', '1:READ_FORWARD', '2:READ_CLEAN']);
  assert.equal(r?.status, CraqStatus.OK);
  assert.equal(r?.flags, CraqFlag.FROM_TAIL);
});

test('NetChain: a write goes head → middle → tail, which commits it and answers the client (no ACK back up the chain)', () => {
  const c = new Chain(true);
  const hops: string[] = [];
  const w = { ...craq.craqWriteRequest({ key: 'x', reqId: 9n, value: VALUE }), keyId: KEY.keyId, keyCheck: KEY.keyCheck };
  const reply = c.send(0, req(0, w), hops);
  assert.deepEqual(hops, ['0:WRITE', '1:PROPAGATE', '2:COMMIT']);
  assert.deepEqual([reply?.op, reply?.status, reply?.version, reply?.reqId, reply?.flags], [CraqOp.WRITE_REPLY, CraqStatus.OK, 6n, 9n, CraqFlag.FROM_TAIL]);
  assert.deepEqual(c.commits.map((x) => x.version), [6n]);
  for (const n of c.nodes) assert.deepEqual([n.keys.get(KEY.keyId)?.cleanVersion, n.keys.get(KEY.keyId)?.lastVersion], [6n, 6n], 'applied as current, nothing dirty');
  const r = c.send(0, req(0, read(1n)));
  assert.deepEqual([r?.status, r?.version], [CraqStatus.OK, 6n]);
});

test('NetChain at most once: a retry after the tail\'s reply was lost is re-sent as its version and answered OK by the tail, not applied again', () => {
  const c = new Chain(true);
  const w = { ...craq.craqWriteRequest({ key: 'x', reqId: 9n, value: VALUE }), keyId: KEY.keyId, keyCheck: KEY.keyCheck };
  c.send(0, req(0, w)); // committed as 6; say its reply was lost
  const w2 = { ...craq.craqWriteRequest({ key: 'x', reqId: 10n, value: Uint8Array.of(7) }), keyId: KEY.keyId, keyCheck: KEY.keyCheck };
  assert.equal(c.send(0, req(0, w2))?.version, 7n);
  const hops: string[] = [];
  const retry = c.send(0, req(0, w), hops);
  assert.deepEqual(hops, ['0:DUPLICATE', '1:DUPLICATE', '2:DUPLICATE']);
  assert.deepEqual([retry?.op, retry?.status, retry?.version, retry?.reqId], [CraqOp.WRITE_REPLY, CraqStatus.OK, 6n, 9n]);
  assert.deepEqual(c.commits.map((x) => x.version), [6n, 7n], 'no second commit');
  for (const n of c.nodes) assert.equal(n.keys.get(KEY.keyId)?.cleanVersion, 7n);
});

test('NetChain at most once: a retry after the PROPAGATE to the tail was lost is re-sent and commits it there once', () => {
  const c = new Chain(true);
  const w = { ...craq.craqWriteRequest({ key: 'x', reqId: 9n, value: VALUE }), keyId: KEY.keyId, keyCheck: KEY.keyCheck };
  c.send(0, req(0, w), [], (hop) => hop === 2); // applied at head and middle, lost before the tail
  assert.equal(c.nodes[2]!.keys.get(KEY.keyId)?.cleanVersion, 5n);
  const hops: string[] = [];
  const retry = c.send(0, req(0, w), hops);
  assert.deepEqual(hops, ['0:DUPLICATE', '1:DUPLICATE', '2:COMMIT']);
  assert.deepEqual([retry?.status, retry?.version], [CraqStatus.OK, 6n]);
  assert.deepEqual(c.commits.map((x) => x.version), [6n]);
  const r = c.send(2, req(2, read(3n)));
  assert.deepEqual([r?.status, r?.version, Buffer.from(r?.value ?? []).toString()], [CraqStatus.OK, 6n, Buffer.from(VALUE).toString()]);
});

test('a delete commits a tombstone: reads answer NOT_FOUND with its version', () => {
  const c = new Chain();
  const d = { ...craq.craqDeleteRequest({ key: 'x', reqId: 4n }), keyId: KEY.keyId, keyCheck: KEY.keyCheck };
  assert.equal(c.send(0, req(0, d))?.op, CraqOp.DELETE_REPLY);
  assert.equal(c.commits[0]?.tombstone, true);
  const r = c.send(1, req(1, read(5n)));
  assert.deepEqual([r?.status, r?.version], [CraqStatus.NOT_FOUND, 6n]);
});

for (const variant of ['same-head', 'new-head'] as const) {
  test(`at most once (${variant}): a write committed by a repair and retried after two newer writes is answered OK with its version, not applied again`, () => {
    const nodes = (['head', 'middle', 'tail'] as const).map((r) => new ModelNode(chainConfig(r), worldKeys()));
    const o = retryAfterRepair(nodes, variant);
    assert.equal(o.original, 6n);
    assert.deepEqual(o.writes.map((w) => [w?.status, w?.version]), [[CraqStatus.OK, 7n], [CraqStatus.OK, 8n]]);
    assert.deepEqual([o.retry?.op, o.retry?.status, o.retry?.version, o.retry?.reqId], [CraqOp.WRITE_REPLY, CraqStatus.OK, 6n, R_ID]);
    assert.deepEqual(o.after, o.before, 'no new version, the value unchanged');
    assert.equal(o.after.cleanVersion, 8n);
    assert.equal(new TextDecoder().decode(o.after.slots[Number(8n % BigInt(o.after.slots.length))]?.value), 'b-value');
  });
}

test('at most once: without the repair copying the requests, a new head applies the retry again (what failed CI)', () => {
  const nodes = (['head', 'middle', 'tail'] as const).map((r) => new ModelNode(chainConfig(r), worldKeys()));
  const o = retryAfterRepair(nodes, 'new-head', false);
  assert.deepEqual([o.retry?.status, o.retry?.version], [CraqStatus.OK, 9n], 'R applied a second time as version 9');
});
