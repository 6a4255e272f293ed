// craq-scheduler with membership.via: paxos — the placement in the group and its takeover, in
// process: three daemons (a real etcd started here, one chain of three user-space REFERENCE
// nodes they share, each daemon with its replica of the schedulers' group over UDP on 127.0.0.1).
// The first active scheduler (the lease holder) retires a stale placement marker, places two
// keys and takes a write through the chain that it has not written back; then its replica is
// closed (its placer is left as it was: no flush, no eviction) — its lease runs out, it stands
// down, and another scheduler takes over: the same keys and key ids, the unwritten value in
// etcd, the markers kept, an epoch above the old one; never two active at once. The new one
// places, evicts and writes back, and the group's records follow.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { Etcd3 } from 'etcd3';
import { CraqClient, PlacementView, grpcPlacementSource, placedMarkerKey } from '@netaccel/craq';
import { ReferenceNode, TestEtcd } from '@netaccel/craq/testing';
import { craq } from '@netaccel/protocol';
import { PaxosPlacementStore, decodeRecord, encodeRecord } from './placement-store.js';
import { startTestScheduler } from './testing/harness.js';
import type { TestScheduler } from './testing/harness.js';
import { freeUdpPorts, sharedNode, until } from './testing/paxos-group.js';
import { createLogger } from '@netaccel/telemetry';

const log = createLogger({ name: 'test', level: 'silent', destination: { write: () => true } });

test('placement records: round trip; a record that is not one is refused naming the field', () => {
  const r = { state: 'placed', keyId: (1n << 64n) - 1n, keyCheck: 0xffffffff, epoch: 1733000000000000n } as const;
  assert.deepEqual(decodeRecord('/k', encodeRecord(r)), r);
  assert.throws(() => decodeRecord('/k', '{"s":"gone","id":"1","c":1,"e":"1"}'), { code: 'NA_ERR_CRAQD_MEMBERSHIP_INVALID', message: /\/k: s: expected one of placing, placed, evicting, out, got "gone"/ });
  assert.throws(() => decodeRecord('/k', '{"s":"out","id":"18446744073709551616","c":1,"e":"1"}'), /id: expected a 64-bit key id/);
  assert.throws(() => decodeRecord('/k', '{"s":"out","id":"1","c":-1,"e":"1"}'), /c: expected a 32-bit key check/);
  assert.throws(() => decodeRecord('/k', 'x'), /not JSON/);
});

