import assert from 'node:assert/strict';
import { test } from 'vitest';
import { CraqTransport } from '@netaccel/craq';
import type { CommittedValue } from '@netaccel/craq';
import { ReferenceNode } from '@netaccel/craq/testing';
import { craq } from '@netaccel/protocol';
import { createLogger } from '@netaccel/telemetry';
import { ChainManager } from './chain-manager.js';
import { Mutex } from './mutex.js';

const log = createLogger({ name: 'test', level: 'silent', destination: { write: () => true } });

test('middle node killed with a write dirty at the head that cannot be resent: the highest held version is committed everywhere, written back, and writes go on', async (t) => {
  const nodes: ReferenceNode[] = [];
  const transport = new CraqTransport();
  t.onTestFinished(async () => {
    await transport.close();
    for (const n of nodes) await n.close();
  });
  for (const name of ['n1', 'n2', 'n3']) nodes.push(await ReferenceNode.start({ name }));
  const [n1, n2, n3] = nodes as [ReferenceNode, ReferenceNode, ReferenceNode];
  const key = '/ncr/k';
  const { keyId, keyCheck } = craq.craqKey(key);
  const repaired: CommittedValue[] = [];
  const cm = new ChainManager({
    nodes, mutex: new Mutex(), log, probe: () => Promise.resolve(true), probeIntervalMs: 1000, probeTimeoutMs: 100, multiplier: 3, drainTimeoutMs: 300,
    placedKeyIds: () => [keyId], writable: () => true, onTail: () => undefined, onRepair: (c) => repaired.push(c),
  });
  await cm.init();
  for (const n of [n3, n2, n1]) await n.install({ keyId, keyCheck, version: 1n, value: Buffer.from('v1') }, true);

  // n2 dies with the write's PROPAGATE; n1 cannot resend it (as LoaderNode: PROPAGATE only from the predecessor's address)
  n2.paused = true;
  n1.resendDirty = () => Promise.resolve(0);
  const lostReq = craq.craqWriteRequest({ key, reqId: transport.nextRequestId(), value: Buffer.from('v2') });
  const lost = await transport.request(n1.endpoint, lostReq, 100);
  assert.equal(lost, undefined, 'the write is not answered');
  assert.equal((await n1.get(keyId))?.dirty, 1, 'dirty at the head');

  await cm.fail('n2');
  assert.deepEqual(cm.state.members.map((m) => m.name), ['n1', 'n3']);
  for (const n of [n1, n3]) {
    const s = await n.get(keyId);
    assert.deepEqual([n.name, s?.version, Buffer.from(s?.value ?? []).toString(), s?.dirty, s?.writable], [n.name, 2n, 'v2', 0, true]);
  }
  assert.deepEqual(repaired.map((c) => [c.version, Buffer.from(c.value ?? []).toString()]), [[2n, 'v2']], 'the repaired version goes to etcd');

  const ok = await transport.request(n1.endpoint, craq.craqWriteRequest({ key, reqId: transport.nextRequestId(), value: Buffer.from('v3') }), 1000);
  assert.deepEqual([ok?.status, ok?.version], [craq.CraqStatus.OK, 3n], 'writes of the key are taken again');
  const read = await transport.request(n3.endpoint, craq.craqReadRequest({ key, reqId: transport.nextRequestId() }), 1000);
  assert.equal(Buffer.from(read?.value ?? []).toString(), 'v3');

  // the lost write's client retries (the same request id): answered with the version the repair
  // committed, not applied again over v3 (the CI failure) — at the same head, then at a new one
  const retry = await transport.request(n1.endpoint, lostReq, 1000);
  assert.deepEqual([retry?.status, retry?.version], [craq.CraqStatus.OK, 2n], 'the retry is answered with its committed version');
  assert.equal(n1.duplicates, 1);
  await cm.fail('n1');
  assert.deepEqual(cm.state.members.map((m) => m.name), ['n3']);
  const atNewHead = await transport.request(n3.endpoint, lostReq, 1000);
  assert.deepEqual([atNewHead?.status, atNewHead?.version], [craq.CraqStatus.OK, 2n], 'the new head knows the request from the repair');
  for (const n of [n1, n3]) {
    const s = await n.get(keyId);
    assert.deepEqual([n.name, s?.version, Buffer.from(s?.value ?? []).toString()], [n.name, 3n, 'v3'], 'nothing applied again');
  }
});

test('nothing dirty: the repair changes nothing', async (t) => {
  const nodes: ReferenceNode[] = [];
  t.onTestFinished(async () => {
    for (const n of nodes) await n.close();
  });
  for (const name of ['a', 'b']) nodes.push(await ReferenceNode.start({ name }));
  const { keyId, keyCheck } = craq.craqKey('/ncr/clean');
  const repaired: CommittedValue[] = [];
  const cm = new ChainManager({
    nodes, mutex: new Mutex(), log, probe: () => Promise.resolve(true), probeIntervalMs: 1000, probeTimeoutMs: 100, multiplier: 3, drainTimeoutMs: 300,
    placedKeyIds: () => [keyId], writable: () => true, onTail: () => undefined, onRepair: (c) => repaired.push(c),
  });
  await cm.init();
  for (const n of [...nodes].reverse()) await n.install({ keyId, keyCheck, version: 4n, value: Buffer.from('x') }, true);
  assert.equal(await cm.repairDirty(nodes), 0);
  assert.deepEqual(repaired, []);
  assert.equal((await nodes[0]!.get(keyId))?.version, 4n);
});

test('a predecessor that resends its dirty versions: repair-dirty waits for them to commit through the chain, and repairs nothing', async (t) => {
  const nodes: ReferenceNode[] = [];
  const transport = new CraqTransport();
  t.onTestFinished(async () => {
    await transport.close();
    for (const n of nodes) await n.close();
  });
  for (const name of ['r1', 'r2', 'r3']) nodes.push(await ReferenceNode.start({ name }));
  const [r1, r2, r3] = nodes as [ReferenceNode, ReferenceNode, ReferenceNode];
  const key = '/ncr/resent';
  const { keyId, keyCheck } = craq.craqKey(key);
  const repaired: CommittedValue[] = [];
  const committed: CommittedValue[] = [];
  const cm = new ChainManager({
    nodes, mutex: new Mutex(), log, probe: () => Promise.resolve(true), probeIntervalMs: 1000, probeTimeoutMs: 100, multiplier: 3, drainTimeoutMs: 2000,
    placedKeyIds: () => [keyId], writable: () => true, onTail: (tail) => void tail?.onCommit((c) => committed.push(c)), onRepair: (c) => repaired.push(c),
  });
  await cm.init();
  for (const n of [r3, r2, r1]) await n.install({ keyId, keyCheck, version: 1n, value: Buffer.from('v1') }, true);

  r2.paused = true;
  assert.equal(await transport.request(r1.endpoint, craq.craqWriteRequest({ key, reqId: transport.nextRequestId(), value: Buffer.from('v2') }), 100), undefined);
  await cm.fail('r2');
  assert.deepEqual(repaired, [], 'the resent version committed through the chain: nothing for the repair');
  assert.deepEqual(committed.map((c) => [c.version, Buffer.from(c.value ?? []).toString()]), [[2n, 'v2']], 'committed by the tail');
  for (const n of [r1, r3]) assert.deepEqual([n.name, (await n.get(keyId))?.version, (await n.get(keyId))?.dirty], [n.name, 2n, 0]);
  assert.equal(cm.lostMessages.afterReconfiguration, 0);
});
