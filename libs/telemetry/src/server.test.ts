// The telemetry server's routes, through fastify's inject (no sockets). Real listening and
// graceful close are in server-listen.test.ts.
import assert from 'node:assert/strict';
import { afterAll, describe, it } from 'vitest';
import { defineError } from '@netaccel/errors';
import { createLogCapture } from './log-capture.js';
import { createLogger } from './logger.js';
import type { LogLevel } from './logger.js';
import { createMetrics } from './metrics.js';
import { buildTelemetryServer } from './server.js';
import type { TelemetryServer, TelemetryServerOptions } from './server.js';

const E_BUSY = defineError('NA_ERR_TESTSRV_BUSY', 'table %s is full', 'resource-exhausted');

const servers: TelemetryServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function setup(extra: Partial<TelemetryServerOptions> = {}, level: LogLevel = 'info') {
  const capture = createLogCapture();
  const log = createLogger({ name: 'lbd', level, destination: capture.stream });
  const metrics = createMetrics({ app: 'lbd', version: '0.1.0' });
  const server = buildTelemetryServer({ log, metrics, listen: { host: '127.0.0.1', port: 0 }, ...extra });
  servers.push(server);
  return { capture, metrics, server, app: server.app };
}

describe('GET /healthz', () => {
  it('answers 200 {"status":"ok"} as JSON', async () => {
    const { app } = setup();
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('answers HEAD too', async () => {
    const { app } = setup();
    assert.equal((await app.inject({ method: 'HEAD', url: '/healthz' })).statusCode, 200);
  });
});

describe('GET /readyz', () => {
  it('flips 200 → 503 → 200 as checks are added, fail and are removed', async () => {
    let peersUp = true;
    const { app, server } = setup({
      readiness: { bgp: () => (peersUp ? true : { ready: false, message: '0 of 2 peers established' }) },
    });
    let res = await app.inject('/readyz');
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'ready');
    assert.deepEqual(
      res.json().checks.map((c: { name: string; ready: boolean }) => [c.name, c.ready]),
      [['bgp', true]],
    );

    peersUp = false;
    res = await app.inject('/readyz');
    assert.equal(res.statusCode, 503);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.equal(res.json().status, 'not ready');
    assert.deepEqual(res.json().failing, [{ name: 'bgp', message: '0 of 2 peers established' }]);

    peersUp = true;
    const removeMaps = server.readiness.add('maps', () => {
      throw E_BUSY('lb_vips');
    });
    res = await app.inject('/readyz');
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json().failing, [{ name: 'maps', message: 'table lb_vips is full', code: 'NA_ERR_TESTSRV_BUSY' }]);

    removeMaps();
    res = await app.inject('/readyz');
    assert.equal(res.statusCode, 200);
  });

  it('times out a hanging check and answers 503 within the timeout', async () => {
    const { app, server } = setup({ readinessTimeoutMs: 40 });
    server.readiness.add('stuck', () => new Promise<boolean>(() => undefined));
    const started = performance.now();
    const res = await app.inject('/readyz');
    assert.ok(performance.now() - started < 1_000);
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json().failing, [
      { name: 'stuck', message: 'readiness check stuck did not answer within 40 ms', code: 'NA_ERR_TELEMETRY_READINESS_CHECK_TIMEOUT' },
    ]);
  });
});

describe('GET /metrics', () => {
  it('answers Prometheus text with process metrics and a custom counter after increment', async () => {
    const { app, metrics } = setup();
    const sessions = metrics.counter({ name: 'bgp_updates_total', help: 'BGP updates', labelNames: ['peer'] });
    let res = await app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], metrics.contentType);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4; charset=utf-8$/);
    assert.match(res.body, /^process_cpu_user_seconds_total \d/m);
    assert.match(res.body, /^netaccel_build_info\{app="lbd",version="0\.1\.0",node="v\d+/m);
    assert.doesNotMatch(res.body, /^netaccel_bgp_updates_total\{peer="10\.0\.0\.1"\}/m);
    sessions.inc({ peer: '10.0.0.1' }, 2);
    res = await app.inject('/metrics');
    assert.match(res.body, /^netaccel_bgp_updates_total\{peer="10\.0\.0\.1"\} 2$/m);
  });

  it('counts requests by route pattern and status, and unmatched URLs under one label', async () => {
    const { app } = setup();
    app.get('/v1/peers/:id', async () => ({ ok: true }));
    await app.inject('/healthz');
    await app.inject('/healthz');
    await app.inject('/v1/peers/a');
    await app.inject('/v1/peers/b');
    await app.inject('/nope/1');
    await app.inject('/nope/2');
    const text = (await app.inject('/metrics')).body;
    assert.match(text, /^netaccel_http_requests_total\{route="\/healthz",status="200"\} 2$/m);
    assert.match(text, /^netaccel_http_requests_total\{route="\/v1\/peers\/:id",status="200"\} 2$/m);
    assert.match(text, /^netaccel_http_requests_total\{route="unmatched",status="404"\} 2$/m);
    assert.match(text, /^netaccel_http_request_duration_seconds_count\{route="\/healthz"\} 2$/m);
  });
});

