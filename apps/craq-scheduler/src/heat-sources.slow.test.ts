// Heat sources (a) and (b): the chain nodes' counters (user-space reference nodes from
// @netaccel/craq/testing, not the XDP node) and a real etcd's Prometheus endpoint.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { Etcd3 } from 'etcd3';
import { CraqTransport } from '@netaccel/craq';
import { ReferenceChain, TestEtcd, TestRedis } from '@netaccel/craq/testing';
import { craq } from '@netaccel/protocol';
import { Redis } from 'ioredis';
import { CumulativeHeat, DataPlaneHeat, EtcdMetrics, promCounters } from './heat-sources.js';

test('promCounters sums a counter over its label sets and ignores comments and other names', () => {
  const text = [
    '# HELP etcd_mvcc_range_total Total number of ranges seen by this member.',
    '# TYPE etcd_mvcc_range_total counter',
    'etcd_mvcc_range_total 12',
    'grpc_server_handled_total{grpc_code="OK",grpc_method="Range"} 7',
    'grpc_server_handled_total{grpc_code="OK",grpc_method="Put"} 2',
    'etcd_mvcc_range_total_other 99',
  ].join('\n');
  assert.deepEqual([...promCounters(text, ['etcd_mvcc_range_total', 'grpc_server_handled_total', 'absent'])], [['etcd_mvcc_range_total', 12], ['grpc_server_handled_total', 9], ['absent', 0]]);
});

test("etcd's overall read and write rates between two scrapes of a real etcd", async (t) => {
  const etcd = await TestEtcd.start();
  const client = new Etcd3({ hosts: etcd.clientUrl });
  t.onTestFinished(async () => {
    client.close();
    await etcd.stop();
  });
  const m = new EtcdMetrics(etcd.metricsUrl, 2000);
  assert.deepEqual(await m.sample(1_000), { readsPerSecond: 0, writesPerSecond: 0 }, 'one scrape: no rate yet');
  for (let i = 0; i < 3; i++) await client.put(`/r/${i}`).value('x');
  for (let i = 0; i < 10; i++) await client.get('/r/0').string();
  const r = await m.sample(2_000); // one second later on the sampler's clock
  assert.ok(r.readsPerSecond >= 10 && r.readsPerSecond < 100, `reads/s ${r.readsPerSecond}`);
  assert.ok(r.writesPerSecond >= 3 && r.writesPerSecond < 50, `writes/s ${r.writesPerSecond}`);
  await assert.rejects(new EtcdMetrics('http://127.0.0.1:1/metrics', 500).sample(), { code: 'NA_ERR_CRAQD_HEAT_SOURCE' });
});

test('data-plane heat: increases of the nodes counters over a sliding window, writes from the head only', async (t) => {
  const chain = await ReferenceChain.start(2);
  const transport = new CraqTransport();
  t.onTestFinished(async () => {
    await transport.close();
    await chain.close();
  });
  const { keyId } = await chain.place('/h/a', 'v');
  const read = async (node: number): Promise<void> => {
    const reply = await transport.request(chain.nodes[node]!.endpoint, craq.craqReadRequest({ key: '/h/a', reqId: transport.nextRequestId() }), 500);
    assert.ok(reply?.status === craq.CraqStatus.OK || reply?.status === craq.CraqStatus.NOT_FOUND, `status ${reply?.status}`);
  };
  const heat = new DataPlaneHeat(10_000);
  await read(0);
  await read(1);
  await read(1);
  await heat.sample(chain.nodes, 1_000);
  assert.equal(heat.sum(keyId), 3);
  await read(0);
  const w = await transport.request(chain.nodes[0]!.endpoint, craq.craqWriteRequest({ key: '/h/a', reqId: transport.nextRequestId(), value: Buffer.from('w') }), 500);
  assert.equal(w?.status, craq.CraqStatus.OK);
  await heat.sample(chain.nodes, 5_000);
  assert.equal(heat.sum(keyId), 4, 'only the increase is added');
  assert.equal(heat.sum(keyId, 'writes'), 1, 'the write counted once (the head), not at every node');
  await heat.sample(chain.nodes, 11_500);
  assert.equal(heat.sum(keyId), 1, 'the first sample left the 10 s window');
  await chain.nodes[0]!.remove(keyId);
  await chain.nodes[0]!.install({ keyId, keyCheck: craq.craqKeyCheck('/h/a'), version: 9n, value: null }, true); // counters start again
  await read(0);
  await heat.sample(chain.nodes, 12_000);
  assert.equal(heat.sum(keyId), 2, 'a counter that went back counts from 0');
});

test('cumulative counter sets in a real Redis (as sidecar-offload keeps them): increases over the window, the first round a baseline', async (t) => {
  const server = await TestRedis.start();
  const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  t.onTestFinished(async () => {
    redis.disconnect();
    await server.stop();
  });
  await redis.connect();
  await redis.zincrby('reads', 500, '/old'); // counted before the scheduler started
  const heat = new CumulativeHeat(10_000);
  await heat.sample(redis, ['reads', 'reads2'], 100, 1_000);
  assert.deepEqual([...heat.keys()], [], 'the first round is the baseline');
  await redis.zincrby('reads', 7, '/old');
  await redis.zincrby('reads', 3, '/new');
  await redis.zincrby('reads2', 2, '/new');
  await heat.sample(redis, ['reads', 'reads2'], 100, 2_000);
  assert.deepEqual([heat.sum('/old'), heat.sum('/new')], [7, 5], 'increases, summed over the sets');
  await redis.zincrby('reads', 1, '/new');
  await heat.sample(redis, ['reads', 'reads2'], 100, 8_000);
  assert.equal(heat.sum('/new'), 6);
  await heat.sample(redis, ['reads', 'reads2'], 100, 12_500);
  assert.deepEqual([heat.sum('/old'), heat.sum('/new')], [0, 1], 'the 2 s sample left the 10 s window');
});
