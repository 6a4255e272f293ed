/**
 * unaryTransport 'http2' (h2-unary.ts), the default of clients of a Unix socket, against a real
 * server, side by side with grpc-js's transport (the `grpc-js` opt-out): the same answers and the
 * same typed errors, deadlines, cancellation, metadata, a daemon that is not there, starts late or
 * restarts, waitForReady, the send and receive limits, many large calls at once, and the options
 * it refuses.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { LoaderClient, LoaderService, MapEntry, MapLookupRequest, MapLookupResponse } from './generated/netaccel/loader/v1/loader.js';
import { createRpcClient } from './client.js';
import { DEFAULT_MAX_RECEIVE, limitsOf } from './h2-unary.js';
import type { RpcClient } from './client.js';
import { createRpcServer } from './server.js';
import type { RpcServer } from './server.js';
import { rpcService } from './handlers.js';
import { RpcError } from './status.js';
import { NA_ERR_RPC_CANCELLED, NA_ERR_RPC_DEADLINE_EXCEEDED, NA_ERR_RPC_INVALID_OPTIONS, NA_ERR_RPC_UNAVAILABLE } from './errors.js';
import { KINDS, fixtureLoader, newProbe, tempDir, until } from './test/fixtures.js';
import type { Probe } from './test/fixtures.js';

type Client = RpcClient<typeof LoaderService>;

/** The fixture loader, with MapLookup of "who" answering the x-netaccel-user metadata as its value. */
function serve(path: string, probe: Probe): Promise<RpcServer> {
  const base = fixtureLoader(probe);
  return createRpcServer({
    address: path,
    services: [rpcService(LoaderService, {
      ...base,
      mapLookup: (req, ctx) => (req.mapId === 'who'
        ? MapLookupResponse.create({ entry: MapEntry.create({ key: req.key, value: Buffer.from(String(ctx.metadata.get('x-netaccel-user')[0] ?? '')) }) })
        : base.mapLookup(req, ctx)),
    })],
  });
}

/** A server, a client with the default transport (http2 for a socket) and one with grpc-js's. */
async function withBoth(fn: (f: { h2: Client; grpc: Client; probe: Probe; path: string }) => Promise<void>, h2Opts: { deadlineMs?: number; grpcOptions?: Record<string, number> } = {}): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const probe = newProbe();
  const path = join(dir, 'loader.sock');
  const server = await serve(path, probe);
  const h2 = createRpcClient(LoaderClient, { address: path, ...h2Opts });
  const grpc = createRpcClient(LoaderClient, { address: path, unaryTransport: 'grpc-js', ...h2Opts });
  try {
    await fn({ h2, grpc, probe, path });
  } finally {
    h2.close();
    grpc.close();
    await server.shutdown({ timeoutMs: 1000 });
    await cleanup();
  }
}

const lookup = (mapId: string) => MapLookupRequest.create({ mapId, key: Buffer.from([1, 2, 3]) });
const failure = (p: Promise<unknown>): Promise<RpcError> => p.then(
  () => assert.fail('the call succeeded'),
  (e: unknown) => {
    assert.ok(e instanceof RpcError, `not an RpcError: ${String(e)}`);
    return e;
  },
);
const shape = (e: RpcError) => ({ code: e.code, grpcCode: e.grpcCode, kind: e.kind, message: e.message, details: e.details, remote: e.remote, target: e.target });

test('answers and every kind of error are the same as through grpc-js', async () => {
  await withBoth(async ({ h2, grpc }) => {
    assert.deepEqual(await h2.mapLookup(lookup('ok')), await grpc.mapLookup(lookup('ok')));
    for (let i = 0; i < 50; i++) assert.deepEqual((await h2.mapLookup(lookup('ok'))).entry?.value, Buffer.from('value')); // one session, many streams
    for (const id of [...KINDS.map((k) => `kind:${k}`), 'crash', 'absent']) {
      assert.deepEqual(shape(await failure(h2.mapLookup(lookup(id)))), shape(await failure(grpc.mapLookup(lookup(id)))), id);
    }
  });
});

test('request metadata reaches the handler', async () => {
  await withBoth(async ({ h2 }) => {
    const r = await h2.mapLookup(lookup('who'), { metadata: { 'x-netaccel-user': 'ldq(uid 0)' } });
    assert.equal(r.entry?.value.toString(), 'ldq(uid 0)');
    assert.equal((await h2.mapLookup(lookup('who'))).entry?.value.toString(), '');
  });
});

