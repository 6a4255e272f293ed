// craq-scheduler with membership.via: paxos, end to end in process: three daemons (one real etcd
// started here, a chain of three user-space REFERENCE nodes they share, @netaccel/craq/testing),
// each running its replica of the schedulers' Paxos group over UDP on 127.0.0.1 from its
// configuration file. The chain is agreed at start, a failure handled by one daemon is served
// by all (Craq GetChain), each serves its replica's Paxos status beside Craq and paxos_* metrics;
// with the leader's daemon closed, a join handled by a survivor is agreed by the other.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'vitest';
import { ReferenceNode, TestEtcd } from '@netaccel/craq/testing';
import { CraqClient as CraqRpcClient, PaxosClient as PaxosRpcClient, craqV1, createRpcClient, paxosV1 } from '@netaccel/rpc';
import { startTestScheduler } from './testing/harness.js';
import type { TestScheduler } from './testing/harness.js';

/** Free UDP ports on 127.0.0.1 (bound, then released for the replicas). */
async function freePorts(n: number): Promise<number[]> {
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createSocket>>((resolve) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** A reference node whose close() is left to the test (the daemons share it; each closes its data planes). */
function shared(n: ReferenceNode): ReferenceNode {
  return new Proxy(n, {
    get(target, prop) {
      if (prop === 'close') return () => Promise.resolve();
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('three craq-schedulers with membership.via: paxos agree on the chain, serve Paxos status and metrics, survive the leader', async (t) => {
  const etcd = await TestEtcd.start();
  const nodes: ReferenceNode[] = [];
  const daemons: (TestScheduler | undefined)[] = [];
  t.onTestFinished(async () => {
    for (const d of daemons) await d?.close();
    for (const n of nodes) await n.close();
    await etcd.stop();
  });
  for (const name of ['n1', 'n2', 'n3']) nodes.push(await ReferenceNode.start({ name }));
  const ports = await freePorts(3);
  const replicas = ports.map((p) => `{ address: 127.0.0.1, port: ${p} }`).join(', ');
  // one after the other: the first finds no group yet (1 of 3 replicas) and asks again in the background
  for (let i = 0; i < 3; i++) {
    const yaml = `membership: { via: paxos, paxos: { self: ${i}, replicas: [${replicas}], key: /pxs/chain, heartbeat: 20ms, viewChangeTimeout: 1s, timeout: 3s } }`;
    daemons.push(await startTestScheduler({ etcdUrl: etcd.clientUrl, referenceNodes: nodes.map(shared), yaml }));
  }
  const d = (i: number): TestScheduler => daemons[i]!;
  const chainOf = async (i: number): Promise<craqV1.ChainState> => {
    const c = createRpcClient(CraqRpcClient, { address: d(i).socket, deadlineMs: 2000 });
    try {
      return await c.getChain(craqV1.GetChainRequest.create());
    } finally {
      c.close();
    }
  };
  const paxosOf = async (i: number): Promise<paxosV1.ReplicaStatus> => {
    const c = createRpcClient(PaxosRpcClient, { address: d(i).socket, deadlineMs: 2000 });
    try {
      return await c.getStatus(paxosV1.GetStatusRequest.create());
    } finally {
      c.close();
    }
  };
  const members = async (i: number): Promise<string> => (await chainOf(i)).nodes.map((n) => n.name).join(',');

  await until('every daemon holds version 1', () => daemons.every((x) => x!.daemon.chain.version === 1));
  assert.deepEqual(await Promise.all([0, 1, 2].map(members)), ['n1,n2,n3', 'n1,n2,n3', 'n1,n2,n3']);
  const status = await Promise.all([0, 1, 2].map(paxosOf));
  assert.deepEqual(status.map((s) => [s.self, s.n, s.service, s.status]), [[0, 3, 'craq-chain', 'normal'], [1, 3, 'craq-chain', 'normal'], [2, 3, 'craq-chain', 'normal']]);
  assert.equal(status.filter((s) => s.isLeader).length, 1, 'one leader');
  // the leader's scheduler acts once it holds the lease (after its wait) and took the placement over
  await until('the leader\'s scheduler is the active one', () => daemons.every((x, i) => x!.daemon.active === status[i]!.isLeader));
  const metrics = (await d(2).daemon.telemetryServer!.app.inject({ url: '/metrics' })).body;
  assert.match(metrics, /^netaccel_paxos_view 0$/m);
  assert.match(metrics, /^netaccel_paxos_status\{status="normal"\} 1$/m);
  assert.match(metrics, /^netaccel_paxos_ops_committed_total \d+$/m);
  const v1 = JSON.parse((await d(2).daemon.telemetryServer!.app.inject({ url: '/v1/status' })).body) as { membership?: { via: string; version: number; active: boolean } };
  assert.deepEqual([v1.membership?.via, v1.membership?.version, v1.membership?.active], ['paxos', 1, status[2]!.isLeader]);
  assert.match(metrics, /^netaccel_craq_chain_version 1$/m);
  assert.match(metrics, new RegExp(`^netaccel_craq_scheduler_active ${status[2]!.isLeader ? 1 : 0}$`, 'm'));

  // daemon 1 takes n2 out; the others serve the same chain
  await d(1).daemon.chain.fail('n2');
  await until('every daemon holds version 2', () => daemons.every((x) => x!.daemon.chain.version === 2));
  const after = await Promise.all([0, 1, 2].map(chainOf));
  assert.deepEqual(after.map((c) => [c.epoch, c.nodes.map((n) => n.name).join(',')]), [[2, 'n1,n3'], [2, 'n1,n3'], [2, 'n1,n3']]);

  // the leader's daemon stops; a survivor takes n2 back and the other serves it
  const leader = status.findIndex((s) => s.isLeader);
  await d(leader).close();
  daemons[leader] = undefined;
  const live = [0, 1, 2].filter((i) => i !== leader);
  await d(live[0]!).daemon.chain.join('n2');
  await until('the survivors hold version 3', () => live.every((i) => d(i).daemon.chain.version === 3));
  assert.deepEqual(await Promise.all(live.map(members)), ['n1,n3,n2', 'n1,n3,n2']);
  const views = await Promise.all(live.map(paxosOf));
  assert.ok(views.every((s) => s.view > 0 && s.status === 'normal'), 'a new view');
  await until('a survivor took over as the active scheduler', () => live.map((i) => d(i).daemon.active).sort().join() === 'false,true');
});
