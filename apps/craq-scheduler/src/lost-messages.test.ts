import assert from 'node:assert/strict';
import { test } from 'vitest';
import { CraqTransport } from '@netaccel/craq';
import type { CommittedValue, KeyState } from '@netaccel/craq';
import { ReferenceNode } from '@netaccel/craq/testing';
import { craq } from '@netaccel/protocol';
import { createLogger } from '@netaccel/telemetry';
import { ChainManager } from './chain-manager.js';
import { StaleDirtyTracker } from './lost-messages.js';
import { Mutex } from './mutex.js';

const log = createLogger({ name: 'test', level: 'silent', destination: { write: () => true } });
const AFTER = 60; // ms without progress before a repair
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const text = (v: Uint8Array | null | undefined): string => Buffer.from(v ?? []).toString();

interface Chain {
  readonly nodes: [ReferenceNode, ReferenceNode, ReferenceNode];
  readonly cm: ChainManager;
  readonly transport: CraqTransport;
  readonly repaired: CommittedValue[];
  readonly keyId: bigint;
}

async function chainOfThree(t: { onTestFinished(fn: () => Promise<void>): void }, key: string): Promise<Chain> {
  const nodes: ReferenceNode[] = [];
  const transport = new CraqTransport();
  t.onTestFinished(async () => {
    await transport.close();
    for (const n of nodes) await n.close();
  });
  for (const name of ['n1', 'n2', 'n3']) nodes.push(await ReferenceNode.start({ name, maxDirty: 4 }));
  const { keyId, keyCheck } = craq.craqKey(key);
  const repaired: CommittedValue[] = [];
  const cm = new ChainManager({
    nodes, mutex: new Mutex(), log, probe: () => Promise.resolve(true), probeIntervalMs: 1000, probeTimeoutMs: 100, multiplier: 3, drainTimeoutMs: 300,
    placedKeyIds: () => [keyId], writable: () => true, onTail: () => undefined, onRepair: (c) => repaired.push(c), lostMessageMs: AFTER,
  });
  await cm.init();
  for (const n of [...nodes].reverse()) await n.install({ keyId, keyCheck, version: 1n, value: Buffer.from('v1') }, true);
  return { nodes: nodes as Chain['nodes'], cm, transport, repaired, keyId };
}

/** Scans until one scan repairs (the first one only starts the clock); at most `max` scans. */
async function scanUntilRepaired(cm: ChainManager, max = 20): Promise<number> {
  for (let i = 0; i < max; i++) {
    const n = await cm.scanLostMessages();
    if (n > 0) return i;
    await sleep(AFTER);
  }
  return -1;
}

test('four lost PROPAGATEs fill the head (writes answered RETRY): the scan commits the highest held version everywhere, writes it back, and writes go on', async (t) => {
  const key = '/crt/lost-propagate';
  const { nodes: [n1, n2, n3], cm, transport, repaired, keyId } = await chainOfThree(t, key);
  const write = (v: string, ms: number): Promise<craq.CraqMessage | undefined> => transport.request(n1.endpoint, craq.craqWriteRequest({ key, reqId: transport.nextRequestId(), value: Buffer.from(v) }), ms);

  n2.loseIncoming = (m) => m.op === craq.CraqOp.PROPAGATE;
  for (const v of ['w2', 'w3', 'w4', 'w5']) assert.equal(await write(v, 30), undefined, `${v}: not answered (its PROPAGATE lost)`);
  assert.equal((await write('w6', 1000))?.status, craq.CraqStatus.RETRY, 'dirty full at the head: RETRY');
  n2.loseIncoming = undefined;

  assert.equal(await cm.scanLostMessages(), 0, 'the first scan only starts the clock');
  assert.equal((await n1.get(keyId))?.dirty, 4);
  const scans = await scanUntilRepaired(cm);
  assert.ok(scans >= 0, 'repaired by a later scan');
  for (const n of [n1, n2, n3]) {
    const s = await n.get(keyId);
    assert.deepEqual([n.name, s?.version, text(s?.value), s?.dirty, s?.writable], [n.name, 5n, 'w5', 0, true]);
  }
  assert.deepEqual(repaired.map((c) => [c.version, text(c.value)]), [[5n, 'w5']], 'the committed version goes to etcd');
  assert.deepEqual([cm.lostMessages.writes, cm.lostMessages.acks, cm.lostMessages.stale], [1, 0, 1]);

  const ok = await write('w7', 1000);
  assert.deepEqual([ok?.status, ok?.version], [craq.CraqStatus.OK, 6n], 'writes of the key are taken again');
  const read = await transport.request(n3.endpoint, craq.craqReadRequest({ key, reqId: transport.nextRequestId() }), 1000);
  assert.equal(text(read?.value), 'w7');
});

test('a lost ACK (the tail committed): the head takes the tail committed version, clean, and nothing is written back twice', async (t) => {
  const key = '/crt/lost-ack';
  const { nodes: [n1, n2, n3], cm, transport, repaired, keyId } = await chainOfThree(t, key);
  n1.loseIncoming = (m) => m.op === craq.CraqOp.ACK;
  // the reference tail answers the client itself (bpf/craq's head answers on the ACK)
  const answered = await transport.request(n1.endpoint, craq.craqWriteRequest({ key, reqId: transport.nextRequestId(), value: Buffer.from('w2') }), 1000);
  assert.deepEqual([answered?.status, answered?.version], [craq.CraqStatus.OK, 2n]);
  await sleep(20); // the ACK on its way up, lost at n1 (the link stays lossy for ACKs: nothing is retransmitted)
  assert.deepEqual([(await n1.get(keyId))?.dirty, (await n3.get(keyId))?.version], [1, 2n], 'dirty at the head, committed at the tail');

  assert.ok((await scanUntilRepaired(cm)) >= 0, JSON.stringify(cm.lostMessages));
  for (const n of [n1, n2, n3]) {
    const s = await n.get(keyId);
    assert.deepEqual([n.name, s?.version, text(s?.value), s?.dirty], [n.name, 2n, 'w2', 0]);
  }
  assert.deepEqual(repaired, [], 'the tail wrote it back through its commit stream already');
  assert.deepEqual([cm.lostMessages.acks, cm.lostMessages.writes], [1, 0]);
});

test('a key whose writes keep committing is not repaired, however long it stays dirty', () => {
  const tr = new StaleDirtyTracker(100);
  const k = (version: bigint, dirty: number): KeyState => ({ keyId: 7n, keyCheck: 1, version, value: null, dirty, writable: true });
  assert.deepEqual(tr.observe([k(1n, 1)], 0), []);
  assert.deepEqual(tr.observe([k(2n, 1)], 150), [], 'clean moved: the clock starts again');
  assert.deepEqual(tr.observe([k(3n, 2)], 300), []);
  assert.deepEqual(tr.observe([k(3n, 2)], 399), [], 'before the bound');
  assert.deepEqual(tr.observe([k(3n, 2)], 400), [{ keyId: 7n, clean: 3n }], 'no progress for the bound');
  assert.deepEqual(tr.observe([k(3n, 0)], 500), [], 'clean again: forgotten');
  assert.deepEqual(tr.observe([k(3n, 1)], 600), [], 'dirty again: a new clock');
});