test('a deadline fails the call DEADLINE_EXCEEDED and aborts the handler; a signal cancels it', async () => {
  await withBoth(async ({ h2, probe }) => {
    const t0 = Date.now();
    const late = await failure(h2.mapLookup(lookup('slow:3000')));
    assert.ok(NA_ERR_RPC_DEADLINE_EXCEEDED.is(late));
    assert.equal(late.grpcCode, status.DEADLINE_EXCEEDED);
    assert.match(late.message, /^Loader\.MapLookup: deadline of 200 ms exceeded/);
    assert.ok(Date.now() - t0 < 2000);
    await until(() => probe.lookupAbortReason !== undefined, 10_000, 'the handler to see the deadline');
    // DEADLINE_EXCEEDED, or CANCELLED when the client's reset came more than the slack early (load)
    assert.ok(['NA_ERR_RPC_DEADLINE_EXCEEDED', 'NA_ERR_RPC_CANCELLED'].includes(String((probe.lookupAbortReason as { code?: string }).code)));

    probe.lookupAbortReason = undefined;
    const ac = new AbortController();
    const pending = failure(h2.mapLookup(lookup('slow:3000'), { signal: ac.signal, deadlineMs: 5000 }));
    setTimeout(() => ac.abort(), 50);
    const cancelled = await pending;
    assert.ok(NA_ERR_RPC_CANCELLED.is(cancelled));
    await until(() => probe.lookupAbortReason !== undefined, 10_000, 'the handler to see the cancellation');
    assert.equal((probe.lookupAbortReason as { code?: string }).code, 'NA_ERR_RPC_CANCELLED');
    assert.ok((await h2.mapLookup(lookup('ok'))).entry, 'the session serves the next call');
  }, { deadlineMs: 200 });
});