describe('GET /v1/status', () => {
  it('answers the status provider’s object as JSON', async () => {
    const { app } = setup({ status: async () => ({ vips: 3, peers: [{ addr: '10.0.0.1', state: 'established' }] }) });
    const res = await app.inject('/v1/status');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.deepEqual(res.json(), { vips: 3, peers: [{ addr: '10.0.0.1', state: 'established' }] });
  });

  it('answers app, version, pid and uptime without a provider', async () => {
    const res = await setup().app.inject('/v1/status');
    const body = res.json();
    assert.equal(body.app, 'lbd');
    assert.equal(body.version, '0.1.0');
    assert.equal(body.pid, process.pid);
    assert.equal(typeof body.uptimeSeconds, 'number');
  });

  it('answers 500 with a JSON error body when the provider throws, and logs the error', async () => {
    const { app, capture } = setup({
      status: () => {
        throw new Error('bpf map lookup failed');
      },
    });
    const res = await app.inject('/v1/status');
    assert.equal(res.statusCode, 500);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.deepEqual(res.json(), {
      statusCode: 500,
      code: 'NA_ERR_TELEMETRY_STATUS_FAILED',
      error: 'Internal Server Error',
      message: 'status provider failed: bpf map lookup failed',
    });
    const [logged] = capture.find({ msg: 'request failed' });
    assert.equal(logged?.level, 'error');
    assert.equal(logged?.component, 'telemetry-http');
    const err = logged?.err as { code: string; cause: { message: string } };
    assert.equal(err.code, 'NA_ERR_TELEMETRY_STATUS_FAILED');
    assert.equal(err.cause.message, 'bpf map lookup failed');
  });

  it('answers 500 when the provider rejects or returns something other than an object', async () => {
    const rejecting = setup({ status: () => Promise.reject(new Error('nope')) }).app;
    assert.equal((await rejecting.inject('/v1/status')).json().message, 'status provider failed: nope');
    const array = setup({ status: () => [1, 2] }).app;
    const res = await array.inject('/v1/status');
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().message, 'status provider failed: expected an object, got an array of 2');
  });

  it('answers 504 when the provider does not answer in time', async () => {
    const { app } = setup({ status: () => new Promise<object>(() => undefined), statusTimeoutMs: 30 });
    const res = await app.inject('/v1/status');
    assert.equal(res.statusCode, 504);
    assert.equal(res.json().code, 'NA_ERR_TELEMETRY_STATUS_TIMEOUT');
  });
});

