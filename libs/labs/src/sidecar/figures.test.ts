import { test } from 'vitest';
import assert from 'node:assert/strict';
import { accessLogCalls, callsPerSecond, clientMethods, kernelCounter, metricCalls, parseMetrics, sidecarPhases, telemetryFaults } from './figures.js';
import type { CallRecord, MethodCount } from './figures.js';
import { sidecarConfigText } from './processes.js';

const T0 = 1_000_000;
const history: CallRecord[] = [
  ['get', T0 + 10, T0 + 20, 0, 32, 256],
  ['get', T0 + 900, T0 + 1100, 0, 32, 256],
  ['list', T0 + 100, T0 + 130, 0, 8, 4096],
  ['delete', T0 + 200, T0 + 204, 0, 32, 16],
  ['delete', T0 + 1500, T0 + 1501, 7, 32, 0],
];

test('per method: calls by status name, bytes each way, latency quantiles', () => {
  const m = clientMethods(history, ['get', 'list', 'delete']);
  assert.deepEqual(Object.keys(m), ['/lab.Inventory/Get', '/lab.Inventory/List', '/lab.Inventory/Delete']);
  assert.deepEqual(m['/lab.Inventory/Get'], { calls: 2, statuses: { OK: 2 }, requestBytes: 64, responseBytes: 512, p50Ms: 10, p99Ms: 200 });
  assert.deepEqual(m['/lab.Inventory/Delete']!.statuses, { OK: 1, PERMISSION_DENIED: 1 });
});

test('phases and seconds: a call belongs to the one it completed in', () => {
  const [a, b] = sidecarPhases(history, [{ name: 'allowed', from: T0, to: T0 + 1000 }, { name: 'denied', from: T0 + 1000, to: T0 + 2000 }], T0);
  assert.deepEqual([a!.calls, a!.callsPerSec, a!.fromMs, a!.toMs], [3, 3, 0, 1000]);
  assert.deepEqual(b!.statuses, { '/lab.Inventory/Get': { OK: 1 }, '/lab.Inventory/Delete': { PERMISSION_DENIED: 1 } });
  assert.deepEqual(callsPerSecond(history, T0, T0 + 2000).map((p) => [p.atMs, p.opsPerSec, p.p99Ms]), [[1000, 3, 30], [2000, 2, 200]]);
});

