import { test } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { LoaderClient, LoaderService, MapDumpRequest, MapLookupRequest } from './generated/netaccel/loader/v1/loader.js';
import { createRpcClient } from './client.js';
import type { RpcClient } from './client.js';
import { createRpcServer } from './server.js';
import type { RpcServer } from './server.js';
import { rpcService } from './handlers.js';
import type { RpcCallInfo } from './handlers.js';
import { CLIENT_DEFAULTS } from './options.js';
import type { RpcClientOptions } from './options.js';
import { RpcError } from './status.js';
import {
  NA_ERR_RPC_CANCELLED,
  NA_ERR_RPC_DEADLINE_EXCEEDED,
  NA_ERR_RPC_INVALID_OPTIONS,
  NA_ERR_RPC_SHUTTING_DOWN,
  NA_ERR_RPC_UNAVAILABLE,
} from './errors.js';
import { fixtureLoader, newProbe, tempDir, until } from './test/fixtures.js';
import type { Probe } from './test/fixtures.js';

interface Fixture {
  server: RpcServer;
  client: RpcClient<typeof LoaderService>;
  probe: Probe;
  path: string;
  calls: RpcCallInfo[];
}

async function withServer(clientOpts: Omit<RpcClientOptions, 'address'>, fn: (f: Fixture) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const probe = newProbe();
  const path = join(dir, 'loader.sock');
  const server = await createRpcServer({ address: path, services: [rpcService(LoaderService, fixtureLoader(probe))] });
  const calls: RpcCallInfo[] = [];
  const client = createRpcClient(LoaderClient, { onCall: (c) => calls.push(c), ...clientOpts, address: `unix://${path}` });
  try {
    await fn({ server, client, probe, path, calls });
  } finally {
    client.close();
    await server.shutdown({ timeoutMs: 1000 });
    await cleanup();
  }
}

const lookup = (mapId: string) => MapLookupRequest.create({ mapId, key: Buffer.from([7]) });
const rejection = (p: Promise<unknown>): Promise<unknown> => p.then(() => assert.fail('the call succeeded'), (e: unknown) => e);

test('the default deadline is 5 s and fires on a slow handler; the handler sees its signal abort', async () => {
  assert.equal(CLIENT_DEFAULTS.deadlineMs, 5000);
  await withServer({ deadlineMs: 200 }, async ({ client, probe }) => {
    const t0 = Date.now();
    const err = await rejection(client.mapLookup(lookup('slow:3000')));
    const took = Date.now() - t0;
    assert.ok(err instanceof RpcError);
    assert.equal(err.grpcCode, status.DEADLINE_EXCEEDED);
    assert.equal(err.code, NA_ERR_RPC_DEADLINE_EXCEEDED.code);
    assert.equal(err.kind, 'deadline-exceeded');
    assert.match(err.message, /^Loader\.MapLookup: deadline of 200 ms exceeded; no answer from \//);
    assert.ok(took >= 150 && took < 2000, `took ${took} ms`);
    await until(() => probe.lookupAbortReason !== undefined, 10_000, 'the handler to see the abort');
    // the server tells a passed deadline from a client that went away; the client's own reset at
    // its deadline may reach the server more than the slack before the server's deadline (load)
    assert.ok(['NA_ERR_RPC_DEADLINE_EXCEEDED', 'NA_ERR_RPC_CANCELLED'].includes(String((probe.lookupAbortReason as { code?: string }).code)));
  });
});

test('a per-call deadline overrides the default both ways', async () => {
  await withServer({ deadlineMs: 100 }, async ({ client }) => {
    const res = await client.mapLookup(lookup('slow:300'), { deadlineMs: 3000 });
    assert.ok(res.entry, 'a longer per-call deadline lets the slow call finish');
  });
  await withServer({}, async ({ client }) => {
    const t0 = Date.now();
    const err = await rejection(client.mapLookup(lookup('slow:3000'), { deadlineMs: 150 }));
    assert.ok(NA_ERR_RPC_DEADLINE_EXCEEDED.is(err));
    assert.ok(Date.now() - t0 < 2000);
    await assert.rejects(client.mapLookup(lookup('ok'), { deadlineMs: -1 }), (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e) && e.message.startsWith('deadlineMs: '));
  });
});

test('a client of a socket nobody serves gets NA_ERR_RPC_UNAVAILABLE naming the path', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'missing', 'loader.sock');
    const client = createRpcClient(LoaderClient, { address: `unix://${path}` });
    const t0 = Date.now();
    const err = await rejection(client.mapLookup(lookup('ok')));
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, NA_ERR_RPC_UNAVAILABLE.code);
    assert.equal(err.grpcCode, status.UNAVAILABLE);
    assert.equal(err.kind, 'unavailable');
    assert.equal(err.remote, false);
    assert.equal(err.target, path);
    assert.ok(err.message.startsWith(`Loader.MapLookup: cannot reach ${path} (is the daemon running?)`), err.message);
    assert.ok(Date.now() - t0 < 3000, 'fails fast, not at the deadline');
    await assert.rejects(client.waitForReady(200), (e: unknown) => NA_ERR_RPC_UNAVAILABLE.is(e) && e.message.includes(path));
    client.close();
  } finally {
    await cleanup();
  }
});

