// craq-scheduler end to end on loopback: a real etcd and a real redis-server started here, a
// chain of three user-space REFERENCE nodes (@netaccel/craq/testing: the protocol's state machine
// from the codec, not the XDP node), the daemon in process with its gRPC socket and telemetry.
// Timers are off: the test runs the rounds, probes and flushes itself, so every step is ordered.
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { Etcd3 as RealEtcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { CraqClient, HeatReporter, PlacementView, grpcPlacementSource, placedMarkerKey } from '@netaccel/craq';
import { HistoryRecorder, checkHistory } from '@netaccel/linearizability';
import { TestEtcd, TestRedis } from '@netaccel/craq/testing';
import { craq } from '@netaccel/protocol';
import { CraqClient as CraqRpcClient, craqV1, createRpcClient } from '@netaccel/rpc';
import type { CraqService, RpcClient } from '@netaccel/rpc';
import { startTestScheduler } from './testing/harness.js';
import type { TestScheduler } from './testing/harness.js';

const YAML = `
placement: { budget: 1KiB, perKeyOverhead: 400, minDwell: 0s, hysteresis: 0.25, minReads: 1 }
`;

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('craq-scheduler: heat, placement, durability, chain membership, API', () => {
  let etcd: TestEtcd;
  let redisServer: TestRedis;
  let redis: Redis;
  let real: RealEtcd3;
  let s: TestScheduler;
  let api: RpcClient<typeof CraqService>;
  let client: CraqClient;
  let reporter: HeatReporter;

  beforeAll(async () => {
    etcd = await TestEtcd.start();
    redisServer = await TestRedis.start();
    redis = new Redis(redisServer.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    real = new RealEtcd3({ hosts: etcd.clientUrl });
    s = await startTestScheduler({ etcdUrl: etcd.clientUrl, redisUrl: redisServer.url, yaml: YAML, etcd: "prefixes: ['/ncc/']", chain: 'probeTimeout: 60ms, probeMultiplier: 2, drainTimeout: 1s' });
    api = createRpcClient(CraqRpcClient, { address: s.address });
    const view = new PlacementView(grpcPlacementSource({ address: s.address }));
    client = new CraqClient({ view, etcd: real, timeoutMs: 100, attempts: 3, backoffMs: 5, readFrom: 'round-robin' });
    reporter = new HeatReporter(redis, { bucketMs: 1000, flushMs: 0 });
    for (const k of ['k1', 'k2', 'k3']) await real.put(`/ncc/${k}`).value(`${k}-v0`);
  });

  afterAll(async () => {
    await client?.close();
    client?.view.close();
    api?.close();
    await s?.close();
    real?.close();
    redis?.disconnect();
    await redisServer?.stop();
    await etcd?.stop();
  });

  const dp = () => s.daemon;
  const view = () => client.view.refresh();

  test('telemetry: /healthz, /readyz (config, chain, gRPC), /metrics, /v1/status', async () => {
    const app = dp().telemetryServer!.app;
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    const ready = await app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.deepEqual((JSON.parse(ready.body) as { checks: { name: string }[] }).checks.map((c) => c.name).sort(), ['chain', 'config', 'grpc']);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /netaccel_craq_chain_epoch 1/);
    assert.match(metrics, /netaccel_craq_chain_members 3/);
    assert.match(metrics, /netaccel_craq_node_alive\{node="n2"\} 1/);
    const status = JSON.parse((await app.inject({ url: '/v1/status' })).body) as { app: string; chain: { members: string[] } };
    assert.equal(status.app, 'craq-scheduler');
    assert.deepEqual(status.chain.members, ['n1', 'n2', 'n3']);
  });

  test('heat reported into Redis places the hot keys under the prefixes; the placement over gRPC', async () => {
    reporter.record('/ncc/k1', 10);
    reporter.record('/ncc/k2', 5);
    reporter.record('/other/x', 100); // not under etcd.prefixes
    await reporter.flush();
    const before = (await api.getPlacement(craqV1.GetPlacementRequest.create())).placementEpoch;
    assert.ok(before > BigInt(Date.now() - 600_000) * 1000n, 'the epoch starts at the start time (µs): it grows across restarts');
    const r = await dp().scheduler.round();
    assert.deepEqual(r, { placed: ['/ncc/k1', '/ncc/k2'], evicted: [], failed: [] });
    const p = await api.getPlacement(craqV1.GetPlacementRequest.create());
    assert.equal(p.placementEpoch, before + 2n, 'bumped once per placed key');
    assert.deepEqual(p.keys.map((k) => [k.key, k.keyId === craq.craqKeyId(k.key), k.keyCheck === craq.craqKeyCheck(k.key)]), [['/ncc/k1', true, true], ['/ncc/k2', true, true]]);
    assert.deepEqual(p.chain?.nodes.map((n) => [n.name, n.role]), [['n1', craqV1.ChainRole.CHAIN_ROLE_HEAD], ['n2', craqV1.ChainRole.CHAIN_ROLE_MIDDLE], ['n3', craqV1.ChainRole.CHAIN_ROLE_TAIL]]);
    for (const n of s.nodes) assert.equal(Buffer.from((await n.get(craq.craqKeyId('/ncc/k1')))!.value!).toString(), 'k1-v0', `${n.name} holds k1`);
    const marker = (await real.get(placedMarkerKey('/ncc/k1')).string()) ?? '';
    assert.ok(BigInt(marker) > before, 'the placement marker is in etcd, with a placement epoch');
    assert.equal(await real.get('/other/x').string(), null);
  });

  test('reads and writes through the chain; commits written back to etcd; data-plane counters in the stats', async () => {
    await view();
    assert.equal((await client.get('/ncc/k1'))?.toString(), 'k1-v0');
    assert.equal(client.lastServedBy.via, 'chain');
    await client.put('/ncc/k1', 'k1-v1');
    assert.equal(client.lastServedBy.via, 'chain');
    assert.equal(await real.get('/ncc/k1').string(), 'k1-v0', 'not yet: write-behind');
    assert.equal(dp().placer.writeBack.pending, 1);
    await dp().placer.writeBack.flush();
    assert.equal(await real.get('/ncc/k1').string(), 'k1-v1', 'in etcd after the flush');
    for (let i = 0; i < 3; i++) await client.get('/ncc/k1');
    await dp().scheduler.round();
    const st = await api.getKeyStats(craqV1.GetKeyStatsRequest.create({ key: '/ncc/k1' }));
    assert.equal(st.placed, true);
    assert.equal(st.reportedReads, 10n);
    assert.equal(st.dataPlaneReads, 4n, 'four chain reads, counted by the nodes that answered');
    assert.equal(st.dataPlaneWrites, 1n);
    const list = await api.listKeys(craqV1.ListKeysRequest.create({ placedOnly: true }));
    assert.deepEqual(list.keys.map((k) => k.key), ['/ncc/k1', '/ncc/k2']);
    assert.equal(list.budgetBytes, 1024n);
    assert.ok(list.usedBytes > 800n);
  });

  test('a write to etcd from outside the chain is installed in the chain (watch from the load revision)', async () => {
    await real.put('/ncc/k1').value('k1-outside');
    const id = craq.craqKeyId('/ncc/k1');
    await until('the outside write in the chain', async () => Buffer.from((await s.nodes[0]!.get(id))?.value ?? []).toString() === 'k1-outside');
    assert.equal((await client.get('/ncc/k1'))?.toString(), 'k1-outside');
    assert.equal(client.lastServedBy.via, 'chain');
    assert.equal(dp().placer.entries.get('/ncc/k1')?.externalWrites, 1, 'our own write-back was not taken for an outside write');
  });

  test('eviction: a hotter key takes the place of the coldest; its last committed value is in etcd first', async () => {
    await client.put('/ncc/k2', 'k2-last'); // committed in the chain, not flushed
    assert.equal(await real.get('/ncc/k2').string(), 'k2-v0');
    // counted by a proxy the way sidecar-offload does: a cumulative sorted set, read every round
    await redis.zincrby('netaccel:craq:heat:reads', 1000, '/ncc/k3');
    const r = await dp().scheduler.round();
    assert.deepEqual(r, { placed: ['/ncc/k3'], evicted: ['/ncc/k2'], failed: [] });
    assert.equal(dp().scheduler.heatOf('/ncc/k3')?.reported, 1000);
    assert.equal(await real.get('/ncc/k2').string(), 'k2-last', 'written back before it left');
    for (const n of s.nodes) assert.equal(await n.get(craq.craqKeyId('/ncc/k2')), undefined);
    assert.equal(await real.get(placedMarkerKey('/ncc/k2')).string(), null, 'the placement marker left with the key');
    assert.notEqual(await real.get(placedMarkerKey('/ncc/k3')).string(), null);
    assert.equal((await client.get('/ncc/k2'))?.toString(), 'k2-last', 'NOT_PLACED, then etcd');
    assert.equal(client.lastServedBy.via, 'etcd');
  });

  test('a middle node fails: taken out after its missed probes, predecessor linked to successor, epoch bumped', async () => {
    s.nodes[1]!.paused = true;
    await dp().chain.probeOnce();
    assert.equal(dp().chain.state.members.length, 3, 'one miss is not enough');
    await dp().chain.probeOnce();
    const chain = await api.getChain(craqV1.GetChainRequest.create());
    assert.equal(chain.epoch, 2);
    assert.deepEqual(chain.nodes.map((n) => n.name), ['n1', 'n3']);
    assert.deepEqual(chain.removed.map((n) => [n.name, n.alive]), [['n2', false]]);
    assert.equal(chain.lastChange, 'node n2 failed (2 probes missed): n1 -> n3, epoch 2');
    assert.deepEqual(s.nodes[0]!.config?.next, s.nodes[2]!.endpoint);
    await view();
    await client.put('/ncc/k1', 'k1-after-n2');
    assert.equal((await client.get('/ncc/k1'))?.toString(), 'k1-after-n2');
  });

  test('the tail fails with a write in flight: the new tail commits it, etcd gets it, nothing is lost', async () => {
    s.nodes[2]!.paused = true;
    const once = new CraqClient({ view: client.view, etcd: real, timeoutMs: 80, attempts: 1 });
    await assert.rejects(once.put('/ncc/k1', 'k1-in-flight'), { code: 'NA_ERR_CRAQCLIENT_TIMEOUT' });
    await once.close();
    assert.equal((await s.nodes[0]!.get(craq.craqKeyId('/ncc/k1')))?.dirty, 1, 'dirty at the head');
    await dp().chain.probeOnce();
    await dp().chain.probeOnce();
    assert.deepEqual(dp().chain.state.members.map((m) => m.name), ['n1']);
    assert.equal(s.nodes[0]!.config?.role, 'single');
    await dp().placer.writeBack.flush();
    assert.equal(await real.get('/ncc/k1').string(), 'k1-in-flight', 'committed by the new tail and written back');
    await view();
    assert.equal((await client.get('/ncc/k1'))?.toString(), 'k1-in-flight');
  });

  test('nodes that answer again join at the tail by state copy', async () => {
    s.nodes[1]!.paused = false;
    s.nodes[2]!.paused = false;
    assert.notEqual(await s.nodes[1]!.get(craq.craqKeyId('/ncc/k1')), undefined, 'n2 still holds what it had when it left');
    await dp().chain.probeOnce();
    assert.equal(await s.nodes[1]!.get(craq.craqKeyId('/ncc/k1')), undefined, 'cleared at its first answer: no old value for clients with an old view');
    await dp().chain.probeOnce();
    const chain = await api.getChain(craqV1.GetChainRequest.create());
    assert.deepEqual(chain.nodes.map((n) => [n.name, n.role]), [['n1', craqV1.ChainRole.CHAIN_ROLE_HEAD], ['n2', craqV1.ChainRole.CHAIN_ROLE_MIDDLE], ['n3', craqV1.ChainRole.CHAIN_ROLE_TAIL]]);
    assert.equal(chain.epoch, 5, 'epoch 1, two failures, two joins');
    assert.equal(Buffer.from((await s.nodes[2]!.get(craq.craqKeyId('/ncc/k1')))!.value!).toString(), 'k1-in-flight', 'copied');
    assert.equal(await s.nodes[2]!.get(craq.craqKeyId('/ncc/k2')), undefined, 'the evicted key was wiped');
    await view();
    await client.put('/ncc/k3', 'k3-joined');
    const tailRead = new CraqClient({ view: client.view, etcd: real, readFrom: 'tail', timeoutMs: 100 });
    assert.equal((await tailRead.get('/ncc/k3'))?.toString(), 'k3-joined');
    await tailRead.close();
  });

  test('bad gRPC requests get clear errors and change nothing', async () => {
    const epoch = dp().placer.epoch;
    await assert.rejects(api.getKeyStats(craqV1.GetKeyStatsRequest.create({ key: '' })), { code: 'NA_ERR_CRAQD_INVALID_KEY', message: /key: is required/ });
    await assert.rejects(api.pin(craqV1.PinRequest.create({ key: `/ncc/${'x'.repeat(5000)}` })), { code: 'NA_ERR_CRAQD_INVALID_KEY', message: /at most 4096 bytes/ });
    await assert.rejects(api.listKeys(craqV1.ListKeysRequest.create({ limit: 1_000_000 })), { code: 'NA_ERR_CRAQD_INVALID_REQUEST', message: /limit/ });
    await assert.rejects(api.getKeyStats(craqV1.GetKeyStatsRequest.create({ key: '/ncc/nothing' })), { code: 'NA_ERR_CRAQD_KEY_NOT_FOUND' });
    await assert.rejects(api.unpin(craqV1.UnpinRequest.create({ key: '/ncc/k1' })), { code: 'NA_ERR_CRAQD_NOT_PINNED' });
    await real.put('/ncc/big').value(Buffer.alloc(2000, 1));
    await assert.rejects(api.pin(craqV1.PinRequest.create({ key: '/ncc/big' })), { code: 'NA_ERR_CRAQD_VALUE_TOO_LARGE' });
    await assert.rejects(api.pin(craqV1.PinRequest.create({ key: '/ncc/k2' })), { code: 'NA_ERR_CRAQD_OVER_BUDGET' }, 'two keys of ~410 bytes fill 1 KiB');
    assert.equal(dp().placer.epoch, epoch);
    assert.deepEqual([...dp().placer.entries.keys()].sort(), ['/ncc/k1', '/ncc/k3']);
  });

  test('pin and unpin over gRPC', async () => {
    const r = await api.pin(craqV1.PinRequest.create({ key: '/ncc/k1' }));
    assert.equal(r.key?.keyId, craq.craqKeyId('/ncc/k1'));
    assert.equal((await api.getKeyStats(craqV1.GetKeyStatsRequest.create({ key: '/ncc/k1' }))).pinned, true);
    assert.deepEqual(await api.unpin(craqV1.UnpinRequest.create({ key: '/ncc/k1' })), { wasPinned: true });
  });

  test('concurrent writers and readers at every node while the tail fails: every write acknowledged (retries only), the history linearizable, etcd ends with the last committed value', async () => {
    await view();
    const initial = (await client.get('/ncc/k3'))?.toString() ?? null;
    const rec = new HistoryRecorder();
    let writing = true;
    const readers = [0, 1].map(() => new CraqClient({ view: client.view, etcd: real, timeoutMs: 100, attempts: 12, backoffMs: 5, readFrom: 'round-robin' }));
    const read = async (c: CraqClient): Promise<void> => {
      while (writing) {
        const op = rec.begin({ kind: 'read', key: '/ncc/k3' });
        try {
          rec.ok(op, (await c.get('/ncc/k3'))?.toString() ?? null);
        } catch {
          rec.unknown(op);
        }
      }
    };
    const reading = readers.map((c) => read(c));
    const writers = [0, 1, 2].map(() => new CraqClient({ view: client.view, etcd: real, timeoutMs: 100, attempts: 12, backoffMs: 5 }));
    const acked: { value: string; version: bigint }[] = [];
    let done0 = 0;
    let midway!: () => void;
    const half = new Promise<void>((r) => (midway = r));
    const write = async (c: CraqClient, w: number): Promise<void> => {
      for (let i = 0; i < 12; i++) {
        const value = `w${w}-${i}`;
        const op = rec.begin({ kind: 'write', key: '/ncc/k3', value });
        await c.put('/ncc/k3', value).then(() => rec.ok(op), (err: unknown) => {
          rec.unknown(op);
          throw err;
        });
        const by = c.lastServedBy;
        assert.equal(by.via, 'chain');
        if (by.via === 'chain') acked.push({ value, version: by.version });
        if (w === 0 && ++done0 === 4) midway();
      }
    };
    const failing = (async () => {
      await half;
      s.nodes[2]!.paused = true; // the tail stops answering in the middle of the writes
      await dp().chain.probeOnce();
      await dp().chain.probeOnce();
    })();
    await Promise.all([...writers.map((c, w) => write(c, w)), failing]).finally(() => {
      writing = false;
    });
    await Promise.all(reading);
    await Promise.all([...writers, ...readers].map((c) => c.close()));
    const history = rec.history();
    assert.ok(history.filter((o) => o.kind === 'read').length >= 10, `${history.length} operations`);
    const check = checkHistory(history, { initial: { '/ncc/k3': initial } });
    assert.equal(check.outcome, 'linearizable', check.counterexample?.explanation);
    assert.equal(acked.length, 36, 'every write acknowledged');
    assert.deepEqual(dp().chain.state.members.map((m) => m.name), ['n1', 'n2'], 'n3 taken out, n2 the tail');
    const id = craq.craqKeyId('/ncc/k3');
    for (let i = 0; i < 200 && ((await s.nodes[0]!.get(id))?.dirty ?? 0) > 0; i++) await new Promise((r) => setTimeout(r, 5));
    const tail = (await s.nodes[1]!.get(id))!;
    const maxAcked = acked.reduce((m, a) => (a.version > m ? a.version : m), 0n);
    assert.ok(tail.version >= maxAcked, `tail at ${tail.version}, a write was acknowledged at ${maxAcked}`);
    assert.equal((await s.nodes[0]!.get(id))?.version, tail.version, 'the head agrees with the tail');
    await dp().placer.writeBack.flush();
    const inEtcd = await real.get('/ncc/k3').string();
    assert.equal(inEtcd, Buffer.from(tail.value!).toString(), 'etcd has the last committed value');
    assert.ok(acked.some((a) => a.value === inEtcd), 'and it is a value a client wrote');
  });

  test('the chain loses every node: keys go back to etcd; nodes that answer again form a new chain and hot keys are placed again', async () => {
    s.nodes[0]!.paused = true;
    s.nodes[1]!.paused = true;
    await dp().chain.probeOnce();
    await dp().chain.probeOnce();
    assert.deepEqual(dp().chain.state.members, []);
    await until('every key dropped', () => dp().placer.entries.size === 0);
    assert.deepEqual((await api.getPlacement(craqV1.GetPlacementRequest.create())).keys, []);
    assert.equal((await dp().telemetryServer!.app.inject({ url: '/readyz' })).statusCode, 503);
    await view();
    const last = await real.get('/ncc/k3').string();
    assert.equal((await client.get('/ncc/k3'))?.toString(), last);
    assert.equal(client.lastServedBy.via, 'etcd');
    for (const n of s.nodes) n.paused = false;
    await dp().chain.probeOnce();
    await dp().chain.probeOnce();
    assert.deepEqual(dp().chain.state.members.map((m) => m.name), ['n1', 'n2', 'n3']);
    reporter.record('/ncc/k3', 50);
    await reporter.flush();
    const r = await dp().scheduler.round();
    assert.ok(r.placed.includes('/ncc/k3'), JSON.stringify(r));
    await view();
    assert.equal((await client.get('/ncc/k3'))?.toString(), last);
    assert.equal(client.lastServedBy.via, 'chain');
  });

  test('a key being evicted stays in the placement until etcd has its last value and it left the nodes', async () => {
    const id = craq.craqKeyId('/ncc/k3');
    s.nodes[2]!.paused = true; // the tail drops the PROPAGATE: the write stays dirty at the head
    const once = new CraqClient({ view: client.view, etcd: real, timeoutMs: 80, attempts: 1 });
    await view();
    await assert.rejects(once.put('/ncc/k3', 'k3-evicted-last'), { code: 'NA_ERR_CRAQCLIENT_TIMEOUT' });
    await once.close();
    const evicting = dp().placer.evict('/ncc/k3');
    await until('the eviction holding writes', () => dp().placer.entries.get('/ncc/k3')?.state === 'evicting');
    const during = await api.getPlacement(craqV1.GetPlacementRequest.create());
    assert.ok(during.keys.some((k) => k.key === '/ncc/k3'), 'still placed while the head drains');
    s.nodes[2]!.paused = false;
    await s.nodes[0]!.resendDirty();
    assert.equal(await evicting, true);
    const after = await api.getPlacement(craqV1.GetPlacementRequest.create());
    assert.ok(!after.keys.some((k) => k.key === '/ncc/k3'));
    assert.ok(after.placementEpoch > during.placementEpoch);
    assert.equal(await real.get('/ncc/k3').string(), 'k3-evicted-last', 'the write committed during the drain is in etcd');
    for (const n of s.nodes) assert.equal(await n.get(id), undefined);
  });

  test('reload: a bad file is refused whole and the running configuration stays; a good one is taken', async () => {
    const good = readFileSync(s.file, 'utf8');
    writeFileSync(s.file, `${good}\nwriteBack: { flushInterval: never }\n`);
    const bad = await s.host.reload();
    assert.equal(bad.accepted, false);
    assert.match(String((bad.error as Error).message), /writeBack\.flushInterval/);
    assert.equal(s.host.config.writeBack.flushInterval, 20);
    writeFileSync(s.file, good.replace('hysteresis: 0.25', 'hysteresis: 0.5'));
    const ok = await s.host.reload();
    assert.deepEqual(ok, { accepted: true, changed: ['placement.hysteresis'] });
    assert.equal(s.host.config.placement.hysteresis, 0.5);
  });
});
