import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { ConfigStore } from '@netaccel/config';
import { DaemonHost } from '@netaccel/daemon';
import type { RpcClient, SidecarService } from '@netaccel/rpc';
import { SidecarClient, createRpcClient, sidecarV1 } from '@netaccel/rpc';
import { createLogCapture, createLogger } from '@netaccel/telemetry';
import { sidecarConfig } from './config.js';
import { SidecarDaemon, VERSION } from './daemon.js';
import { KERNEL_PATH_NOT_LOADED } from './offload.js';
import type { EchoClient, EchoServer } from './testing/index.js';
import { echoClient, startEchoServer, unaryCall } from './testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nsc-daemon-test-'));
const socket = join(dir, 'sidecar.sock');
const file = join(dir, 'sidecar-offload.yaml');

function yaml(upstream: string, denied: string): string {
  return `
sidecar:
  listeners:
    - name: inbound
      direction: inbound
      listen: 127.0.0.1:0
      routes: [{ service: nsc.Echo, cluster: echo }]
      policy:
        rules: [{ method: ${denied}, action: deny }]
  clusters:
    - { name: echo, endpoints: ['${upstream}'] }
telemetry: { listen: '127.0.0.1:0' }
grpc: { socket: ${socket} }
`;
}

describe('daemon: the Sidecar service, telemetry and reload (loopback only)', () => {
  const capture = createLogCapture();
  let echo: EchoServer;
  let host: DaemonHost<typeof sidecarConfig>;
  let daemon: SidecarDaemon;
  let api: RpcClient<typeof SidecarService>;
  let client: EchoClient;

  beforeAll(async () => {
    echo = await startEchoServer();
    writeFileSync(file, yaml(echo.address, '/nsc.Echo/Slow'));
    const store = await ConfigStore.open(sidecarConfig, { file, env: {} });
    const log = createLogger({ name: 'test', level: 'info', destination: capture.stream });
    host = new DaemonHost({ name: 'sidecar-offload', version: VERSION, store, log, env: {} });
    daemon = await host.start((h) => SidecarDaemon.start(h));
    api = createRpcClient(SidecarClient, { address: socket });
    client = echoClient(`127.0.0.1:${daemon.proxy.listener('inbound')!.port}`);
  });

  afterAll(async () => {
    client?.close();
    api?.close();
    await host?.close();
    await echo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('calls through the listener; GetStats, ListRoutes, ListPolicies and ListConnections say what happened', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await unaryCall(client, 'unary', Buffer.alloc(10 * (i + 1)))).code, 0);
    assert.equal((await unaryCall(client, 'slow', Buffer.from('x'))).code, grpc.status.PERMISSION_DENIED);
    const { methods } = await api.getStats(sidecarV1.GetStatsRequest.create());
    const unary = methods.find((m) => m.method === '/nsc.Echo/Unary')!;
    assert.deepEqual([unary.listener, unary.calls, unary.requestBytes, unary.responseBytes, unary.requestMessages], ['inbound', 3n, 60n, 60n, 3n]);
    assert.deepEqual(unary.statuses.map((s) => [s.name, s.calls]), [['OK', 3n]]);
    assert.ok(unary.latencyP50Ms > 0 && unary.latencyP99Ms >= unary.latencyP50Ms);
    const slow = methods.find((m) => m.method === '/nsc.Echo/Slow')!;
    assert.deepEqual(slow.statuses.map((s) => [s.code, s.name, s.calls]), [[7, 'PERMISSION_DENIED', 1n]]);

    const routes = await api.listRoutes(sidecarV1.ListRoutesRequest.create());
    assert.deepEqual(routes.listeners.map((l) => [l.name, l.direction, l.routes.map((r) => [r.service, r.cluster, r.timeoutMs, r.maxTimeoutMs])]), [
      ['inbound', sidecarV1.Direction.DIRECTION_INBOUND, [['nsc.Echo', 'echo', 30_000, 300_000]]],
    ]);
    assert.deepEqual(routes.clusters.map((k) => [k.name, k.endpoints.map((e) => [e.address, e.healthy, e.calls])]), [['echo', [[echo.address, true, 3n]]]]);

    const policies = await api.listPolicies(sidecarV1.ListPoliciesRequest.create({ listener: 'inbound' }));
    assert.deepEqual(policies.policies.map((p) => [p.listener, p.defaultAction, p.rules.map((r) => [r.method, r.action])]), [
      ['inbound', sidecarV1.Action.ACTION_ALLOW, [['/nsc.Echo/Slow', sidecarV1.Action.ACTION_DENY]]],
    ]);
    await assert.rejects(api.listPolicies(sidecarV1.ListPoliciesRequest.create({ listener: 'nope' })), (err: { grpcCode: number; code: string; message: string }) => err.grpcCode === grpc.status.NOT_FOUND && err.code === 'NA_ERR_SIDECARD_LISTENER_NOT_FOUND' && /no listener "nope"/.test(err.message));

    const { connections } = await api.listConnections(sidecarV1.ListConnectionsRequest.create());
    assert.equal(connections.length, 1);
    assert.deepEqual([connections[0]!.listener, connections[0]!.streams, connections[0]!.offloaded, connections[0]!.notOffloadedReason], ['inbound', 4n, false, KERNEL_PATH_NOT_LOADED]);
  });

  test('/healthz, /readyz, /metrics, /v1/status', async () => {
    const app = daemon.telemetryServer!.app;
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    const ready = await app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /netaccel_sidecar_calls_total\{listener="inbound",method="\/nsc\.Echo\/Unary",code="OK"\} 3/);
    assert.match(metrics, /netaccel_sidecar_open_connections\{listener="inbound"\} 1/);
    const status = JSON.parse((await app.inject({ url: '/v1/status' })).body) as { app: string; kernelPath: string; listeners: { name: string; connections: number }[] };
    assert.equal(status.app, 'sidecar-offload');
    assert.equal(status.kernelPath, 'not loaded');
    assert.deepEqual(status.listeners.map((l) => [l.name, l.connections]), [['inbound', 1]]);
    assert.equal(capture.find({ msg: 'grpc call', component: 'access' }).length, 4, 'one access line per call');
  });

  test('reload: a new policy applies to the next call on the same connection; a bad file is refused whole with the field path and the running policy stays', async () => {
    writeFileSync(file, yaml(echo.address, '/nsc.Echo/Unary'));
    const ok = await host.reload();
    assert.equal(ok.accepted, true);
    assert.equal((await unaryCall(client, 'unary', Buffer.from('x'))).code, grpc.status.PERMISSION_DENIED);
    assert.equal((await unaryCall(client, 'slow', Buffer.from('x'))).code, 0);
    const { connections } = await api.listConnections(sidecarV1.ListConnectionsRequest.create());
    assert.equal(connections.length, 1, 'the same client connection');

    writeFileSync(file, yaml(echo.address, '/nsc.Echo/Slow').replace("routes: [{ service: nsc.Echo, cluster: echo }]", 'routes: [{ service: nsc.Echo, cluster: nowhere }]'));
    const refused = await host.reload();
    assert.equal(refused.accepted, false);
    assert.match(String((refused.error as Error).message), /sidecar\.listeners\[0\]\.routes\[0\]\.cluster: expected a cluster of sidecar\.clusters, got nowhere/);
    assert.equal((await unaryCall(client, 'unary', Buffer.from('x'))).code, grpc.status.PERMISSION_DENIED, 'the running policy stays');
    assert.equal((await unaryCall(client, 'slow', Buffer.from('x'))).code, 0);
  });
});
