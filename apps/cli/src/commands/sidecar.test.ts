import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SidecarService, createRpcServer, rpcService, sidecarV1 } from '@netaccel/rpc';
import { runCliCaptured } from '../capture.js';
import { sidecar } from './sidecar.js';

test('netaccel sidecar routes | policies | stats | connections against a Sidecar service', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-sidecar-'));
  const socket = join(dir, 'sidecar-offload.sock');
  const asked: string[] = [];
  const server = await createRpcServer({
    address: socket,
    services: [
      rpcService(SidecarService, {
        listRoutes: () =>
          sidecarV1.ListRoutesResponse.create({
            listeners: [sidecarV1.Listener.create({ name: 'outbound', direction: sidecarV1.Direction.DIRECTION_OUTBOUND, address: '127.0.0.1:15001', routes: [sidecarV1.Route.create({ service: 'etcdserverpb.KV', cluster: 'etcd', timeoutMs: 30000, maxTimeoutMs: 300000 })] })],
            clusters: [sidecarV1.Cluster.create({ name: 'etcd', balancing: sidecarV1.Balancing.BALANCING_LEAST_REQUESTS, endpoints: [sidecarV1.Endpoint.create({ address: '127.0.0.1:2379', healthy: false, connectFailures: 3, calls: 12n })] })],
          }),
        listPolicies: (req) => {
          asked.push(req.listener);
          return sidecarV1.ListPoliciesResponse.create({ policies: [sidecarV1.Policy.create({ listener: 'outbound', defaultAction: sidecarV1.Action.ACTION_ALLOW, rules: [sidecarV1.PolicyRule.create({ method: '/etcdserverpb.KV/Compact', action: sidecarV1.Action.ACTION_DENY })] })] });
        },
        getStats: () =>
          sidecarV1.GetStatsResponse.create({
            methods: [
              sidecarV1.MethodStats.create({
                listener: 'outbound',
                method: '/etcdserverpb.KV/Range',
                calls: 5n,
                statuses: [sidecarV1.StatusCount.create({ code: 0, name: 'OK', calls: 4n }), sidecarV1.StatusCount.create({ code: 7, name: 'PERMISSION_DENIED', calls: 1n })],
                requestBytes: 100n,
                responseBytes: 2000n,
                latencyP50Ms: 0.52,
                latencyP99Ms: 12.34,
              }),
            ],
          }),
        listConnections: () => sidecarV1.ListConnectionsResponse.create({ connections: [sidecarV1.Connection.create({ id: 7n, listener: 'outbound', remote: '127.0.0.1:40000', activeStreams: 2, streams: 9n, notOffloadedReason: 'kernel path not loaded' })] }),
      }),
    ],
  });
  try {
    const run = (...argv: string[]) => runCliCaptured([...argv, '--socket', socket], [sidecar]);
    const r = await run('sidecar', 'routes');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /outbound\s+outbound\s+127\.0\.0\.1:15001\s+service etcdserverpb\.KV\s+etcd\s+30000ms \/ 300000ms/);
    assert.match(r.out, /etcd\s+least-requests\s+127\.0\.0\.1:2379\s+ejected\s+0\s+12\s+3/);
    const rj = JSON.parse((await run('sidecar', 'routes', '--json')).out) as { clusters: { balancing: string }[] };
    assert.equal(rj.clusters[0]!.balancing, 'least-requests');
    const p = await run('sidecar', 'policies', 'outbound');
    assert.match(p.out, /outbound\s+\/etcdserverpb\.KV\/Compact\s+deny\noutbound\s+\(default\)\s+allow\n/);
    assert.deepEqual(asked, ['outbound']);
    const s = await run('sidecar', 'stats');
    assert.match(s.out, /outbound\s+\/etcdserverpb\.KV\/Range\s+5\s+OK=4 PERMISSION_DENIED=1\s+100\s+2000\s+0\.52\s+12\.3/);
    const c = await run('sidecar', 'connections');
    assert.match(c.out, /7\s+outbound\s+127\.0\.0\.1:40000\s+2\s+9\s+no: kernel path not loaded/);
  } finally {
    await server.shutdown({ timeoutMs: 100 });
    rmSync(dir, { recursive: true, force: true });
  }
});
