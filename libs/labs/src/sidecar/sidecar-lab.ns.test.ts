/**
 * The sidecar scenario, shortened (2 callers, 2 s per phase, 3 etcd keys): calls go through the
 * real sidecar-offload daemon (apps/sidecar-offload/dist, the kernel path asked for), the
 * reloaded policy denies /lab.Inventory/Delete (PERMISSION_DENIED to the client, never at the
 * server) over the same connection, the sidecar's per-method telemetry equals what the client
 * saw, every connection says whether it is offloaded and why not, the etcd key counts reach
 * Redis, the report and chart are written, and the run leaves no `scl` namespace or cgroup. And
 * when the kernel path cannot load, the daemon runs without it and the report says why.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cgroup2Root } from '@netaccel/bpf';
import { cleanStale, listNetns } from '@netaccel/netlab';
import { runScenario } from '../scenario.js';
import { sidecarScenario } from './scenario.js';
import type { MethodReport, SidecarReport } from './report.js';
import { SIDECAR_LAB_PREFIX } from './topology.js';

const REPO = fileURLToPath(new URL('../../../..', import.meta.url));
const install = { sidecarMain: join(REPO, 'apps/sidecar-offload/dist/main.js'), sidecarObject: join(REPO, 'bpf/build/sidecar/sidecar.bpf.o') };
const ours = (): string[] => listNetns().filter((n) => n.startsWith(`${SIDECAR_LAB_PREFIX}-`));
const cgroups = (): string[] => readdirSync(cgroup2Root()).filter((n) => n.startsWith(`${SIDECAR_LAB_PREFIX}-`));

test('sidecar scenario: grpc-js calls through sidecar-offload, Delete denied after a reload, telemetry equals the client, offload state reported, etcd keys counted', async (t) => {
  await cleanStale({ prefix: SIDECAR_LAB_PREFIX });
  t.onTestFinished(() => cleanStale({ prefix: SIDECAR_LAB_PREFIX }).then(() => undefined));
  const said: string[] = [];
  const r: SidecarReport = await runScenario(sidecarScenario, { quick: true, keep: false, install, etcdKeys: 3, progress: (s) => void said.push(s) });

  assert.deepEqual(ours(), [], 'no scl namespace left');
  assert.deepEqual(cgroups(), [], 'no scl cgroup left');
  assert.deepEqual(r.phases.map((p) => p.name), ['every method allowed', 'policy reloaded: /lab.Inventory/Delete denied']);
  assert.ok(r.phases.every((p) => p.calls > 0));
  const m = Object.fromEntries(r.methods.map((x) => [x.method, x]));
  const del = m['/lab.Inventory/Delete']!;
  assert.ok((del.client.statuses.OK ?? 0) > 0 && (del.client.statuses.PERMISSION_DENIED ?? 0) > 0, JSON.stringify(del.client.statuses));
  assert.equal(del.server, del.client.statuses.OK, 'a denied Delete never reached the server');
  // a call is counted in user space (GetStats, /metrics, the access log) or, carried on a spliced connection, by the kernel
  const kernelOk = (x: MethodReport, statuses: Readonly<Record<string, number>>) => ({ ...statuses, OK: (statuses.OK ?? 0) + (x.kernel?.requests ?? 0) });
  const ok = (statuses: Readonly<Record<string, number>>) => Object.fromEntries(Object.entries(statuses).filter(([, n]) => n > 0));
  assert.deepEqual(ok(kernelOk(del, del.sidecar.statuses)), del.client.statuses);
  assert.deepEqual(ok(kernelOk(del, del.metrics)), del.client.statuses);
  assert.deepEqual([r.accessLog.denied?.method, r.accessLog.denied?.grpcStatus], ['/lab.Inventory/Delete', 7]);
  if (r.offload.kernelRequests === 0) {
    assert.deepEqual(del.accessLog, del.client.statuses);
    assert.ok(r.accessLog.lines >= r.client.calls + 9, 'one access-log line per call, the etcd calls included');
  }
  for (const path of ['/lab.Inventory/Get', '/lab.Inventory/List']) {
    const x = m[path]!;
    assert.ok(x.client.calls > 0 && x.client.statuses.OK === x.client.calls, path);
    assert.equal(x.sidecar.calls + (x.kernel?.requests ?? 0), x.client.calls, path);
    const kernelPayload = [x.kernel?.requestPayload ?? 0, x.kernel?.responsePayload ?? 0];
    assert.deepEqual([x.sidecar.requestBytes + kernelPayload[0]!, x.sidecar.responseBytes + kernelPayload[1]!], [x.client.requestBytes, x.client.responseBytes], path);
    if (x.sidecar.calls > 0) assert.ok(x.sidecar.p99Ms >= x.sidecar.p50Ms && x.sidecar.p50Ms > 0, path);
  }
  assert.equal(m['/lab.Inventory/List']!.client.responseBytes, m['/lab.Inventory/List']!.client.calls * 8 * 512);
  assert.equal(r.policy.connectionsKept, r.policy.connectionsBefore);
  assert.ok(r.offload.connections.length > 0);
  for (const c of r.offload.connections) assert.ok(c.offloaded || c.reason !== '', `connection ${c.id}: offloaded, or a reason why not`);
  assert.deepEqual(r.etcdHeat?.keys.map((k) => [k.key, k.redisReads, k.redisWrites]), [['/scl/key-0', 1, 1], ['/scl/key-1', 2, 1], ['/scl/key-2', 3, 1]]);
  assert.equal(r.client.errors, 0);
  assert.ok(existsSync(r.files.svg) && existsSync(r.files.json));
  assert.match(said.join(''), /kernel path: /);
}, 120_000);

test('sidecar scenario: a kernel path that cannot load (no such object) → the daemon runs without it, the report says why, the calls and the policy are the same', async (t) => {
  await cleanStale({ prefix: SIDECAR_LAB_PREFIX });
  t.onTestFinished(() => cleanStale({ prefix: SIDECAR_LAB_PREFIX }).then(() => undefined));
  const r = await runScenario(sidecarScenario, { quick: true, keep: false, install: { ...install, sidecarObject: '/nonexistent/sidecar.bpf.o' }, clients: 1, holdMs: 1000, etcdKeys: 0, progress: () => undefined });

  assert.deepEqual([ours(), cgroups()], [[], []]);
  assert.equal(r.offload.requested, true);
  assert.match(r.offload.loadError ?? '', /nonexistent\/sidecar\.bpf\.o/);
  assert.match(r.offload.kernelPath, /^not loaded: /);
  assert.ok(r.offload.connections.every((c) => !c.offloaded && c.reason !== ''));
  assert.deepEqual(Object.keys(r.offload.frames), [], 'no kernel counters without the kernel path');
  assert.equal(r.etcdHeat, undefined);
  assert.ok((r.policy.after.PERMISSION_DENIED ?? 0) > 0 && r.client.errors === 0);
}, 120_000);
