// The telemetry server on real sockets: loopback TCP on port 0 and Unix sockets in a temporary
// folder. Every server is closed and every folder removed, even when a test fails.
import assert from 'node:assert/strict';
import { linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { createLogCapture } from './log-capture.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { buildTelemetryServer } from './server.js';
import type { TelemetryServer, TelemetryServerOptions } from './server.js';

const servers: TelemetryServer[] = [];
const netServers: NetServer[] = [];
const dir = mkdtempSync(join(tmpdir(), 'netaccel-telemetry-'));
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(netServers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

function setup(extra: Partial<TelemetryServerOptions> = {}) {
  const capture = createLogCapture();
  const log = createLogger({ name: 'lbd', destination: capture.stream });
  const metrics = createMetrics({ app: 'lbd', processMetrics: false });
  const server = buildTelemetryServer({ log, metrics, listen: { host: '127.0.0.1', port: 0 }, ...extra });
  servers.push(server);
  return { capture, server };
}

/** GET over a Unix socket (global fetch cannot). */
function getUnix(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('listen', () => {
  it('binds port 0 on loopback, reports the address and serves fetch', async () => {
    const { server, capture } = setup();
    const addr = await server.listen();
    assert.equal(addr.kind, 'tcp');
    if (addr.kind !== 'tcp') return;
    assert.equal(addr.host, '127.0.0.1');
    assert.ok(addr.port > 0);
    assert.equal(addr.url, `http://127.0.0.1:${addr.port}`);
    assert.deepEqual(server.address(), addr);

    const health = await fetch(`${addr.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const metrics = await fetch(`${addr.url}/metrics`);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await metrics.text(), /^netaccel_http_requests_total\{route="\/healthz",status="200"\} 1$/m);
    assert.equal(capture.find({ component: 'telemetry-http', msg: `telemetry server listening at ${addr.url}` }).length, 1);

    const result = await server.close();
    assert.equal(result.forced, false);
    assert.equal(server.address(), undefined);
  });

  it('fails with NA_ERR_TELEMETRY_LISTEN_ADDRESS_IN_USE when the port is taken, and can still close', async () => {
    const taken = createServer();
    netServers.push(taken);
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const { server } = setup({ listen: { host: '127.0.0.1', port } });
    await assert.rejects(server.listen(), (err: Error & { code?: string; kind?: string; details?: object; cause?: unknown }) => {
      assert.equal(err.code, 'NA_ERR_TELEMETRY_LISTEN_ADDRESS_IN_USE');
      assert.equal(err.kind, 'unavailable');
      assert.equal(err.message, `cannot listen on 127.0.0.1:${port}: address already in use`);
      assert.deepEqual(err.details, { address: `127.0.0.1:${port}`, errno: 'EADDRINUSE' });
      assert.equal((err.cause as { code?: string }).code, 'EADDRINUSE');
      return true;
    });
    assert.equal(server.address(), undefined);
    assert.equal((await server.close()).forced, false);
  });

  it('can listen again after a failed listen once the address is free', async () => {
    const taken = createServer();
    netServers.push(taken);
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const { server } = setup({ listen: { host: '127.0.0.1', port } });
    await assert.rejects(server.listen(), { code: 'NA_ERR_TELEMETRY_LISTEN_ADDRESS_IN_USE' });
    await new Promise((resolve) => taken.close(resolve));
    const addr = await server.listen();
    assert.equal(addr.kind === 'tcp' && addr.port, port);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    await server.close();
  });

  it('refuses to listen twice or after close', async () => {
    const { server } = setup();
    await server.listen();
    await assert.rejects(server.listen(), { code: 'NA_ERR_TELEMETRY_ALREADY_LISTENING' });
    await server.close();
    await assert.rejects(server.listen(), { code: 'NA_ERR_TELEMETRY_SERVER_CLOSED' });
  });

  it('serves a Unix socket, replaces a stale socket file and refuses a live one', async () => {
    const path = join(dir, 'telemetry.sock');
    // A stale socket: a hard link to a socket whose server has gone.
    const old = createServer();
    const oldPath = join(dir, 'old.sock');
    await new Promise<void>((resolve) => old.listen(oldPath, resolve));
    linkSync(oldPath, path);
    await new Promise((resolve) => old.close(resolve));

    const first = setup({ listen: { path } }).server;
    assert.deepEqual(await first.listen(), { kind: 'unix', path });
    const res = await getUnix(path, '/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { status: 'ok' });

    const second = setup({ listen: { path } }).server;
    await assert.rejects(second.listen(), {
      code: 'NA_ERR_TELEMETRY_LISTEN_ADDRESS_IN_USE',
      message: `cannot listen on ${path}: address already in use`,
    });
    await first.close();
    await second.close();
  });

  it('refuses a Unix socket path that is a regular file', async () => {
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, 'data');
    const { server } = setup({ listen: { path } });
    await assert.rejects(server.listen(), {
      code: 'NA_ERR_TELEMETRY_LISTEN_FAILED',
      message: `cannot listen on ${path}: the path exists and is not a socket`,
    });
    await server.close();
  });
});

describe('close', () => {
  it('lets an in-flight request finish, then refuses new connections', async () => {
    const { server, capture } = setup({ closeTimeoutMs: 5_000 });
    const entered = deferred();
    const release = deferred();
    server.app.get('/slow', async () => {
      entered.resolve();
      await release.promise;
      return { done: true };
    });
    const addr = await server.listen();
    assert.equal(addr.kind, 'tcp');
    const url = addr.kind === 'tcp' ? addr.url : '';

    const slow = fetch(`${url}/slow`);
    await entered.promise;
    let closed = false;
    const closing = server.close().then((r) => {
      closed = true;
      return r;
    });
    // Give close() time to stop the listener; the request is still running.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(closed, false, 'close() waits for the in-flight request');
    await assert.rejects(fetch(`${url}/healthz`), TypeError, 'no new connections while closing');

    release.resolve();
    const res = await slow;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { done: true });
    const result = await closing;
    assert.equal(result.forced, false);
    assert.ok(result.durationMs < 2_000, `the keep-alive connection ended after its answer (${result.durationMs} ms)`);
    await assert.rejects(fetch(`${url}/healthz`), TypeError, 'no new connections after close');
    assert.deepEqual(capture.find({ component: 'telemetry', msg: 'telemetry server closed' }).map((r) => r.forced), [false]);
  });

  it('cuts a request that outlives closeTimeoutMs and says so', async () => {
    const { server, capture } = setup({ closeTimeoutMs: 50 });
    const entered = deferred();
    const never = deferred();
    server.app.get('/stuck', async () => {
      entered.resolve();
      await never.promise;
      return {};
    });
    const addr = await server.listen();
    const stuck = fetch(`${addr.kind === 'tcp' ? addr.url : ''}/stuck`);
    await entered.promise;
    const result = await server.close();
    assert.equal(result.forced, true);
    assert.ok(result.durationMs >= 45);
    await assert.rejects(stuck, TypeError, 'the client sees its connection cut');
    const [warning] = capture.find({ msg: 'cutting connections with requests still in flight' });
    assert.equal(warning?.level, 'warn');
    assert.equal((warning?.err as { code: string }).code, 'NA_ERR_TELEMETRY_CLOSE_TIMEOUT');
    never.resolve();
  });

  it('returns the same result when called twice, and works without listen', async () => {
    const { server } = setup();
    const a = server.close();
    const b = server.close();
    assert.equal(a, b);
    assert.equal((await a).forced, false);
  });
});
