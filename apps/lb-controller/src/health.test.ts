import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { HealthChecker, checkHttp, checkTcp } from './health.js';
import type { HealthTarget } from './health.js';
import { leastConnWeights, weightsMoved } from './least-conn.js';

function listen(s: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
}

test('TCP and HTTP checks: success, refused, wrong status, timeout', async () => {
  let status = 200;
  const http = createServer((req, res) => {
    if (req.url === '/slow') return; // never answers
    res.writeHead(req.url === '/healthz' ? status : 404).end('x');
  });
  const port = await listen(http);
  try {
    assert.deepEqual(await checkTcp('127.0.0.1', port, 500), { ok: true });
    assert.deepEqual(await checkHttp('127.0.0.1', port, '/healthz', 200, 500), { ok: true });
    status = 503;
    assert.deepEqual(await checkHttp('127.0.0.1', port, '/healthz', 200, 500), { ok: false, error: 'HTTP 503 (expected 200)' });
    const t0 = performance.now();
    assert.deepEqual(await checkHttp('127.0.0.1', port, '/slow', 200, 150), { ok: false, error: 'HTTP timeout after 150 ms' });
    assert.ok(performance.now() - t0 < 5000, 'the timeout ends the check (a hang guard, not a budget)');
  } finally {
    http.closeAllConnections();
    http.close();
  }
  // a port nobody listens on: take one, then close it
  const tcp = createTcpServer();
  const closed = await listen(tcp);
  await new Promise<void>((r) => tcp.close(() => r()));
  const r = await checkTcp('127.0.0.1', closed, 500);
  assert.deepEqual(r, { ok: false, error: 'connect ECONNREFUSED' });
});

test('rise and fall: the first result decides, then fall failures / rise successes flip the state', async () => {
  let status = 200;
  const http = createServer((_req, res) => res.writeHead(status).end());
  const port = await listen(http);
  const changes: { healthy: boolean; at: number; error: string }[] = [];
  const checker = new HealthChecker({ onChange: (_k, healthy, error) => changes.push({ healthy, at: performance.now(), error }) });
  const target: HealthTarget = {
    key: 'svc|127.0.0.1:0',
    address: '127.0.0.1',
    port,
    spec: { type: 'http', path: '/', expectStatus: 200, intervalMs: 50, timeoutMs: 2000, rise: 3, fall: 2 },
  };
  const until = async (n: number) => {
    const end = Date.now() + 5000;
    while (changes.filter((c) => c.error === '' || !c.healthy).length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  };
  try {
    checker.setTargets([target]);
    await until(1);
    assert.equal(changes[0]!.healthy, true);
    const failAt = performance.now();
    status = 500;
    await until(2);
    const down = changes.find((c) => !c.healthy)!;
    assert.equal(down.error, 'HTTP 500 (expected 200)');
    // fall = 2 checks, 50 ms apart: two failures cannot both come sooner than one interval (less the
    // few ms of a check already in flight when the status changed)
    // (a lower bound holds on a loaded machine; an upper bound would not)
    assert.ok(down.at - failAt >= 40, `${(down.at - failAt).toFixed(0)} ms`);
    assert.equal(checker.state(target.key), false);
    const upAt = performance.now();
    status = 200;
    await until(3);
    const up = changes.at(-1)!;
    assert.equal(up.healthy, true);
    assert.ok(up.at - upAt >= 50 * 2, 'rise = 3 needs three successes');
    checker.setTargets([]);
    assert.equal(checker.state(target.key), undefined);
  } finally {
    checker.close();
    http.close();
  }
});

test('a backend the controller holds healthy (adopted after a restart) starts healthy: it takes `fall` failures to turn, an unknown one the first', async () => {
  const tcp = createTcpServer();
  const closed = await listen(tcp);
  await new Promise<void>((r) => tcp.close(() => r()));
  const events: string[] = [];
  const checker = new HealthChecker({
    onChange: (k, healthy) => events.push(`${k} ${healthy ? 'healthy' : 'unhealthy'}`),
    onResult: (k, r) => events.push(`${k} ${r.ok ? 'ok' : 'failed'}`),
  });
  const spec = { type: 'tcp' as const, path: '/', expectStatus: 200, intervalMs: 10, timeoutMs: 200, rise: 2, fall: 3 };
  try {
    checker.setTargets([{ key: 'held', address: '127.0.0.1', port: closed, spec }, { key: 'new', address: '127.0.0.1', port: closed, spec }], (k) => k === 'held');
    assert.equal(checker.state('held'), true);
    assert.equal(checker.state('new'), undefined);
    const end = Date.now() + 10_000;
    while (!events.includes('held unhealthy') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    // up to the turn: checks go on every 10 ms, so more failures may follow it before this wakes
    const all = events.filter((e) => e.startsWith('held '));
    const held = all.slice(0, all.indexOf('held unhealthy') + 1);
    assert.deepEqual(held, ['held failed', 'held failed', 'held failed', 'held unhealthy']);
    const fresh = events.filter((e) => e.startsWith('new '));
    assert.deepEqual(fresh.slice(0, 2), ['new failed', 'new unhealthy'], 'an unknown backend: the first result decides');
  } finally {
    checker.close();
  }
});

test('least connection: loaded backends get less of the new flows, bounded by the skew; hysteresis', () => {
  const w = leastConnWeights([
    { key: 'a', weight: 1, active: 100 },
    { key: 'b', weight: 1, active: 10 },
    { key: 'c', weight: 1, active: 10 },
    { key: 'd', weight: 0, active: 0 },
  ]);
  assert.equal(w.has('d'), false);
  assert.equal(w.get('b'), 1000);
  assert.equal(w.get('b'), w.get('c'));
  assert.ok(w.get('a')! < 300 && w.get('a')! >= 1000 / 8, String(w.get('a')));
  // equal load per weight: weights stay proportional
  const even = leastConnWeights([{ key: 'a', weight: 2, active: 20 }, { key: 'b', weight: 1, active: 10 }]);
  assert.deepEqual([...even], [['a', 1000], ['b', 500]]);
  // no traffic: the configured weights
  assert.deepEqual([...leastConnWeights([{ key: 'a', weight: 3, active: 0 }, { key: 'b', weight: 1, active: 0 }])], [['a', 1000], ['b', 333]]);
  assert.equal(weightsMoved(new Map([['a', 1000]]), new Map([['a', 950]])), false);
  assert.equal(weightsMoved(new Map([['a', 1000]]), new Map([['a', 850]])), true);
  assert.equal(weightsMoved(undefined, new Map([['a', 1]])), true);
});
