/**
 * Root layer: the daemon with the kernel path on (`kernel.via: direct`, i.e. loaded in this test's
 * process with libs/bpf, not through ebpf-loader), sockops attached to a cgroup of this test's own
 * (prefix `nso-`) that this process enters, so the real @grpc/grpc-js client's and server's
 * sockets meet the programs. The proxy does not pair connections yet (kernel.ts says why), so the
 * kernel carries no call: unary and streaming calls succeed through user space, a denied method
 * gets PERMISSION_DENIED, the kernel's per-method counters (the policy's methods are in its
 * table) count nothing, the user-space stats count each call once, and the connection list says
 * the connection is not offloaded and why.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { cgroup2Root } from '@netaccel/bpf';
import { ConfigStore } from '@netaccel/config';
import { DaemonHost } from '@netaccel/daemon';
import type { RpcClient, SidecarService } from '@netaccel/rpc';
import { SidecarClient, createRpcClient, sidecarV1 } from '@netaccel/rpc';
import { createLogCapture, createLogger } from '@netaccel/telemetry';
import { sidecarConfig } from './config.js';
import { SidecarDaemon, VERSION } from './daemon.js';
import { DirectKernelPath, NOT_PAIRED } from './kernel.js';
import type { EchoClient, EchoServer } from './testing/index.js';
import { echoClient, startEchoServer, streamRequest, unaryCall } from './testing/index.js';

const PREFIX = 'nso-kernel-';

/** Empty cgroups of earlier runs that died are removed; this run's is made. */
function makeCgroup(): string {
  const root = cgroup2Root();
  for (const name of readdirSync(root)) {
    if (!name.startsWith(PREFIX)) continue;
    try {
      if (readFileSync(join(root, name, 'cgroup.procs'), 'utf8').trim() === '') rmdirSync(join(root, name));
    } catch {
      // gone already, or busy: left alone
    }
  }
  const path = join(root, `${PREFIX}${process.pid}`);
  mkdirSync(path, { recursive: true });
  return path;
}

function currentCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return join(cgroup2Root(), (line ?? '0::/').slice(3));
}

async function serverStream(c: EchoClient, count: number, size: number): Promise<{ code: number; messages: number; bytes: number }> {
  return new Promise((resolve) => {
    let messages = 0;
    let bytes = 0;
    const s = c.serverStream(streamRequest(count, size));
    s.on('data', (d: Buffer) => {
      messages++;
      bytes += d.length;
    });
    s.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, messages, bytes }));
    s.on('end', () => resolve({ code: 0, messages, bytes }));
  });
}

describe('daemon with the kernel path loaded (direct): grpc-js calls, policy, counters, connection list', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nso-kernel-test-'));
  const socket = join(dir, 'sidecar.sock');
  const capture = createLogCapture();
  let cgroup = '';
  let home = '';
  let echo: EchoServer;
  let host: DaemonHost<typeof sidecarConfig>;
  let daemon: SidecarDaemon;
  let api: RpcClient<typeof SidecarService>;
  let client: EchoClient;

  beforeAll(async () => {
    cgroup = makeCgroup();
    home = currentCgroup();
    writeFileSync(join(cgroup, 'cgroup.procs'), String(process.pid));
    echo = await startEchoServer();
    const file = join(dir, 'sidecar-offload.yaml');
    writeFileSync(
      file,
      `
sidecar:
  listeners:
    - name: inbound
      direction: inbound
      listen: 127.0.0.1:0
      routes: [{ service: nsc.Echo, cluster: echo }]
      policy:
        rules: [{ method: /nsc.Echo/Slow, action: deny }, { method: /nsc.Echo/Unary, action: allow }]
  clusters:
    - { name: echo, endpoints: ['${echo.address}'] }
kernel: { enabled: true, via: direct, cgroup: '${cgroup}' }
telemetry: { listen: '127.0.0.1:0' }
grpc: { socket: ${socket} }
`,
    );
    const store = await ConfigStore.open(sidecarConfig, { file, env: {} });
    host = new DaemonHost({ name: 'sidecar-offload', version: VERSION, store, log: createLogger({ name: 'test', level: 'info', destination: capture.stream }), env: {} });
    daemon = await host.start((h) => SidecarDaemon.start(h));
    api = createRpcClient(SidecarClient, { address: socket });
    client = echoClient(`127.0.0.1:${daemon.proxy.listener('inbound')!.port}`);
  });

  afterAll(async () => {
    try {
      client?.close();
      api?.close();
      await host?.close(); // detaches sockops, closes the object
      await echo?.close();
    } finally {
      if (home !== '') writeFileSync(join(home, 'cgroup.procs'), String(process.pid));
      if (cgroup !== '') rmdirSync(cgroup);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unary and server-stream calls succeed, a denied method is PERMISSION_DENIED; kernel counters, stats and connection list agree', async () => {
    const kernel = daemon.proxy.kernel;
    assert.ok(kernel instanceof DirectKernelPath && kernel.loaded);
    const ids = kernel.methodIds;
    assert.deepEqual([...ids.keys()].sort(), ['/nsc.Echo/Slow', '/nsc.Echo/Unary'], 'the policy is in the kernel');
    const before = new Map([...ids].map(([path, id]) => [path, kernel.methodStats(id)]));

    for (let i = 0; i < 3; i++) assert.equal((await unaryCall(client, 'unary', Buffer.alloc(10))).code, 0);
    assert.deepEqual(await serverStream(client, 4, 32), { code: 0, messages: 4, bytes: 128 });
    const denied = await unaryCall(client, 'slow', Buffer.from('x'));
    assert.equal(denied.code, grpc.status.PERMISSION_DENIED);

    // no connection is paired, so the kernel carried (and counted) none of these calls
    for (const [path, id] of ids) {
      const now = kernel.methodStats(id);
      const was = before.get(path)!;
      assert.deepEqual([now.requests - was.requests, now.responses - was.responses, now.denied - was.denied], [0n, 0n, 0n], path);
    }
    // user space counted each call once
    const { methods } = await api.getStats(sidecarV1.GetStatsRequest.create());
    const calls = (m: string) => methods.find((s) => s.method === m)?.calls;
    assert.deepEqual([calls('/nsc.Echo/Unary'), calls('/nsc.Echo/ServerStream'), calls('/nsc.Echo/Slow')], [3n, 1n, 1n]);

    const { connections } = await api.listConnections(sidecarV1.ListConnectionsRequest.create());
    assert.equal(connections.length, 1);
    assert.deepEqual([connections[0]!.offloaded, connections[0]!.notOffloadedReason, connections[0]!.streams], [false, NOT_PAIRED, 5n]);

    const app = daemon.telemetryServer!.app;
    const metrics = (await app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /netaccel_sidecar_kernel_requests\{method="\/nsc\.Echo\/Slow"\} 0/);
    const status = JSON.parse((await app.inject({ url: '/v1/status' })).body) as { kernelPath: string };
    assert.equal(status.kernelPath, 'loaded');
  });
});
