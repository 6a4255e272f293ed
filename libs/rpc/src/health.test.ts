import { test } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { HealthCheckRequest, HealthCheckResponse_ServingStatus as S, HealthClient, HealthListRequest } from './generated/grpc/health/v1/health.js';
import { LoaderService } from './generated/netaccel/loader/v1/loader.js';
import { BalancerService } from './generated/netaccel/balancer/v1/balancer.js';
import type { BalancerService as BalancerDefinition } from './generated/netaccel/balancer/v1/balancer.js';
import { createRpcClient } from './client.js';
import { createRpcServer } from './server.js';
import type { RpcServer } from './server.js';
import { rpcService } from './handlers.js';
import type { ServiceHandlers } from './handlers.js';
import type { HealthStatus } from './health.js';
import { RpcError } from './status.js';
import { NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE, NA_ERR_RPC_INVALID_OPTIONS, NA_ERR_RPC_SHUTTING_DOWN } from './errors.js';
import { fixtureLoader, newProbe, tempDir, until } from './test/fixtures.js';

const LOADER = 'netaccel.loader.v1.Loader';
const BALANCER = 'netaccel.balancer.v1.Balancer';

const balancer: ServiceHandlers<typeof BalancerDefinition> = {
  listServices: () => ({ services: [] }),
  listBackends: () => ({ backends: [] }),
  drain: () => ({ changed: 0 }),
  getStats: () => ({ vips: [] }),
};

async function withHealth(initialHealth: HealthStatus | undefined, fn: (server: RpcServer, health: ReturnType<typeof createRpcClient<typeof HealthClient.service>>) => Promise<void>, transport: 'grpc-js' | 'http2' = 'grpc-js'): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const path = join(dir, 'd.sock');
  const server = await createRpcServer({
    address: path,
    transport,
    ...(initialHealth === undefined ? {} : { initialHealth }),
    services: [rpcService(LoaderService, fixtureLoader(newProbe())), rpcService(BalancerService, balancer)],
  });
  const health = createRpcClient(HealthClient, { address: path, deadlineMs: 2000 });
  try {
    await fn(server, health);
  } finally {
    health.close();
    await server.shutdown({ timeoutMs: 1000 });
    await cleanup();
  }
}

const check = (service: string) => HealthCheckRequest.create({ service });

test('Check reports SERVING / NOT_SERVING per service as the daemon sets it; "" follows them all', async () => {
  await withHealth(undefined, async (server, health) => {
    assert.deepEqual(server.health.services(), [LOADER, BALANCER]);
    assert.equal((await health.check(check(LOADER))).status, S.SERVING);
    assert.equal((await health.check(check(BALANCER))).status, S.SERVING);
    assert.equal((await health.check(check(''))).status, S.SERVING);

    server.health.setStatus(LoaderService, 'NOT_SERVING');
    assert.equal(server.health.getStatus(LOADER), 'NOT_SERVING');
    assert.equal((await health.check(check(LOADER))).status, S.NOT_SERVING);
    assert.equal((await health.check(check(BALANCER))).status, S.SERVING);
    assert.equal((await health.check(check(''))).status, S.NOT_SERVING);

    server.health.setStatus(LOADER, 'SERVING');
    assert.equal((await health.check(check(''))).status, S.SERVING);
    assert.equal(server.health.getStatus(''), 'SERVING');
  });
});

test('Check of an unknown service answers NOT_FOUND; setting one is refused', async () => {
  await withHealth(undefined, async (server, health) => {
    const err = await health.check(check('netaccel.nope.v1.Nope')).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError);
    assert.equal(err.grpcCode, status.NOT_FOUND);
    assert.equal(err.code, NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE.code);
    assert.match(err.message, /unknown service "netaccel\.nope\.v1\.Nope"/);
    assert.throws(() => server.health.setStatus('netaccel.nope.v1.Nope', 'SERVING'), (e: unknown) => NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE.is(e));
    assert.throws(() => server.health.setStatus('', 'SERVING'), (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e));
    assert.throws(() => server.health.setStatus(LOADER, 'MAYBE' as HealthStatus), (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e));
  });
});

test('initialHealth NOT_SERVING until the daemon says otherwise; List shows every service', async () => {
  await withHealth('NOT_SERVING', async (server, health) => {
    const all = await health.list(HealthListRequest.create());
    assert.deepEqual(
      Object.fromEntries(Object.entries(all.statuses).map(([k, v]) => [k, v.status])),
      { '': S.NOT_SERVING, [LOADER]: S.NOT_SERVING, [BALANCER]: S.NOT_SERVING },
    );
    server.health.setStatus(LoaderService, 'SERVING');
    server.health.setStatus(BalancerService, 'SERVING');
    const after = await health.list(HealthListRequest.create());
    assert.equal(after.statuses['']?.status, S.SERVING);
  });
});

for (const transport of ['grpc-js', 'http2'] as const) {
  test(`Watch streams the current status and every change; shutdown ends it NOT_SERVING then UNAVAILABLE (${transport} server)`, async () => {
    await withHealth(undefined, async (server, health) => {
      const seen: S[] = [];
      const unknownSeen: S[] = [];
      const watching = (async () => {
        for await (const r of health.watch(check(LOADER))) seen.push(r.status);
      })().catch((e: unknown) => e);
      const unknown = health.watch(check('netaccel.later.v1.Later'));
      const unknownDone = (async () => {
        for await (const r of unknown) unknownSeen.push(r.status);
      })().catch((e: unknown) => e);

      await until(() => seen.length === 1 && unknownSeen.length === 1, 10_000, 'the first answers');
      assert.deepEqual(seen, [S.SERVING]);
      assert.deepEqual(unknownSeen, [S.SERVICE_UNKNOWN]);

      server.health.setStatus(LOADER, 'NOT_SERVING');
      server.health.setStatus(LOADER, 'NOT_SERVING'); // no change, no message
      server.health.setStatus(BalancerService, 'NOT_SERVING'); // another service, no message
      server.health.setStatus(LOADER, 'SERVING');
      await until(() => seen.length === 3, 10_000, 'the changes');
      assert.deepEqual(seen, [S.SERVING, S.NOT_SERVING, S.SERVING]);

      unknown.cancel();
      assert.equal(await unknownDone, undefined, 'cancel() ends the iteration quietly');

      await server.shutdown({ timeoutMs: 2000 });
      const err = await watching;
      assert.deepEqual(seen, [S.SERVING, S.NOT_SERVING, S.SERVING, S.NOT_SERVING]);
      assert.ok(err instanceof RpcError, String(err));
      assert.equal(err.grpcCode, status.UNAVAILABLE);
      assert.equal(err.code, NA_ERR_RPC_SHUTTING_DOWN.code);
    }, transport);
  });
}