describe('errors and logging', () => {
  it('answers unknown routes with a 404 JSON body', async () => {
    const res = await setup().app.inject({ method: 'GET', url: '/v2/nothing?x=1' });
    assert.equal(res.statusCode, 404);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.deepEqual(res.json(), {
      statusCode: 404,
      code: 'NA_ERR_TELEMETRY_ROUTE_NOT_FOUND',
      error: 'Not Found',
      message: 'route GET /v2/nothing not found',
    });
  });

  it('maps the kind of a NetaccelError thrown by a daemon route to its HTTP status', async () => {
    const { app } = setup();
    app.get('/v1/full', async () => {
      throw E_BUSY.with({ details: { table: 'lb_vips' } }, 'lb_vips');
    });
    const res = await app.inject('/v1/full');
    assert.equal(res.statusCode, 429);
    assert.deepEqual(res.json(), {
      statusCode: 429,
      code: 'NA_ERR_TESTSRV_BUSY',
      error: 'Too Many Requests',
      message: 'table lb_vips is full',
      details: { table: 'lb_vips' },
    });
  });

  it('does not leak the message of an unexpected error', async () => {
    const { app } = setup();
    app.get('/v1/bug', async () => {
      throw new Error('secret internals');
    });
    const res = await app.inject('/v1/bug');
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), {
      statusCode: 500,
      code: 'NA_ERR_TELEMETRY_REQUEST_FAILED',
      error: 'Internal Server Error',
      message: 'internal error while handling GET /v1/bug',
    });
  });

  it('logs requests at debug level only, through the telemetry-http component', async () => {
    const quiet = setup({}, 'info');
    await quiet.app.inject('/healthz');
    assert.deepEqual(quiet.capture.find({ msg: 'request completed' }), []);

    const verbose = setup({}, 'debug');
    await verbose.app.inject('/healthz');
    const [completed] = verbose.capture.find({ msg: 'request completed' });
    assert.equal(completed?.level, 'debug');
    assert.equal(completed?.component, 'telemetry-http');
    assert.equal((completed?.res as { statusCode: number }).statusCode, 200);
    assert.equal(verbose.capture.find({ msg: 'incoming request' })[0]?.level, 'debug');
  });
});

describe('buildTelemetryServer options', () => {
  const log = createLogger({ name: 't', destination: createLogCapture().stream });
  const metrics = createMetrics({ app: 't', processMetrics: false });

  it('rejects a bad listen address with NA_ERR_TELEMETRY_LISTEN_ADDRESS_INVALID', () => {
    const code = 'NA_ERR_TELEMETRY_LISTEN_ADDRESS_INVALID';
    const build = (listen: unknown) => () => buildTelemetryServer({ log, metrics, listen: listen as never });
    assert.throws(build({ host: '127.0.0.1', port: 70000 }), {
      code,
      message: 'listen.port: expected an integer in 0..65535, got 70000',
    });
    assert.throws(build({ host: 'bad host!', port: 1 }), { code, message: /^listen\.host: expected an IP address or a host name/ });
    assert.throws(build({ path: 'relative.sock' }), { code, message: 'listen.path: expected an absolute path, got "relative.sock"' });
    assert.throws(build({ path: `/${'x'.repeat(200)}` }), { code, message: 'listen.path: expected at most 107 bytes, got 201' });
    assert.throws(build({ path: '/run/x.sock', port: 1 }), { code, message: 'listen: expected either { host, port } or { path }, got both' });
    assert.throws(build({ host: '::1', port: 1, tls: true }), { code, message: /^listen\.tls: unknown option/ });
    assert.throws(build(undefined), { code, message: 'listen: expected an object, got undefined' });
  });

  it('rejects other bad options with NA_ERR_TELEMETRY_OPTIONS_INVALID', () => {
    const code = 'NA_ERR_TELEMETRY_OPTIONS_INVALID';
    const listen = { host: '127.0.0.1', port: 0 };
    assert.throws(() => buildTelemetryServer({ log: {} as never, metrics, listen }), { code, message: /^log: / });
    assert.throws(() => buildTelemetryServer({ log, metrics: {} as never, listen }), { code, message: /^metrics: / });
    assert.throws(() => buildTelemetryServer({ log, metrics, listen, closeTimeoutMs: 0 }), {
      code,
      message: 'closeTimeoutMs: expected an integer in 1..600000, got 0',
    });
    assert.throws(() => buildTelemetryServer({ log, metrics, listen, status: {} as never }), { code, message: /^status: / });
    assert.throws(() => buildTelemetryServer({ log, metrics, listen, port: 1 } as never), { code, message: /^port: unknown option/ });
  });

  it('freezes the resolved options', () => {
    const server = buildTelemetryServer({ log, metrics, listen: { host: 'localhost', port: 0 } });
    servers.push(server);
    assert.ok(Object.isFrozen(server.options));
    assert.deepEqual(server.options, {
      listen: { host: 'localhost', port: 0 },
      readinessTimeoutMs: 1000,
      statusTimeoutMs: 5000,
      closeTimeoutMs: 10000,
    });
  });
});
