import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, stat, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { LoaderClient, LoaderService, MapLookupRequest } from './generated/netaccel/loader/v1/loader.js';
import { createRpcClient } from './client.js';
import type { RpcClient } from './client.js';
import { createRpcServer } from './server.js';
import type { RpcServer } from './server.js';
import { rpcService } from './handlers.js';
import type { RpcCallInfo } from './handlers.js';
import { RpcError } from './status.js';
import {
  NA_ERR_RPC_BAD_ADDRESS,
  NA_ERR_RPC_INTERNAL,
  NA_ERR_RPC_INVALID_OPTIONS,
  NA_ERR_RPC_SOCKET_IN_USE,
  NA_ERR_RPC_SOCKET_PATH_TAKEN,
  NA_ERR_RPC_TLS_REQUIRED,
  NA_ERR_RPC_UNKNOWN_GROUP,
} from './errors.js';
import { KINDS, TEST_ERRORS, captureLogger, fixtureLoader, makeStaleSocket, newProbe, tempDir } from './test/fixtures.js';
import type { Probe } from './test/fixtures.js';

interface Fixture {
  server: RpcServer;
  client: RpcClient<typeof LoaderService>;
  probe: Probe;
  path: string;
  records: ReturnType<typeof captureLogger>['records'];
  calls: RpcCallInfo[];
}

async function withServer(fn: (f: Fixture) => Promise<void>, socketName = 'run/netaccel/loader.sock'): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const probe = newProbe();
  const { log, records } = captureLogger();
  const calls: RpcCallInfo[] = [];
  const path = join(dir, socketName);
  const server = await createRpcServer({
    log,
    address: `unix://${path}`,
    services: [{ definition: LoaderService, implementation: fixtureLoader(probe) }],
    onCall: (info) => calls.push(info),
  });
  const client = createRpcClient(LoaderClient, { address: path });
  try {
    await fn({ server, client, probe, path, records, calls });
  } finally {
    client.close();
    await server.shutdown({ timeoutMs: 1000 });
    await cleanup();
  }
}

const lookup = (mapId: string) => MapLookupRequest.create({ mapId, key: Buffer.from([1, 2, 3]) });

test('serves over a Unix socket in a directory it creates, socket mode 0660, removed on shutdown', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'run', 'netaccel', 'loader.sock');
    assert.equal(existsSync(join(dir, 'run')), false);
    const server = await createRpcServer({ address: `unix://${path}`, services: [rpcService(LoaderService, fixtureLoader(newProbe()))] });
    const st = await lstat(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    const dirStat = await stat(join(dir, 'run', 'netaccel'));
    assert.ok(dirStat.isDirectory());
    assert.equal(dirStat.mode & 0o777, 0o750, 'created directories: the group may traverse');
    assert.equal(server.target, `unix://${path}`);
    assert.deepEqual(server.services, ['netaccel.loader.v1.Loader']);

    const client = createRpcClient(LoaderClient, { address: `unix://${path}` });
    const res = await client.mapLookup(lookup('ok'));
    assert.deepEqual(res.entry?.key, Buffer.from([1, 2, 3]));
    assert.deepEqual(res.entry?.value, Buffer.from('value'));
    client.close();

    assert.deepEqual(await server.shutdown(), { forced: false });
    assert.equal(existsSync(path), false);
  } finally {
    await cleanup();
  }
});