test('a server stream delivers every item in order, then ends', async () => {
  await withServer({}, async ({ client, calls }) => {
    const keys: number[] = [];
    for await (const e of client.mapDump(MapDumpRequest.create({ mapId: 'm', limit: 200 }))) keys.push(e.key[0]!);
    assert.deepEqual(keys, Array.from({ length: 200 }, (_, i) => i % 256));
    const c = calls.find((x) => x.method === 'MapDump');
    assert.deepEqual({ side: c?.side, type: c?.type, code: c?.code }, { side: 'client', type: 'server-stream', code: status.OK });
  });
});

test('a stream that fails after some items delivers them, then throws the typed error', async () => {
  await withServer({}, async ({ client }) => {
    const got: string[] = [];
    const err = await (async () => {
      for await (const e of client.mapDump(MapDumpRequest.create({ mapId: 'fail-after', limit: 3 }))) got.push(e.value.toString());
    })().then(
      () => assert.fail('the stream ended without an error'),
      (e: unknown) => e,
    );
    assert.deepEqual(got, ['v0', 'v1', 'v2']);
    assert.ok(err instanceof RpcError);
    assert.equal(err.grpcCode, status.RESOURCE_EXHAUSTED);
    assert.equal(err.code, 'NA_ERR_TEST_RESOURCE_EXHAUSTED');
  });
});

test('leaving a stream early cancels the call and stops the handler', async () => {
  await withServer({}, async ({ client, probe, calls }) => {
    let n = 0;
    for await (const _ of client.mapDump(MapDumpRequest.create({ mapId: 'slow', limit: 0 }))) {
      if (++n === 3) break;
    }
    await until(() => probe.dumpClosed, 10_000, 'the handler to be closed');
    const produced = probe.dumped;
    await sleep(150);
    assert.equal(probe.dumped, produced, 'the handler produced nothing after the cancellation');
    assert.ok(produced < 10, `produced ${produced}`);
    await until(() => calls.some((c) => c.method === 'MapDump'), 10_000, 'the client onCall');
    assert.equal(calls.find((c) => c.method === 'MapDump')?.code, status.CANCELLED);
  });
});