test('/metrics: calls by method and status of one listener, kernel counters; a disagreement with the client is named', () => {
  const text = [
    '# HELP netaccel_sidecar_calls_total gRPC calls',
    'netaccel_sidecar_calls_total{listener="inbound",method="/lab.Inventory/Delete",code="OK"} 1',
    'netaccel_sidecar_calls_total{listener="inbound",method="/lab.Inventory/Delete",code="PERMISSION_DENIED"} 1',
    'netaccel_sidecar_calls_total{listener="other",method="/lab.Inventory/Delete",code="OK"} 9',
    'netaccel_sidecar_kernel_requests{method="/lab.Inventory/Delete"} 0',
    'netaccel_sidecar_kernel_requests{method="other"} 4',
  ].join('\n');
  const s = parseMetrics(text);
  const metrics = metricCalls(s, 'inbound');
  assert.deepEqual(metrics, { '/lab.Inventory/Delete': { OK: 1, PERMISSION_DENIED: 1 } });
  assert.deepEqual(kernelCounter(s, 'requests'), { '/lab.Inventory/Delete': 0, other: 4 });

  const client = clientMethods(history, ['delete', 'get']);
  const sidecar: Record<string, MethodCount> = { '/lab.Inventory/Delete': { ...client['/lab.Inventory/Delete']!, requestBytes: 32 } };
  assert.deepEqual(telemetryFaults({ '/lab.Inventory/Delete': client['/lab.Inventory/Delete']! }, sidecar, { '/metrics': metrics }), [], 'a denied method\'s request bytes are not compared');
  const faults = telemetryFaults(client, { ...sidecar, '/lab.Inventory/Get': { ...client['/lab.Inventory/Get']!, responseBytes: 1 } }, { '/metrics': metrics });
  assert.equal(faults.length, 2);
  assert.match(faults[0]!, /^\/lab\.Inventory\/Get: the client saw \{"OK":2\}, the sidecar's \/metrics \{\}/);
  assert.match(faults[1]!, /^\/lab\.Inventory\/Get: the client sent 64 B and received 512 B, the sidecar counted 64 B and 1 B/);
});

test('calls the kernel carried count as OK beside user space\'s, their payload beside its bytes', () => {
  const client = clientMethods(history, ['get', 'delete']);
  const get = client['/lab.Inventory/Get']!;
  const user = { '/lab.Inventory/Get': { ...get, calls: 0, statuses: {}, requestBytes: 0, responseBytes: 0 }, '/lab.Inventory/Delete': client['/lab.Inventory/Delete']! };
  const metrics = { '/lab.Inventory/Delete': { OK: 1, PERMISSION_DENIED: 1 } };
  const k = (requests: number, requestPayload: number, responsePayload: number) => ({ requests, requestPayload, responsePayload });
  assert.deepEqual(telemetryFaults(client, user, { '/metrics': metrics }, { '/lab.Inventory/Get': k(2, 64, 512), '/lab.Inventory/Delete': k(0, 0, 0) }), []);
  const faults = telemetryFaults(client, user, { '/metrics': metrics }, { '/lab.Inventory/Get': k(1, 32, 256) });
  assert.deepEqual(faults, [
    '/lab.Inventory/Get: the client saw {"OK":2}, the sidecar\'s GetStats {} + the kernel\'s 1 requests',
    '/lab.Inventory/Get: the client saw {"OK":2}, the sidecar\'s /metrics {} + the kernel\'s 1 requests',
    '/lab.Inventory/Get: the client sent 64 B and received 512 B, the sidecar counted 32 B and 256 B + the kernel\'s 1 requests',
  ]);
});

test('the access log: calls by method and status from the daemon\'s "grpc call" lines, other lines skipped', () => {
  const log = [
    '{"level":"info","msg":"configuration loaded"}',
    '{"level":"info","component":"access","method":"/lab.Inventory/Delete","grpcStatus":7,"grpcCode":"PERMISSION_DENIED","msg":"grpc call"}',
    '{"level":"info","component":"access","method":"/lab.Inventory/Delete","grpcStatus":0,"grpcCode":"OK","msg":"grpc call"}',
    '{"level":"info","component":"access","method":"/lab.Inventory/Get","grpcStatus":0,"grpcCode":"OK","msg":"grpc call"}',
    '{"level":"info","component":"access","method":"/lab.Inv',
  ].join('\n');
  const a = accessLogCalls(log);
  assert.deepEqual(a.calls, { '/lab.Inventory/Delete': { PERMISSION_DENIED: 1, OK: 1 }, '/lab.Inventory/Get': { OK: 1 } });
  assert.equal(a.lines.length, 3);
});

test('the daemon configuration: the denied methods, the kernel block on or off, etcd routed and counted', () => {
  const on = sidecarConfigText({ methods: ['/lab.Inventory/Get', '/lab.Inventory/Delete'], deny: ['/lab.Inventory/Delete'], cgroup: '/sys/fs/cgroup/scl-x', object: '/o/sidecar.bpf.o', etcd: true, socket: '/tmp/s.sock' });
  assert.match(on, /rules: \[\{ method: \/lab\.Inventory\/Get, action: allow \}, \{ method: \/lab\.Inventory\/Delete, action: deny \}\]/);
  assert.match(on, /kernel: \{ enabled: true, via: direct, cgroup: '\/sys\/fs\/cgroup\/scl-x', object: '\/o\/sidecar\.bpf\.o' \}/);
  assert.match(on, /service: etcdserverpb\.KV, cluster: etcd/);
  const off = sidecarConfigText({ methods: [], deny: [], cgroup: undefined, object: '', etcd: false, socket: '/tmp/s.sock' });
  assert.match(off, /rules: \[\]/);
  assert.match(off, /kernel: \{ enabled: false \}/);
  assert.doesNotMatch(off, /etcdserverpb/);
});