test('each error kind reaches the client as its gRPC status with the NA_ERR code, message and details', async () => {
  // Written out on purpose (not taken from STATUS_OF_KIND): the table under test.
  const expected: Record<string, status> = {
    'invalid-argument': status.INVALID_ARGUMENT,
    'not-found': status.NOT_FOUND,
    'already-exists': status.ALREADY_EXISTS,
    'failed-precondition': status.FAILED_PRECONDITION,
    'permission-denied': status.PERMISSION_DENIED,
    'resource-exhausted': status.RESOURCE_EXHAUSTED,
    unavailable: status.UNAVAILABLE,
    'deadline-exceeded': status.DEADLINE_EXCEEDED,
    aborted: status.ABORTED,
    internal: status.INTERNAL,
  };
  await withServer(async ({ client, calls }) => {
    for (const kind of KINDS) {
      const err = await client.mapLookup(lookup(`kind:${kind}`)).then(
        () => assert.fail(`kind ${kind}: the call succeeded`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof RpcError, `kind ${kind}: ${String(err)}`);
      assert.equal(err.grpcCode, expected[kind], `kind ${kind}: got ${err.grpcCodeName}`);
      assert.equal(err.code, TEST_ERRORS[kind].code);
      assert.equal(err.kind, kind);
      assert.equal(err.message, `test failure of kind ${kind}: kind:${kind}`);
      assert.deepEqual(err.details, { mapId: `kind:${kind}`, n: 1 });
      assert.equal(err.remote, true);
      assert.equal(err.service, 'netaccel.loader.v1.Loader');
      assert.equal(err.method, 'MapLookup');
      assert.ok(TEST_ERRORS[kind].is(err), 'the factory of the server recognises the client error');
    }
    const server = calls.filter((c) => c.side === 'server');
    assert.equal(server.length, KINDS.length);
    assert.deepEqual(server.map((c) => c.code), KINDS.map((k) => expected[k]));
    assert.deepEqual(server.map((c) => c.errorCode), KINDS.map((k) => TEST_ERRORS[k].code));
  });
});

test('an unexpected exception answers INTERNAL with a generic message and is logged with its stack', async () => {
  await withServer(async ({ client, records }) => {
    const err = await client.mapLookup(lookup('crash')).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError);
    assert.equal(err.grpcCode, status.INTERNAL);
    assert.equal(err.code, NA_ERR_RPC_INTERNAL.code);
    assert.equal(err.message, 'internal error in Loader.MapLookup; the daemon logged the details');
    assert.doesNotMatch(err.message, /secret/);
    const logged = records.find((r) => r.level === 'error' && r.obj.err instanceof TypeError);
    assert.ok(logged, 'an error record with the TypeError');
    assert.match((logged.obj.err as Error).stack ?? '', /boom: secret internals/);
    assert.equal(logged.bindings.component, 'rpc-server');
    assert.equal(logged.bindings.method, 'MapLookup');
  });
});

test('a handler error thrown again by another server keeps its code and status (proxying)', async () => {
  await withServer(async ({ client }) => {
    const first = await client.mapLookup(lookup('kind:not-found')).catch((e: unknown) => e);
    assert.ok(first instanceof RpcError);
    // A second daemon's handler rethrows what it got from the first one.
    const { dir, cleanup } = await tempDir();
    const path = join(dir, 'proxy.sock');
    const proxy = await createRpcServer({
      address: path,
      services: [{ definition: LoaderService, implementation: { ...fixtureLoader(newProbe()), mapLookup: () => Promise.reject(first) } }],
    });
    const c2 = createRpcClient(LoaderClient, { address: path });
    try {
      const second = await c2.mapLookup(lookup('x')).catch((e: unknown) => e);
      assert.ok(second instanceof RpcError);
      assert.equal(second.grpcCode, status.NOT_FOUND);
      assert.equal(second.code, 'NA_ERR_TEST_NOT_FOUND');
      assert.equal(second.message, first.message);
    } finally {
      c2.close();
      await proxy.shutdown();
      await cleanup();
    }
  });
});

