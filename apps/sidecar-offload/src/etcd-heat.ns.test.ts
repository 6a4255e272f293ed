/**
 * etcd key counting against a real etcd and a real Redis (both started here on loopback, free
 * ports, temporary folders): an etcd3 client talks to etcd through the sidecar; the counts in
 * Redis equal the Range and Put calls the client made, key by key, including a Put whose value
 * spans many HTTP/2 frames and binary keys.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import type { TestProcess, TestSidecar } from './testing/index.js';
import { startEtcd, startRedis, startTestSidecar } from './testing/index.js';

describe('etcd key access counting through the sidecar (real etcd, real Redis)', () => {
  let etcd: TestProcess;
  let redisServer: TestProcess;
  let sidecar: TestSidecar;
  let client: Etcd3;
  let redis: Redis;

  beforeAll(async () => {
    etcd = await startEtcd();
    redisServer = await startRedis();
    sidecar = await startTestSidecar(`
sidecar:
  listeners:
    - name: etcd
      direction: outbound
      listen: 127.0.0.1:0
      routes: [{ prefix: /, cluster: etcd }]
      policy:
        rules: [{ method: /etcdserverpb.KV/Compact, action: deny }]
  clusters:
    - { name: etcd, endpoints: ['${etcd.address}'] }
etcdHeat:
  enabled: true
  redis: ${redisServer.url}
  flushInterval: 1m
`);
    client = new Etcd3({ hosts: `http://${sidecar.address()}` });
    redis = new Redis(redisServer.url);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    redis?.disconnect();
    await sidecar?.close();
    await redisServer?.stop();
    await etcd?.stop();
  });

  test('per-key Range and Put counts in netaccel:craq:heat:reads / :writes equal the calls the client made', async () => {
    const expectedReads = new Map<string, number>();
    const expectedWrites = new Map<string, number>();
    const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
    for (let i = 0; i < 5; i++) {
      await client.put(`/hot/${i % 2}`).value(`v${i}`);
      bump(expectedWrites, `/hot/${i % 2}`);
    }
    for (let i = 0; i < 12; i++) {
      const k = `/hot/${i % 3}`;
      const v = await client.get(k).string();
      assert.equal(v, i % 3 === 2 ? null : `v${i % 3 === 0 ? 4 : 3}`);
      bump(expectedReads, k);
    }
    // a value of 1 MiB: the Put message spans many DATA frames; the key is found in its first bytes
    const big = Buffer.alloc(1 << 20, 0x42);
    await client.put('/big').value(big);
    bump(expectedWrites, '/big');
    assert.equal((await client.get('/big').buffer())!.length, big.length);
    bump(expectedReads, '/big');
    // a binary key
    const bin = Buffer.from([0x00, 0xff, 0x10, 0x80]);
    await client.put(bin).value('b');
    bump(expectedWrites, bin.toString('latin1'));
    // a prefix read (Range with range_end) counts its start key
    const all = await client.getAll().prefix('/hot/').keys();
    assert.deepEqual(all.sort(), ['/hot/0', '/hot/1']);
    bump(expectedReads, '/hot/');

    await sidecar.proxy.heat!.flush();
    const scores = async (set: string) => {
      const flat = await redis.zrangeBuffer(set, 0, -1, 'WITHSCORES');
      const m = new Map<string, number>();
      for (let i = 0; i < flat.length; i += 2) m.set(flat[i]!.toString('latin1'), Number(flat[i + 1]!.toString()));
      return m;
    };
    assert.deepEqual(await scores('netaccel:craq:heat:reads'), expectedReads);
    assert.deepEqual(await scores('netaccel:craq:heat:writes'), expectedWrites);

    // the access log agrees: one line per call, each OK
    const lines = sidecar.logs.find({ msg: 'grpc call' }) as unknown as { method: string; grpcStatus: number }[];
    const ranges = lines.filter((l) => l.method === '/etcdserverpb.KV/Range');
    const puts = lines.filter((l) => l.method === '/etcdserverpb.KV/Put');
    assert.equal(ranges.length, [...expectedReads.values()].reduce((a, b) => a + b, 0));
    assert.equal(puts.length, [...expectedWrites.values()].reduce((a, b) => a + b, 0));
    assert.ok([...ranges, ...puts].every((l) => l.grpcStatus === 0));
  });

  test('counts accumulate across flushes (ZINCRBY); a denied etcd method is not forwarded', async () => {
    const before = Number(await redis.zscore('netaccel:craq:heat:reads', '/hot/0'));
    await client.get('/hot/0').string();
    await client.get('/hot/0').string();
    await sidecar.proxy.heat!.flush();
    assert.equal(Number(await redis.zscore('netaccel:craq:heat:reads', '/hot/0')), before + 2);
    await assert.rejects(client.kv.compact({ revision: 1 }), /denied by the policy of listener etcd/);
  });
});
