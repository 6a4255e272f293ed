/**
 * Slow: loopback-services.ts with the real etcd and redis-server: a free port can be bound, etcd
 * answers on its client URL, keeps a key across restart() and serves metrics, Redis stores and
 * returns a value, and stop() leaves no process listening and no folder.
 */
import { test } from 'vitest';
import type { TestContext } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { TestEtcd, TestRedis, freePort } from './loopback-services.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** etcd's v3 JSON gateway. */
async function etcdCall(url: string, path: string, body: object): Promise<Record<string, unknown>> {
  const r = await fetch(`${url}/v3/kv/${path}`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()) as Record<string, unknown>;
}

async function etcdGet(url: string, key: string): Promise<string | undefined> {
  const kvs = (await etcdCall(url, 'range', { key: b64(key) })).kvs as { value: string }[] | undefined;
  return kvs?.[0] && Buffer.from(kvs[0].value, 'base64').toString();
}

/** One RESP exchange with a Redis on loopback: the inline command's raw reply. */
function redisCommand(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('error', reject);
    s.once('connect', () => s.write(`${line}\r\n`));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString());
    });
  });
}

/** Listens on 127.0.0.1:`port` (EADDRINUSE while anything else does) until the test ends. */
async function listenOn(t: TestContext, port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  t.onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  assert.equal((server.address() as { port: number }).port, port);
}

test('freePort: a port on 127.0.0.1 that a server can listen on', async (t) => {
  const port = await freePort();
  assert.ok(port > 0 && port < 65536, String(port));
  await listenOn(t, port);
});

test('TestEtcd: serves its client URL, keeps a key across restart(), metrics; stop() removes it all', async (t) => {
  const etcd = await TestEtcd.start();
  t.onTestFinished(() => etcd.stop());
  const port = Number(new URL(etcd.clientUrl).port);
  await etcdCall(etcd.clientUrl, 'put', { key: b64('/qdy/k'), value: b64('v1') });
  assert.equal(await etcdGet(etcd.clientUrl, '/qdy/k'), 'v1');

  await etcd.restart(100);
  assert.equal(await etcdGet(etcd.clientUrl, '/qdy/k'), 'v1', 'the same data after restart');
  const metrics = await (await fetch(etcd.metricsUrl)).text();
  assert.match(metrics, /^etcd_server_has_leader 1$/m);

  await assert.rejects(listenOn(t, port), { code: 'EADDRINUSE' });
  await etcd.stop();
  assert.equal(existsSync(etcd.dir), false);
  await listenOn(t, port); // etcd's client port is free again
});

test('TestRedis: SET and GET on its port; stop() removes it all', async (t) => {
  const redis = await TestRedis.start();
  t.onTestFinished(() => redis.stop());
  assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
  assert.equal(await redisCommand(redis.port, 'SET qdy:k hello'), '+OK\r\n');
  assert.equal(await redisCommand(redis.port, 'GET qdy:k'), '$5\r\nhello\r\n');

  await assert.rejects(listenOn(t, redis.port), { code: 'EADDRINUSE' });
  await redis.stop();
  assert.equal(existsSync(redis.dir), false);
  await listenOn(t, redis.port); // free again
});
