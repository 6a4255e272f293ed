/** Unit: `netaccel lb` against a Balancer service: enums by name in --json, one envelope, the port a backend receives on. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BalancerService, balancerV1, createRpcServer, rpcService } from '@netaccel/rpc';
import { runCliCaptured } from '../capture.js';
import { lbGroup } from './lb.js';

test('lb services | backends: --json has enums as names and one envelope; PORT shows the service port for "same as the service"', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-lb-'));
  const socket = join(dir, 'lb-controller.sock');
  const id = '198.51.100.10:80/tcp';
  const server = await createRpcServer({
    address: socket,
    services: [
      rpcService(BalancerService, {
        listServices: () => balancerV1.ListServicesResponse.create({
          lastRefused: balancerV1.RefusedState.create({ at: new Date('2026-12-07T05:00:00.000Z'), origin: '/etc/netaccel/services.yaml', code: 'NA_ERR_LB_STATE_INVALID', error: 'desired state refused (/etc/netaccel/services.yaml):\n(file): empty; write services: [] to remove every service' }),
          services: [balancerV1.Service.create({ id, vip: '198.51.100.10', port: 80, protocol: balancerV1.Protocol.PROTOCOL_TCP, mode: balancerV1.ForwardingMode.FORWARDING_MODE_L2DSR, scheduler: balancerV1.Scheduler.SCHEDULER_MAGLEV, tableSize: 65537, backendsTotal: 2, backendsHealthy: 2, announced: true })],
        }),
        listBackends: () => balancerV1.ListBackendsResponse.create({
          backends: [
            balancerV1.Backend.create({ serviceId: id, address: '10.0.1.5', port: 0, weight: 1, health: balancerV1.BackendHealth.BACKEND_HEALTH_HEALTHY }),
            balancerV1.Backend.create({ serviceId: id, address: '10.0.1.6', port: 8080, weight: 1, health: balancerV1.BackendHealth.BACKEND_HEALTH_UNHEALTHY }),
          ],
        }),
        drain: () => balancerV1.DrainResponse.create({ changed: 1 }),
        getStats: () => balancerV1.GetStatsResponse.create(),
      }),
    ],
  });
  t.onTestFinished(async () => {
    await server.shutdown({ timeoutMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (...argv: string[]) => runCliCaptured(['lb', ...argv, '--socket', socket], [lbGroup]);
  const s = await run('services', '--json');
  assert.equal(s.code, 0, s.err);
  const sj = JSON.parse(s.out) as { services: { id: string; mode: string; protocol: string; scheduler: string }[] };
  assert.deepEqual(sj.services.map((x) => [x.id, x.mode, x.protocol, x.scheduler]), [[id, 'l2dsr', 'tcp', 'maglev']]);
  assert.equal((sj as { lastRefused?: { code: string } }).lastRefused?.code, 'NA_ERR_LB_STATE_INVALID');
  // a refused reload is visible under the table
  const text = (await run('services')).out;
  assert.ok(text.endsWith([
    '',
    'refused: the last desired state from /etc/netaccel/services.yaml (2026-12-07T05:00:00.000Z) was refused; these services are the state before it [NA_ERR_LB_STATE_INVALID]',
    '  desired state refused (/etc/netaccel/services.yaml):',
    '  (file): empty; write services: [] to remove every service',
    '',
  ].join('\n')), text);
  const b = await run('backends');
  assert.equal(b.code, 0, b.err);
  assert.match(b.out, /^SERVICE\s+ADDRESS\s+PORT\s+WEIGHT\s+HEALTH\s+DRAINING\s+LAST ERROR\n198\.51\.100\.10:80\/tcp\s+10\.0\.1\.5\s+80\s+1\s+healthy\s+no\s+-\n198\.51\.100\.10:80\/tcp\s+10\.0\.1\.6\s+8080\s+1\s+unhealthy\s+no\s+-\n$/);
  const bj = JSON.parse((await run('backends', '--json')).out) as { backends: { port: number; samePortAsService: boolean; health: string }[] };
  assert.deepEqual(bj.backends.map((x) => [x.port, x.samePortAsService, x.health]), [[80, true, 'healthy'], [8080, false, 'unhealthy']]);
  assert.equal((await run('drain', '10.0.1.5')).out, 'draining 10.0.1.5: 1 backend changed\n');
});