test('a scheduler taking over adopts the placement: no key lost or placed twice, the unwritten value in etcd, stale markers retired, the epoch only grows', async (t) => {
  const etcd = await TestEtcd.start();
  const real = new Etcd3({ hosts: etcd.clientUrl });
  const nodes: ReferenceNode[] = [];
  const daemons: (TestScheduler | undefined)[] = [];
  const clients: CraqClient[] = [];
  t.onTestFinished(async () => {
    for (const c of clients) {
      await c.close();
      c.view.close();
    }
    for (const d of daemons) await d?.close();
    for (const n of nodes) await n.close();
    real.close();
    await etcd.stop();
  });
  for (const name of ['n1', 'n2', 'n3']) nodes.push(await ReferenceNode.start({ name }));
  await real.put('/pxl/k1').value('v0');
  await real.put('/pxl/k2').value('w0');
  await real.put('/pxl/k3').value('z0');
  await real.put(placedMarkerKey('/pxl/ghost')).value('1'); // left by an earlier run: no such key placed
  const ports = await freeUdpPorts(3);
  const replicas = ports.map((p) => `{ address: 127.0.0.1, port: ${p} }`).join(', ');
  for (let i = 0; i < 3; i++) {
    const yaml = `membership: { via: paxos, paxos: { self: ${i}, replicas: [${replicas}], key: /pxl/chain, heartbeat: 20ms, viewChangeTimeout: 600ms, timeout: 2s, lease: 300ms, clockDrift: 0.1 } }`;
    daemons.push(await startTestScheduler({ etcdUrl: etcd.clientUrl, referenceNodes: nodes.map(sharedNode), yaml }));
  }
  const activeOnes = (): number[] => daemons.flatMap((d, i) => (d?.daemon.active === true ? [i] : []));
  await until('one scheduler is active', () => activeOnes().length === 1, 10_000);
  const a = activeOnes()[0]!;
  const A = daemons[a]!.daemon;
  assert.equal(await real.get(placedMarkerKey('/pxl/ghost')).string(), null, 'the stale marker was retired at the takeover');
  assert.equal(A.role?.takeovers, 1);

  await A.placer.place('/pxl/k1');
  await A.placer.place('/pxl/k2');
  const epochA = A.placer.epoch;
  const clientOf = (d: TestScheduler): CraqClient => {
    const c = new CraqClient({ view: new PlacementView(grpcPlacementSource({ address: d.address })), etcd: real, timeoutMs: 200, attempts: 8, backoffMs: 20, readFrom: 'round-robin' });
    clients.push(c);
    return c;
  };
  const ca = clientOf(daemons[a]!);
  await ca.view.refresh();
  await ca.put('/pxl/k1', 'v1');
  assert.equal(ca.lastServedBy.via, 'chain');
  assert.equal(await real.get('/pxl/k1').string(), 'v0', 'committed in the chain, not written back (timers off)');
  assert.equal(A.placer.writeBack.pending, 1);

  // the active scheduler's replica goes away; its placer is left as it was
  await A.store!.close();
  const seen = new Set<string>();
  await until('another scheduler took over', () => {
    const now = activeOnes();
    assert.ok(now.length <= 1, `two active schedulers at once: ${now.join(', ')}`);
    seen.add(now.join(','));
    return now.length === 1 && now[0] !== a;
  }, 10_000);
  const b = activeOnes()[0]!;
  const B = daemons[b]!.daemon;
  assert.equal(A.active, false);
  await until('the old one stood down', () => A.role?.standDowns === 1);
  assert.equal(A.placer.entries.size, 0, 'it forgot its placement');
  assert.equal(A.placer.writeBack.pending, 0, 'and writes nothing back any more');

  const ids = [...B.placer.entries.values()].map((e) => [e.key, e.keyId, e.keyCheck, e.state]).sort();
  assert.deepEqual(ids, [['/pxl/k1', craq.craqKeyId('/pxl/k1'), craq.craqKeyCheck('/pxl/k1'), 'placed'], ['/pxl/k2', craq.craqKeyId('/pxl/k2'), craq.craqKeyCheck('/pxl/k2'), 'placed']]);
  assert.equal(await real.get('/pxl/k1').string(), 'v1', 'the committed value the old scheduler had not written back is in etcd');
  assert.notEqual(await real.get(placedMarkerKey('/pxl/k1')).string(), null, 'the markers stay: the keys are still placed');
  assert.notEqual(await real.get(placedMarkerKey('/pxl/k2')).string(), null);
  assert.ok(B.placer.epoch > epochA, `the epoch only grows (${epochA} -> ${B.placer.epoch})`);
  const status = JSON.parse((await B.telemetryServer!.app.inject({ url: '/v1/status' })).body) as { membership: { active: boolean; lease: boolean; takeovers: number } };
  assert.deepEqual([status.membership.active, status.membership.lease, status.membership.takeovers], [true, true, 1]);
  for (const n of nodes) assert.equal((await n.keys()).length, 2, `${n.name} holds the two keys once`);

  // the new active scheduler goes on: a write through the chain, written back; a place and an eviction
  const cb = clientOf(daemons[b]!);
  await cb.view.refresh();
  assert.equal((await cb.get('/pxl/k1'))?.toString(), 'v1');
  await cb.put('/pxl/k2', 'w1');
  await B.placer.writeBack.flush();
  assert.equal(await real.get('/pxl/k2').string(), 'w1');
  await B.placer.place('/pxl/k3');
  assert.equal(await B.placer.evict('/pxl/k1'), true);
  assert.equal(await real.get(placedMarkerKey('/pxl/k1')).string(), null);
  assert.equal(await real.get('/pxl/k1').string(), 'v1');
  const records = await new PaxosPlacementStore(B.store!.config, '/pxl/chain', log).load();
  assert.deepEqual([...records].map(([k, r]) => [k, r.state]).sort(), [['/pxl/ghost', 'out'], ['/pxl/k1', 'out'], ['/pxl/k2', 'placed'], ['/pxl/k3', 'placed']]);
  assert.ok([...records.values()].every((r) => r.epoch <= B.placer.epoch));
});