test('a stale socket file is replaced, a live one is refused, a non-socket file is left alone', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'loader.sock');
    await makeStaleSocket(path);
    assert.ok((await lstat(path)).isSocket(), 'the stale socket file is there');

    const { log, records } = captureLogger();
    const server = await createRpcServer({ log, address: path, services: [rpcService(LoaderService, fixtureLoader(newProbe()))] });
    assert.ok(records.some((r) => r.level === 'warn' && r.obj.path === path && /stale socket/.test(r.msg)));

    await assert.rejects(
      createRpcServer({ address: path, services: [rpcService(LoaderService, fixtureLoader(newProbe()))] }),
      (err: unknown) => NA_ERR_RPC_SOCKET_IN_USE.is(err) && err.message.includes(path),
    );
    // The live server still answers on its socket.
    const client = createRpcClient(LoaderClient, { address: path });
    assert.ok((await client.mapLookup(lookup('ok'))).entry);
    client.close();
    await server.shutdown();

    const file = join(dir, 'not-a-socket');
    await writeFile(file, 'keep me');
    await assert.rejects(
      createRpcServer({ address: file, services: [rpcService(LoaderService, fixtureLoader(newProbe()))] }),
      (err: unknown) => NA_ERR_RPC_SOCKET_PATH_TAKEN.is(err) && /is not a socket/.test(err.message),
    );
    assert.equal(await readFile(file, 'utf8'), 'keep me');
  } finally {
    await cleanup();
  }
});

for (const transport of ['grpc-js', 'http2'] as const) {
  test(`graceful shutdown waits for an in-flight call, then removes the socket (${transport} server)`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'loader.sock');
      const probe = newProbe();
      const server = await createRpcServer({ address: path, services: [rpcService(LoaderService, fixtureLoader(probe))], transport });
      const client = createRpcClient(LoaderClient, { address: path });
      await client.waitForReady();
      const t0 = Date.now();
      const inFlight = client.mapLookup(lookup('slow:400'));
      await new Promise((r) => setTimeout(r, 100));
      const stopping = server.shutdown({ timeoutMs: 5000 });
      assert.equal(server.shutdown(), stopping, 'shutdown twice answers the same promise');
      const res = await inFlight;
      assert.ok(res.entry, 'the in-flight call completed');
      assert.deepEqual(await stopping, { forced: false });
      assert.ok(Date.now() - t0 >= 350, 'shutdown waited for the call');
      assert.equal(probe.lookupAbortReason, undefined, 'the unary call was not aborted');
      assert.equal(existsSync(path), false, 'socket removed');
      const after = await client.mapLookup(lookup('ok'), { deadlineMs: 1000 }).catch((e: unknown) => e);
      assert.ok(after instanceof RpcError);
      assert.equal(after.grpcCode, status.UNAVAILABLE);
      client.close();
    } finally {
      await cleanup();
    }
  });

  test(`shutdown cuts calls still running after its timeout and aborts their signal (${transport} server)`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'loader.sock');
      const probe = newProbe();
      const server = await createRpcServer({ address: path, services: [rpcService(LoaderService, fixtureLoader(probe))], transport });
      const client = createRpcClient(LoaderClient, { address: path });
      const inFlight = client.mapLookup(lookup('slow:10000')).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      assert.deepEqual(await server.shutdown({ timeoutMs: 150 }), { forced: true });
      assert.ok(Date.now() - t0 < 2000);
      const err = await inFlight;
      assert.ok(err instanceof RpcError, String(err));
      assert.notEqual(err.grpcCode, status.OK);
      assert.equal((probe.lookupAbortReason as { code?: string } | undefined)?.code, 'NA_ERR_RPC_SHUTTING_DOWN');
      assert.equal(existsSync(path), false);
      client.close();
    } finally {
      await cleanup();
    }
  });
}

test('socketGroup sets the group of the socket (gid or name); an unknown name is refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const gid = process.getgid!();
    const path = join(dir, 'a.sock');
    const server = await createRpcServer({ address: path, socketGroup: gid, services: [rpcService(LoaderService, fixtureLoader(newProbe()))] });
    assert.equal((await lstat(path)).gid, gid);
    await server.shutdown();

    const groups = await readFile('/etc/group', 'utf8');
    const name = groups.split('\n').map((l) => l.split(':')).find((f) => f[2] === String(gid))?.[0];
    assert.ok(name, `/etc/group names gid ${gid}`);
    const byName = await createRpcServer({ address: path, socketGroup: name, services: [rpcService(LoaderService, fixtureLoader(newProbe()))] });
    assert.equal((await lstat(path)).gid, gid);
    await byName.shutdown();

    await assert.rejects(
      createRpcServer({ address: path, socketGroup: 'no-such-group-netaccel', services: [rpcService(LoaderService, fixtureLoader(newProbe()))] }),
      (err: unknown) => NA_ERR_RPC_UNKNOWN_GROUP.is(err) && err.message.includes('no-such-group-netaccel'),
    );
    assert.equal(existsSync(path), false, 'nothing was bound');
  } finally {
    await cleanup();
  }
});

