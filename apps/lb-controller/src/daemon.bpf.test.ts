/**
 * BPF layer: the whole controller (on the daemon host) on the real xlb.bpf.o loaded in this process, with a
 * services file, HTTP health checks against servers on loopback, a recording announcer, the
 * Balancer gRPC service, and the metrics endpoint.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore } from '@netaccel/config';
import { DaemonHost } from '@netaccel/daemon';
import { InProcessDataPlane } from '@netaccel/dataplane';
import { XLB_BALANCER } from '@netaccel/bpf-programs/xlb';
import { PROM_CLIENT_LINT_EXCEPTIONS, createLogCapture, createLogger, lintExposition, parseExposition } from '@netaccel/telemetry';
import { objectPath } from '@netaccel/bpf-programs/xlb/testing';
import { BalancerClient, balancerV1, createRpcClient } from '@netaccel/rpc';
import { lbControllerConfig } from './config.js';
import { Controller, VERSION } from './daemon.js';
import { XlbDataPlane } from './data-plane.js';

async function until(ok: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the controller: file → tables, health → rotation and announcements, gRPC, metrics, shutdown withdraws', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-daemon-'));
  const servers: Server[] = [];
  const statuses = [200, 200, 200];
  for (let i = 0; i < 3; i++) {
    const s = createServer((_req, res) => res.writeHead(statuses[i]!).end(`b${i}`));
    await new Promise<void>((r) => s.listen(18080, `127.0.0.${i + 2}`, r));
    servers.push(s);
  }
  const services = join(dir, 'services.yaml');
  const backends = (n: number) => Array.from({ length: n }, (_, i) => `{ address: 127.0.0.${i + 2}, port: 18080, mac: "02:00:00:00:10:0${i}" }`).join(', ');
  const write = (n: number) =>
    writeFileSync(services, `services:\n  - { name: web, vip: 198.51.100.10, port: 80, mode: nat, tableSize: 1009, healthCheck: { type: http, path: /, interval: 50ms, timeout: 1s, rise: 1, fall: 2 }, backends: [${backends(n)}] }\n`);
  write(2);
  const socket = join(dir, 'lb.sock');
  const configFile = join(dir, 'lb-controller.yaml');
  writeFileSync(configFile, `dataPlane: { via: direct, object: ${objectPath('balancer')}, natSourceV4: 10.99.0.1 }\nsource: { kind: file, file: ${services} }\ngrpc: { socket: ${socket} }\ntelemetry: { listen: "127.0.0.1:0" }\nleastConn: { interval: 100ms }\n`);
  const store = await ConfigStore.open(lbControllerConfig, { file: configFile, env: {} });
  const maps = InProcessDataPlane.open(XLB_BALANCER, objectPath('balancer'));
  const dp = new XlbDataPlane(maps);
  // the program counts as attached so that announcements are made (attaching is the ns tests')
  const wrapped = new Proxy(dp, {
    get(t, p) {
      if (p === 'attached') return async () => true;
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  const calls: string[] = [];
  const capture = createLogCapture();
  const log = createLogger({ name: 'lb-controller', destination: capture.stream, level: 'debug' });
  const host = new DaemonHost({ name: 'lb-controller', version: VERSION, store, log, env: {} });
  const daemon = await host.start((h) =>
    Controller.start(h, {
      dataPlane: wrapped,
      announcer: { announce: async (p) => void calls.push(`+${p}`), withdraw: async (p) => void calls.push(`-${p}`), close: () => undefined },
    }),
  );
  try {
    const svc = () => daemon.reconciler.services.get('198.51.100.10:80/tcp')!;
    await until(() => [...svc().backends.values()].every((b) => b.inTable), 'both backends healthy and in the table');
    await until(() => calls.includes('+198.51.100.10/32'), 'announced');

    const client = createRpcClient(BalancerClient, { address: socket });
    try {
      const ls = await client.listServices(balancerV1.ListServicesRequest.create());
      assert.equal(ls.services.length, 1);
      assert.deepEqual(
        { id: ls.services[0]!.id, name: ls.services[0]!.name, mode: ls.services[0]!.mode, healthy: ls.services[0]!.backendsHealthy, announced: ls.services[0]!.announced },
        { id: '198.51.100.10:80/tcp', name: 'web', mode: balancerV1.ForwardingMode.FORWARDING_MODE_NAT, healthy: 2, announced: true },
      );
      const lb = await client.listBackends(balancerV1.ListBackendsRequest.create({ serviceId: '198.51.100.10:80/tcp' }));
      assert.deepEqual(lb.backends.map((x) => [x.address, x.port, x.health]), [['127.0.0.2', 18080, 1], ['127.0.0.3', 18080, 1]]);

      // a backend answering 500 leaves the rotation within interval x fall
      const t0 = performance.now();
      statuses[0] = 500;
      await until(() => !svc().backends.get('198.51.100.10:80/tcp|127.0.0.2:18080')!.inTable, 'failed backend out');
      assert.ok(performance.now() - t0 < 50 * 2 + 1000, `${performance.now() - t0} ms`);
      const lb2 = await client.listBackends(balancerV1.ListBackendsRequest.create());
      assert.deepEqual(lb2.backends.map((x) => [x.address, x.health, x.lastCheckError]), [['127.0.0.2', 2, 'HTTP 500 (expected 200)'], ['127.0.0.3', 1, '']]);

      // drain the other one: no backend in the table, the VIP is withdrawn; undrain announces again
      assert.equal((await client.drain(balancerV1.DrainRequest.create({ address: '127.0.0.3' }))).changed, 1);
      assert.equal(svc().backends.get('198.51.100.10:80/tcp|127.0.0.3:18080')!.inTable, false);
      await until(() => calls.includes('-198.51.100.10/32'), 'withdrawn with no backend left');
      assert.equal((await client.drain(balancerV1.DrainRequest.create({ address: '127.0.0.3', cancel: true }))).changed, 1);
      await until(() => calls.filter((c) => c === '+198.51.100.10/32').length === 2, 'announced again');
      await assert.rejects(client.drain(balancerV1.DrainRequest.create({ address: '10.9.9.9' })), /no backend 10\.9\.9\.9/);
      await assert.rejects(client.listBackends(balancerV1.ListBackendsRequest.create({ serviceId: 'nope' })), /no service "nope"/);
      const st = await client.getStats(balancerV1.GetStatsRequest.create());
      assert.equal(st.vips.length, 1);
      assert.equal(st.vips[0]!.backends.length, 2);
    } finally {
      client.close();
    }

    // the file changes: a third backend; a bad file is refused whole
    write(3);
    await until(() => svc().backends.size === 3 && svc().backends.get('198.51.100.10:80/tcp|127.0.0.4:18080')!.inTable, 'third backend');
    writeFileSync(services, 'services: [{ vip: 198.51.100.10, port: 80, mode: warp }]\n');
    await until(() => capture.find({ level: 'warn', component: 'source-file' }).length === 1, 'refusal logged');
    assert.equal(svc().backends.size, 3);
    // an empty (truncated) file is refused too; each refusal is counted and the last one shown in /v1/status
    writeFileSync(services, '');
    await until(() => capture.find({ level: 'warn', component: 'source-file' }).length === 2, 'second refusal logged');
    assert.equal(svc().backends.size, 3);

    assert.match(daemon.status(), /^1 services; .*; serving .*lb\.sock$/);
    const status = JSON.parse((await daemon.telemetry!.app.inject({ method: 'GET', url: '/v1/status' })).body) as { app: string; version: string; services: number; lastRefused?: { origin: string; code: string; error: string } };
    assert.deepEqual([status.app, status.version, status.services], ['lb-controller', VERSION, 1]);
    assert.deepEqual([status.lastRefused?.origin, status.lastRefused?.code], [services, 'NA_ERR_LB_STATE_INVALID']);
    assert.match(status.lastRefused!.error, /services: \[\]/, 'the empty file\'s refusal names the way to remove every service');
    const listed = createRpcClient(BalancerClient, { address: socket });
    try {
      const ls = await listed.listServices(balancerV1.ListServicesRequest.create());
      assert.deepEqual([ls.services.length, ls.lastRefused?.origin, ls.lastRefused?.code], [1, services, 'NA_ERR_LB_STATE_INVALID'], 'ListServices shows the refusal beside the running services');
    } finally {
      listed.close();
    }
    const metrics = await daemon.telemetry!.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /netaccel_lb_backend_healthy\{service="198\.51\.100\.10:80\/tcp",backend="127\.0\.0\.2:18080",state="unhealthy"\} 0/);
    assert.match(metrics.body, /netaccel_lb_table_builds_total [1-9]/);
    assert.match(metrics.body, /netaccel_lb_apply_latency_seconds_count [1-9]/);
    assert.match(metrics.body, /netaccel_lb_source_problems_total\{source="file",kind="state"\} 2/);
    assert.match(metrics.body, /netaccel_lb_states_refused_total 2/);
    assert.match(metrics.body, /netaccel_lb_state_updates_total\{result="refused"\} 2/);
    assert.match(metrics.body, /netaccel_lb_state_updates_total\{result="accepted"\} [2-9]/);
    assert.match(metrics.body, /netaccel_lb_dropped_packets_total\{reason="no_backend"\} 0/);
    assert.match(metrics.body, /# TYPE netaccel_lb_vip_packets_total counter/);
    assert.match(metrics.body, new RegExp(`netaccel_build_info\\{app="lb-controller",version="${VERSION.replaceAll('.', '\\.')}"`));
    // the exposition as Prometheus reads it, and promtool's lint rules
    assert.deepEqual(lintExposition(parseExposition(metrics.body), { except: PROM_CLIENT_LINT_EXCEPTIONS }), []);
    assert.match(metrics.body, /netaccel_lb_vip_announced\{prefix="198\.51\.100\.10\/32"\} 1/);
  } finally {
    await host.close();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(calls.at(-1), '-198.51.100.10/32', 'shutdown withdraws');
  await maps.close().catch(() => undefined);
});
