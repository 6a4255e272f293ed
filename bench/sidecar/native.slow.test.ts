// The sidecar benchmark's native endpoints (native/grpc-load.c, native/grpc-echo.c on libnghttp2):
// grpc-load against grpc-echo directly and through the sidecar's user-space proxy (every call
// counted, echoed bytes checked), grpc-echo answering a grpc-js client, a malformed request
// refused with INVALID_ARGUMENT, and grpc-load counting calls whose answer is not the echo as
// errors. Slow layer: builds both with gcc, runs them as children.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { echoClient, grpcFrame, startRawUpstream, startTestSidecar, unaryCall } from '@netaccel/app-sidecar-offload/testing';
import { buildNative, runNativeLoad, startNativeEcho } from './native.js';

const tools = buildNative();

test('grpc-load against grpc-echo directly and through the user-space proxy: every call answered with its own bytes, counted by the proxy', async (t) => {
  const echo = await startNativeEcho(tools);
  t.onTestFinished(() => echo.stop());
  const direct = await runNativeLoad(tools, `127.0.0.1:${echo.port}`, 4096, 8, { calls: 300 });
  assert.deepEqual([direct.calls, direct.errors, direct.warmup_calls, direct.first_error], [300, 0, 0, '']);
  assert.ok(direct.p50_ms > 0 && direct.p50_ms <= direct.p99_ms && direct.p99_ms <= direct.max_ms, JSON.stringify(direct));

  const sidecar = await startTestSidecar(`
sidecar:
  listeners:
    - { name: bench, direction: outbound, listen: '127.0.0.1:0', routes: [{ prefix: /, cluster: echo }] }
  clusters:
    - { name: echo, endpoints: ['127.0.0.1:${echo.port}'] }
`);
  t.onTestFinished(() => sidecar.close());
  const proxied = await runNativeLoad(tools, sidecar.address(), 64, 4, { calls: 200 });
  assert.deepEqual([proxied.calls, proxied.errors, proxied.first_error], [200, 0, '']);
  const calls = sidecar.logs.find({ msg: 'grpc call' }) as unknown as { method: string; grpcStatus: number; requestBytes: number; responseBytes: number }[];
  assert.equal(calls.length, 200, 'the proxy carried every call once');
  assert.ok(calls.every((c) => c.grpcStatus === 0 && c.requestBytes === 64 && c.responseBytes === 64), JSON.stringify(calls[0]));
});

test('grpc-load in timed mode: warm-up calls are not recorded, calls go on for the duration', async (t) => {
  const echo = await startNativeEcho(tools);
  t.onTestFinished(() => echo.stop());
  const r = await runNativeLoad(tools, `127.0.0.1:${echo.port}`, 64, 2, { warmupMs: 100, durationMs: 300 });
  assert.equal(r.errors, 0);
  assert.ok(r.warmup_calls > 0 && r.calls > 0, JSON.stringify(r));
  assert.ok(r.seconds >= 0.3, `measured for the duration (${r.seconds} s)`);
});

test('grpc-echo answers a grpc-js client with its bytes, and a compressed-flagged request with INVALID_ARGUMENT', async (t) => {
  const echo = await startNativeEcho(tools);
  t.onTestFinished(() => echo.stop());
  const client = echoClient(`127.0.0.1:${echo.port}`);
  t.onTestFinished(() => client.close());
  const msg = Buffer.from('a native echo, 37 bytes of message...');
  const r = await unaryCall(client, 'unary', msg);
  assert.equal(r.code, 0);
  assert.ok(r.reply?.equals(msg));

  const session = http2.connect(`http://127.0.0.1:${echo.port}`);
  t.onTestFinished(() => session.destroy());
  const req = session.request({ ':method': 'POST', ':path': '/nsc.Echo/Unary', 'content-type': 'application/grpc', te: 'trailers' });
  const bad = grpcFrame(Buffer.from('xyz'));
  bad[0] = 1; // compressed, which was never negotiated
  req.end(bad);
  const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => req.on('response', resolve));
  req.resume();
  assert.equal(headers['grpc-status'], '3', 'trailers-only INVALID_ARGUMENT');
});

test('grpc-load counts answers that are not the echo (other bytes, a non-zero grpc-status) as errors', async (t) => {
  let n = 0;
  const up = await startRawUpstream((stream) => {
    n += 1;
    const odd = n % 2 === 1;
    stream.on('data', () => {});
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': odd ? '0' : '2' }));
      stream.end(grpcFrame(Buffer.alloc(64, odd ? 0x7a : 0x61)));
    });
  });
  t.onTestFinished(() => up.close());
  const r = await runNativeLoad(tools, up.address, 64, 1, { calls: 10 });
  assert.deepEqual([r.calls, r.errors], [0, 10]);
  assert.match(r.first_error, /not the request's message echoed/);
});