test('options are validated before anything is bound, errors name the field', async () => {
  const impl = fixtureLoader(newProbe());
  await assert.rejects(
    createRpcServer({ address: 'nowhere', services: [rpcService(LoaderService, impl)] }),
    (err: unknown) => NA_ERR_RPC_BAD_ADDRESS.is(err) && err.message.startsWith('address: ') && err.message.includes('"nowhere"'),
  );
  const { mapDump: _omitted, ...partial } = impl;
  await assert.rejects(
    createRpcServer({ address: '/tmp/na-rpc-never.sock', services: [{ definition: LoaderService, implementation: partial as typeof impl }] }),
    (err: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(err) && err.message.startsWith('services[0].implementation.mapDump: missing handler'),
  );
  await assert.rejects(
    createRpcServer({ address: '127.0.0.1:0', services: [rpcService(LoaderService, impl)] }),
    (err: unknown) => NA_ERR_RPC_TLS_REQUIRED.is(err) && err.message.includes('127.0.0.1:0'),
  );
  await assert.rejects(
    createRpcServer({ address: '/tmp/na-rpc-never.sock', services: [rpcService(LoaderService, impl), rpcService(LoaderService, impl)] }),
    (err: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(err) && err.message.startsWith('services[1]: netaccel.loader.v1.Loader is registered twice'),
  );
  await assert.rejects(
    createRpcServer({ address: '/tmp/na-rpc-never.sock', socketMode: 0o1777, services: [] }),
    (err: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(err) && err.message.startsWith('socketMode: '),
  );
  await assert.rejects(
    createRpcServer({ address: '/tmp/na-rpc-never.sock', services: [], bogus: 1 } as never),
    (err: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(err) && err.message.startsWith('bogus: unknown option'),
  );
  assert.equal(existsSync('/tmp/na-rpc-never.sock'), false);
});

test('insecure TCP on loopback when allowed; the bound port replaces port 0', async () => {
  const server = await createRpcServer({ address: '127.0.0.1:0', allowInsecureTcp: true, services: [rpcService(LoaderService, fixtureLoader(newProbe()))] });
  try {
    assert.equal(server.address.kind, 'tcp');
    assert.ok(server.address.kind === 'tcp' && server.address.port > 0);
    assert.equal(server.target, `127.0.0.1:${server.address.kind === 'tcp' ? server.address.port : 0}`);
    const client = createRpcClient(LoaderClient, { address: server.target, allowInsecureTcp: true });
    assert.ok((await client.mapLookup(lookup('ok'))).entry);
    client.close();
  } finally {
    await server.shutdown();
  }
});

test('onCall reports service, method, status and duration of every server call', async () => {
  await withServer(async ({ client, calls }) => {
    await client.mapLookup(lookup('ok'));
    await client.mapLookup(lookup('kind:not-found')).catch(() => undefined);
    const server = calls.filter((c) => c.side === 'server');
    assert.equal(server.length, 2);
    assert.deepEqual(
      server.map(({ service, method, type, code, codeName, errorCode }) => ({ service, method, type, code, codeName, errorCode })),
      [
        { service: 'netaccel.loader.v1.Loader', method: 'MapLookup', type: 'unary', code: status.OK, codeName: 'OK', errorCode: undefined },
        { service: 'netaccel.loader.v1.Loader', method: 'MapLookup', type: 'unary', code: status.NOT_FOUND, codeName: 'NOT_FOUND', errorCode: 'NA_ERR_TEST_NOT_FOUND' },
      ],
    );
    for (const c of server) assert.ok(c.durationMs >= 0 && c.durationMs < 5000);
  });
});
