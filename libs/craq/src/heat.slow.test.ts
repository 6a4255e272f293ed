// Heat reports in a real redis-server started by the test.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { Redis } from 'ioredis';
import { TestRedis } from '@netaccel/netlab';
import { HeatReporter, heatBucketKey, readHeat } from './heat.js';

describe('HeatReporter and readHeat (Redis sorted sets)', () => {
  let redis: TestRedis;
  let conn: Redis;

  beforeAll(async () => {
    redis = await TestRedis.start();
    conn = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await conn.connect();
  });

  afterAll(async () => {
    conn?.disconnect();
    await redis?.stop();
  });

  test('counts go to the current bucket with an expiry; the window sums buckets, hottest first', async (t) => {
    let now = 1_000_000;
    const a = new HeatReporter(conn, { bucketMs: 1000, retainMs: 60_000, flushMs: 0, now: () => now });
    const b = new HeatReporter(conn, { bucketMs: 1000, retainMs: 60_000, flushMs: 0, now: () => now });
    t.onTestFinished(async () => {
      await Promise.all([a.close(), b.close()]);
    });
    for (let i = 0; i < 5; i++) a.record('/k/hot');
    a.record('/k/warm', 2);
    assert.equal(await a.flush(), 2);
    const ttl = await conn.pttl(heatBucketKey(now, 1000));
    assert.ok(ttl > 0 && ttl <= 60_000, `expiry set (${ttl} ms)`);
    now += 1000; // next bucket, another reporter (another client or proxy)
    b.record('/k/warm', 4);
    b.record('/k/cold');
    await b.flush();
    assert.deepEqual(await readHeat(conn, { now, bucketMs: 1000, buckets: 2, limit: 10 }), [['/k/warm', 6], ['/k/hot', 5], ['/k/cold', 1]]);
    assert.deepEqual(await readHeat(conn, { now, bucketMs: 1000, buckets: 1, limit: 10 }), [['/k/warm', 4], ['/k/cold', 1]], 'only the current bucket');
    assert.deepEqual(await readHeat(conn, { now, bucketMs: 1000, buckets: 2, limit: 1 }), [['/k/warm', 6]], 'the limit');
    assert.equal(await a.flush(), 0, 'nothing new');
  });

  test('a failed flush keeps the counts for the next one', async (t) => {
    const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    t.onTestFinished(() => dead.disconnect());
    const r = new HeatReporter(dead, { flushMs: 0 });
    r.record('/k/x', 3);
    await assert.rejects(r.flush());
    r.record('/k/x');
    await assert.rejects(r.flush());
    assert.equal(r.pending('/k/x'), 4, 'kept: 3 + 1');
  });

  test('bad options are refused with the field', () => {
    assert.throws(() => new HeatReporter(conn, { bucketMs: 0 }), { code: 'NA_ERR_CRAQCLIENT_OPTIONS_INVALID', message: /bucketMs/ });
  });
});
