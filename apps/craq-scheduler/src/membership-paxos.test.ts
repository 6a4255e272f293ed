/**
 * membership.via: paxos — three schedulers' chain managers over one chain of three user-space
 * reference nodes (@netaccel/craq/testing), each scheduler with its own replica of the Paxos
 * group (real UDP on 127.0.0.1) and its own mutex, as three processes would have: the first
 * chain is proposed by all and agreed once; a failure seen by one scheduler is applied by the
 * others from the committed log; two schedulers taking the same node out at once reconfigure the
 * chain once; with the leader's replica (and its scheduler) gone, a join proposed by a survivor
 * is agreed by the other.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { ReferenceNode } from '@netaccel/craq/testing';
import { udpTransport } from '@netaccel/paxos';
import { createLogger } from '@netaccel/telemetry';
import { ChainManager } from './chain-manager.js';
import type { ChangeReason } from './chain-manager.js';
import { PaxosChainStore, decodeChain, encodeChain } from './chain-store.js';
import { Mutex } from './mutex.js';

const log = createLogger({ name: 'test', level: 'silent', destination: { write: () => true } });

async function until(what: string, pred: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(pred(), what);
}

test('stored chain: round trip, and a value that is not a chain is refused with the key', () => {
  const s = { epoch: 3, members: [{ name: 'n1', endpoint: { address: '::1', port: 7480 } }], removed: [{ name: 'n2', endpoint: { address: '127.0.0.2', port: 7481 } }], lastChange: 'node n2 failed' };
  assert.deepEqual(decodeChain('/k', encodeChain(s)), s);
  assert.throws(() => decodeChain('/k', '{"e":1,"m":[["n1","::1"]],"r":[]}'), { code: 'NA_ERR_CRAQD_MEMBERSHIP_INVALID', message: /\/k: m\[0\]: expected \[name, address, port\]/ });
  assert.throws(() => decodeChain('/k', 'nope'), /not JSON/);
});

test('three schedulers keep one chain in a Paxos group: failure seen by one applied by all, a double report reconfigures once, the leader gone and a join agreed', async (t) => {
  const nodes: ReferenceNode[] = [];
  const stores: PaxosChainStore[] = [];
  const managers: ChainManager[] = [];
  t.onTestFinished(async () => {
    for (const m of managers) m.close();
    for (const s of stores) await s.close();
    for (const n of nodes) await n.close();
  });
  for (const name of ['n1', 'n2', 'n3']) nodes.push(await ReferenceNode.start({ name }));
  const [n1, n2, n3] = nodes as [ReferenceNode, ReferenceNode, ReferenceNode];
  const sockets = await Promise.all([0, 1, 2].map(() => udpTransport({ address: '127.0.0.1', port: 0 })));
  const replicas = sockets.map((s) => s.local);
  for (let i = 0; i < 3; i++) stores.push(await PaxosChainStore.start({ self: i, replicas, key: '/pxs/chain', heartbeatMs: 20, viewChangeTimeoutMs: 250, timeoutMs: 4000, log, transport: sockets[i]! }));
  const down = new Set<string>();
  const changes: ChangeReason[][] = [[], [], []];
  for (let i = 0; i < 3; i++) {
    managers.push(
      new ChainManager({
        nodes, mutex: new Mutex(), log, probe: (ep) => Promise.resolve(!nodes.some((n) => down.has(n.name) && n.endpoint.port === ep.port)), probeIntervalMs: 1000, probeTimeoutMs: 100, multiplier: 1, drainTimeoutMs: 500,
        placedKeyIds: () => [], writable: () => true, onTail: () => undefined, onChange: (why) => changes[i]!.push(why), store: stores[i]!,
      }),
    );
  }
  const names = (m: ChainManager) => m.state.members.map((x) => x.name).join(',');

  // every scheduler starts and proposes the first chain: one proposal wins, the others adopt it
  await Promise.all(managers.map((m) => m.init()));
  await until('all hold version 1', () => managers.every((m) => m.version === 1));
  assert.deepEqual(managers.map(names), ['n1,n2,n3', 'n1,n2,n3', 'n1,n2,n3']);
  assert.equal(changes.flat().filter((w) => w === 'initial').length, 1, 'the first chain was configured by one scheduler');
  assert.deepEqual([n1.config?.role, n2.config?.role, n3.config?.role, n3.config?.epoch], ['head', 'middle', 'tail', 1]);

  // n2 fails and scheduler 1 takes it out; schedulers 0 and 2 apply it from the log
  down.add('n2');
  await managers[1]!.fail('n2');
  await until('all hold version 2', () => managers.every((m) => m.version === 2));
  assert.deepEqual(managers.map(names), ['n1,n3', 'n1,n3', 'n1,n3']);
  assert.deepEqual(managers.map((m) => m.state.epoch), [2, 2, 2]);
  assert.deepEqual([n1.config?.epoch, n1.config?.next?.port, n3.config?.prev?.port], [2, n3.endpoint.port, n1.endpoint.port], 'the data plane was reconfigured once, by the proposer');
  assert.deepEqual([changes[0]!.at(-1), changes[1]!.at(-1), changes[2]!.at(-1)], ['peer', 'failure', 'peer']);

  // n3 stops answering: schedulers 0 and 2 both see it in the same probe round and both propose
  down.add('n3');
  await Promise.all([managers[0]!.probeOnce(), managers[2]!.probeOnce()]);
  await until(`all hold version 3 (${managers.map((m) => `${m.version}:${names(m)}`).join(' ')})`, () => managers.every((m) => m.version === 3));
  assert.deepEqual(managers.map(names), ['n1', 'n1', 'n1']);
  assert.deepEqual(managers.map((m) => m.state.epoch), [3, 3, 3], 'one reconfiguration, not two');
  assert.deepEqual(managers[1]!.state.removed.map((m) => m.name), ['n3', 'n2']);
  assert.equal(n1.config?.role, 'single');

  // the leader's replica and its scheduler go away; a survivor takes n2 back (join at the tail by state copy)
  const leader = stores.findIndex((s) => s.status().isLeader);
  assert.ok(leader >= 0, 'a replica leads');
  managers[leader]!.close();
  await stores[leader]!.close();
  const live = [0, 1, 2].filter((i) => i !== leader);
  down.delete('n2');
  await managers[live[0]!]!.join('n2');
  await until('the survivors hold version 4', () => live.every((i) => managers[i]!.version === 4));
  assert.deepEqual(live.map((i) => names(managers[i]!)), ['n1,n2', 'n1,n2']);
  assert.deepEqual(live.map((i) => managers[i]!.state.epoch), [4, 4]);
  assert.ok(live.every((i) => stores[i]!.status().view > 0), 'the group moved to a new view');
  assert.deepEqual([n1.config?.role, n2.config?.role, n2.config?.epoch], ['head', 'tail', 4]);
  const agreed = await stores[live[1]!]!.read();
  assert.deepEqual(agreed?.state, managers[live[0]!]!.state, 'what the group committed is what the schedulers hold');
});

test('only the active scheduler probes on its timer', async (t) => {
  const node = await ReferenceNode.start({ name: 'n1' });
  let active = false;
  let probes = 0;
  const cm = new ChainManager({
    nodes: [node], mutex: new Mutex(), log, probe: () => Promise.resolve(++probes > 0), probeIntervalMs: 10, probeTimeoutMs: 5, multiplier: 3, drainTimeoutMs: 100,
    placedKeyIds: () => [], writable: () => true, onTail: () => undefined, active: () => active,
  });
  t.onTestFinished(async () => {
    cm.close();
    await node.close();
  });
  await cm.init();
  cm.start();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(probes, 0, 'a standby does not probe');
  active = true;
  await until('the active scheduler probes', () => probes > 0);
});