test('a response over the receive limit, a request over the send limit: RESOURCE_EXHAUSTED, as with grpc-js', async () => {
  await withBoth(async ({ h2, grpc }) => {
    const a = await failure(h2.mapLookup(lookup('ok')));
    const b = await failure(grpc.mapLookup(lookup('ok')));
    assert.equal(a.grpcCode, status.RESOURCE_EXHAUSTED);
    assert.deepEqual(shape(a), shape(b));
  }, { grpcOptions: { 'grpc.max_receive_message_length': 8 } });
  await withBoth(async ({ h2, grpc, probe }) => {
    const big = MapLookupRequest.create({ mapId: 'ok', key: Buffer.alloc(64) });
    const a = await failure(h2.mapLookup(big));
    const b = await failure(grpc.mapLookup(big));
    assert.equal(a.grpcCode, status.RESOURCE_EXHAUSTED);
    assert.deepEqual(shape(a), shape(b));
    assert.equal(probe.finished, 0, 'not sent');
    assert.ok((await h2.mapLookup(lookup('ok'))).entry, 'a request under the limit goes');
  }, { grpcOptions: { 'grpc.max_send_message_length': 32 } });
  // the limits as grpc-js reads its options: -1 none, unset its defaults (4 MiB received, no send limit)
  assert.deepEqual(limitsOf({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': 10 }), { maxReceive: Infinity, maxSend: 10 });
  assert.deepEqual(limitsOf({}), { maxReceive: DEFAULT_MAX_RECEIVE, maxSend: Infinity });
});

test('many large calls at once on one session are all answered, as through grpc-js (flow control both ways)', async () => {
  await withBoth(async ({ h2, grpc }) => {
    const key = Buffer.alloc(1 << 20, 0xab); // 1 MiB each way, 24 calls at once
    const calls = (c: Client) => Promise.all(Array.from({ length: 24 }, () => c.mapLookup(MapLookupRequest.create({ mapId: 'ok', key }))));
    for (const r of await calls(h2)) assert.ok(r.entry?.key.equals(key));
    for (const r of await calls(grpc)) assert.ok(r.entry?.key.equals(key));
  }, { deadlineMs: 60_000 });
});

test('no daemon: NA_ERR_RPC_UNAVAILABLE naming the path, at once; a daemon started later is reached', async () => {
  const { dir, cleanup } = await tempDir();
  const path = join(dir, 'loader.sock');
  const h2 = createRpcClient(LoaderClient, { address: path, unaryTransport: 'http2' });
  let server: RpcServer | undefined;
  try {
    const t0 = Date.now();
    const err = await failure(h2.mapLookup(lookup('ok')));
    assert.ok(NA_ERR_RPC_UNAVAILABLE.is(err));
    assert.equal(err.target, path);
    assert.ok(err.message.startsWith(`Loader.MapLookup: cannot reach ${path} (is the daemon running?)`), err.message);
    assert.ok(Date.now() - t0 < 3000);
    server = await serve(path, newProbe());
    assert.ok((await h2.mapLookup(lookup('ok'))).entry);
    // the daemon stops: calls fail UNAVAILABLE; it starts again: the next call gets a new session
    await server.shutdown({ timeoutMs: 1000 });
    assert.ok(NA_ERR_RPC_UNAVAILABLE.is(await failure(h2.mapLookup(lookup('ok')))));
    server = await serve(path, newProbe());
    assert.ok((await h2.mapLookup(lookup('ok'))).entry);
    // a connection cut without a GOAWAY while a call is in flight (a daemon killed with SIGKILL):
    // the call fails UNAVAILABLE; a daemon on the same path again is reached by the next call
    await server.shutdown({ timeoutMs: 1000 });
    const cutter = createServer((sock) => sock.once('data', () => sock.destroy()));
    await new Promise<void>((r) => cutter.listen(path, r));
    const cut = await failure(h2.mapLookup(lookup('ok')));
    assert.ok(NA_ERR_RPC_UNAVAILABLE.is(cut), cut.message);
    await new Promise((r) => cutter.close(r));
    server = await serve(path, newProbe());
    assert.ok((await h2.mapLookup(lookup('ok'))).entry);
    h2.close();
    assert.ok(NA_ERR_RPC_UNAVAILABLE.is(await failure(h2.mapLookup(lookup('ok')))), 'a closed client refuses calls');
  } finally {
    h2.close();
    await server?.shutdown({ timeoutMs: 1000 });
    await cleanup();
  }
});

test('waitForReady: a daemon started late is waited for, on the session the calls use; none: UNAVAILABLE at the timeout', async () => {
  const { dir, cleanup } = await tempDir();
  const path = join(dir, 'loader.sock');
  const h2 = createRpcClient(LoaderClient, { address: path });
  const grpc = createRpcClient(LoaderClient, { address: path, unaryTransport: 'grpc-js' });
  let server: RpcServer | undefined;
  try {
    const t0 = Date.now();
    const none = await failure(h2.waitForReady(300));
    assert.ok(NA_ERR_RPC_UNAVAILABLE.is(none), none.message);
    assert.ok(Date.now() - t0 >= 290, 'tried until the timeout');
    assert.ok(none.message.startsWith(`Loader: cannot reach ${path} (is the daemon running?)`), none.message);
    assert.match(none.message, /ENOENT/);
    const waiting = [h2.waitForReady(20_000), grpc.waitForReady(20_000)];
    await sleep(250);
    server = await serve(path, newProbe());
    await Promise.all(waiting);
    assert.ok((await h2.mapLookup(lookup('ok'))).entry);
    // a second waitForReady on a connected client answers at once
    await h2.waitForReady(50);
    h2.close();
    assert.ok(NA_ERR_RPC_UNAVAILABLE.is(await failure(h2.waitForReady(1000))), 'a closed client is not ready');
  } finally {
    h2.close();
    grpc.close();
    await server?.shutdown({ timeoutMs: 1000 });
    await cleanup();
  }
});

test('a client made before its daemon, polled as the labs do: the first call after the socket listens is answered', async () => {
  const { dir, cleanup } = await tempDir();
  const path = join(dir, 'loader.sock');
  const h2 = createRpcClient(LoaderClient, { address: path, deadlineMs: 1000 });
  let server: RpcServer | undefined;
  try {
    for (let i = 0; i < 3; i++) {
      const err = await failure(h2.mapLookup(lookup('ok')));
      assert.ok(NA_ERR_RPC_UNAVAILABLE.is(err), err.message);
      await sleep(30);
    }
    server = await serve(path, newProbe());
    // grpc-js's channel would wait out its reconnect backoff here (1 s and more), failing at once meanwhile
    assert.ok((await h2.mapLookup(lookup('ok'))).entry);
  } finally {
    h2.close();
    await server?.shutdown({ timeoutMs: 1000 });
    await cleanup();
  }
});

test('unaryTransport: "http2" is for Unix sockets; other values are refused', () => {
  assert.throws(
    () => createRpcClient(LoaderClient, { address: '127.0.0.1:1', allowInsecureTcp: true, unaryTransport: 'http2' }),
    (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e) && /^unaryTransport: "http2" is for Unix socket addresses/.test(e.message),
  );
  assert.throws(
    () => createRpcClient(LoaderClient, { address: '/run/x.sock', unaryTransport: 'quic' as never }),
    (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e) && /^unaryTransport: expected "grpc-js" or "http2"/.test(e.message),
  );
});