test('an AbortSignal cancels a stream (typed error) and a unary call (handler signal aborted)', async () => {
  await withServer({}, async ({ client, probe }) => {
    const ac = new AbortController();
    let n = 0;
    const err = await (async () => {
      for await (const _ of client.mapDump(MapDumpRequest.create({ mapId: 'slow', limit: 0 }), { signal: ac.signal })) {
        if (++n === 2) ac.abort();
      }
    })().then(
      () => assert.fail('the stream ended without an error'),
      (e: unknown) => e,
    );
    assert.ok(NA_ERR_RPC_CANCELLED.is(err), String(err));
    await until(() => probe.dumpClosed, 10_000, 'the stream handler to be closed');

    const ac2 = new AbortController();
    const pending = rejection(client.mapLookup(lookup('slow:5000'), { signal: ac2.signal }));
    await sleep(100);
    ac2.abort();
    const e2 = await pending;
    assert.ok(e2 instanceof RpcError && NA_ERR_RPC_CANCELLED.is(e2));
    assert.equal(e2.grpcCode, status.CANCELLED);
    await until(() => probe.lookupAbortReason !== undefined, 10_000, 'the unary handler to see the abort');
    assert.equal((probe.lookupAbortReason as { code?: string }).code, 'NA_ERR_RPC_CANCELLED');

    const e3 = await rejection(client.mapLookup(lookup('ok'), { signal: AbortSignal.abort() }));
    assert.ok(NA_ERR_RPC_CANCELLED.is(e3), 'an aborted signal fails the call at once');
  });
});

test('a stream deadline ends a long stream; shutdown ends an endless one with UNAVAILABLE', async () => {
  await withServer({ streamDeadlineMs: 200 }, async ({ client }) => {
    let n = 0;
    const err = await (async () => {
      for await (const _ of client.mapDump(MapDumpRequest.create({ mapId: 'slow', limit: 0 }))) n++;
    })().catch((e: unknown) => e);
    assert.ok(NA_ERR_RPC_DEADLINE_EXCEEDED.is(err), String(err));
    assert.ok(n > 0);
  });
  await withServer({}, async ({ client, server, probe }) => {
    const stream = client.mapDump(MapDumpRequest.create({ mapId: 'slow', limit: 0 }));
    const consumed = (async () => {
      for await (const _ of stream) {
        // read until the server ends the stream
      }
    })().catch((e: unknown) => e);
    await until(() => probe.dumped > 1, 10_000, 'items');
    const t0 = Date.now();
    assert.deepEqual(await server.shutdown({ timeoutMs: 3000 }), { forced: false });
    assert.ok(Date.now() - t0 < 1000, 'streams do not hold up a graceful shutdown');
    const err = await consumed;
    assert.ok(err instanceof RpcError, String(err));
    assert.equal(err.grpcCode, status.UNAVAILABLE);
    assert.equal(err.code, NA_ERR_RPC_SHUTTING_DOWN.code);
    assert.ok(probe.dumpClosed);
  });
});

test('client onCall reports method, status, NA_ERR code and duration', async () => {
  await withServer({}, async ({ client, calls }) => {
    await client.mapLookup(lookup('ok'));
    await client.mapLookup(lookup('kind:already-exists')).catch(() => undefined);
    assert.deepEqual(
      calls.map(({ side, service, method, codeName, errorCode }) => ({ side, service, method, codeName, errorCode })),
      [
        { side: 'client', service: 'netaccel.loader.v1.Loader', method: 'MapLookup', codeName: 'OK', errorCode: undefined },
        { side: 'client', service: 'netaccel.loader.v1.Loader', method: 'MapLookup', codeName: 'ALREADY_EXISTS', errorCode: 'NA_ERR_TEST_ALREADY_EXISTS' },
      ],
    );
    assert.ok(calls.every((c) => c.durationMs >= 0));
  });
});

test('a throwing onCall hook does not break calls', async () => {
  await withServer({ onCall: () => { throw new Error('metrics down'); } }, async ({ client }) => {
    assert.ok((await client.mapLookup(lookup('ok'))).entry);
  });
});

test('client options are validated', () => {
  assert.throws(() => createRpcClient(LoaderClient, { address: 'x:0' }), /address: port 0 is out of range 1\.\.65535/);
  assert.throws(() => createRpcClient(LoaderClient, { address: '/tmp/a.sock', deadlineMs: 0 }), /^.*deadlineMs: expected milliseconds/);
  assert.throws(() => createRpcClient(LoaderClient, { address: 'localhost:50051' }), (e: unknown) => (e as Error).message.includes('configure tls'));
  assert.throws(
    () => createRpcClient(LoaderClient, { address: '/tmp/a.sock', tls: { ca: '/x' } }),
    (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e) && e.message.startsWith('tls: not used on Unix sockets'),
  );
});
