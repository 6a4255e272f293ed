/**
 * The sidecar scenario's report text. The scenario itself runs in libs/labs/src/sidecar/sidecar-lab.ns.test.ts.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { MethodCount, SidecarReport } from '@netaccel/labs';
import { sidecarReportText } from './sidecar-report.js';

const count = (statuses: Record<string, number>, requestBytes: number, responseBytes: number, p50Ms: number, p99Ms: number): MethodCount => ({
  calls: Object.values(statuses).reduce((a, b) => a + b, 0),
  statuses,
  requestBytes,
  responseBytes,
  p50Ms,
  p99Ms,
});

const report: SidecarReport = {
  scenario: 'sidecar',
  runId: 'r1',
  startedAt: '2026-12-07T00:00:00.000Z',
  quick: false,
  clients: 4,
  layout: 'pods c and s on one veth pair',
  logDir: '/tmp/scl',
  files: { svg: '/tmp/scl/sidecar-chart.svg', json: '/tmp/scl/sidecar-report.json', history: '/tmp/scl/history.json' },
  steps: [],
  phases: [
    { name: 'every method allowed', fromMs: 0, toMs: 6000, calls: 600, callsPerSec: 100, p50Ms: 12.5, p99Ms: 40, statuses: { '/lab.Inventory/Delete': { OK: 60 } } },
    { name: 'policy reloaded: /lab.Inventory/Delete denied', fromMs: 6000, toMs: 12000, calls: 660, callsPerSec: 110, p50Ms: 11, p99Ms: 35.25, statuses: { '/lab.Inventory/Delete': { OK: 1, PERMISSION_DENIED: 65 } } },
  ],
  methods: [
    { method: '/lab.Inventory/Get', client: count({ OK: 760 }, 24320, 194560, 11, 30), sidecar: { ...count({ OK: 760 }, 24320, 194560, 7, 28), requestMessages: 760, responseMessages: 760 }, metrics: { OK: 760 }, accessLog: { OK: 760 }, server: 760 },
    {
      method: '/lab.Inventory/Delete',
      client: count({ OK: 61, PERMISSION_DENIED: 65 }, 4032, 976, 9, 200),
      sidecar: { ...count({ OK: 61, PERMISSION_DENIED: 65 }, 1952, 976, 1, 71), requestMessages: 61, responseMessages: 61 },
      metrics: { OK: 61, PERMISSION_DENIED: 65 },
      accessLog: { OK: 61, PERMISSION_DENIED: 65 },
      server: 61,
      kernel: { requests: 10, responses: 10, denied: 1, requestBytes: 370, responseBytes: 210, requestPayload: 320, responsePayload: 160 },
    },
  ],
  policy: { denied: '/lab.Inventory/Delete', reloadMs: 58, connectionsBefore: 1, connectionsKept: 1, before: { OK: 60 }, after: { PERMISSION_DENIED: 65 } },
  offload: {
    requested: true,
    kernelPath: 'loaded',
    connections: [{ id: '1', remote: '10.89.0.10:50980', streams: 1260, offloaded: false, reason: 'not paired: the proxy terminates HTTP/2' }],
    frames: { SIDECAR_REASON_REDIRECTED: 0, SIDECAR_REASON_HPACK_DYNAMIC: 0 },
    kernelRequests: 0,
  },
  accessLog: { lines: 889, denied: { component: 'access', method: '/lab.Inventory/Delete', grpcCode: 'PERMISSION_DENIED' } },
  etcdHeat: { keys: [{ key: '/scl/key-0', reads: 1, writes: 1, redisReads: 1, redisWrites: 1 }, { key: '/scl/key-1', reads: 2, writes: 1, redisReads: 2, redisWrites: 1 }] },
  client: { calls: 1260, errors: 0, errorSamples: [] },
  chart: { points: [], events: [], denied: [], durationMs: 12000 },
};

test('the sidecar report: phases, per method beside the sidecar and the server, the reload, the offload state, etcd counts and the files', () => {
  const text = sidecarReportText(report);
  assert.match(text, /^sidecar-offload: 4 grpc-js callers through the inbound sidecar/);
  assert.match(text, /every method allowed\s+0\.0-6\.0\s+600\s+100\s+12\.50 ms\s+40\.00 ms\s+OK 60\n/);
  assert.match(text, /policy reloaded: \/lab\.Inventory\/Delete denied\s+6\.0-12\.0\s+660\s+110\s+11\.00 ms\s+35\.25 ms\s+OK 1, PERMISSION_DENIED 65/);
  assert.match(text, /\/lab\.Inventory\/Delete\s+OK 61, PERMISSION_DENIED 65\s+OK 61, PERMISSION_DENIED 65\s+OK 61, PERMISSION_DENIED 65\s+OK 61, PERMISSION_DENIED 65\s+61\s+10\s+4032 \/ 2272\s+976 \/ 1136\s+9\.00 ms \/ 1\.00 ms\s+200\.00 ms \/ 71\.00 ms/);
  assert.match(text, /access log: 889 lines \(one per call in user space\); a denied call: \{"component":"access","method":"\/lab\.Inventory\/Delete","grpcCode":"PERMISSION_DENIED"\}\n/);
  assert.match(text, /policy: \/lab\.Inventory\/Delete denied by a reload \(SIGHUP, applied in 58 ms\): before OK 60; invoked after PERMISSION_DENIED 65; the client's connections kept 1 of 1/);
  assert.match(text, /kernel path: loaded\n {2}connection 1 from 10\.89\.0\.10:50980, 1260 streams: not offloaded: not paired: the proxy terminates HTTP\/2\n/);
  assert.match(text, / {2}kernel counters: \/lab\.Inventory\/Delete requests 10, responses 10, denied 1, DATA 370 B \/ 210 B\n {2}requests the kernel carried: 0\n {2}HTTP\/2 frames the kernel saw: 0\n/);
  assert.match(text, /\/scl\/key-0 1\/1 = 1\/1, \/scl\/key-1 2\/1 = 2\/1/);
  assert.match(text, /chart: \/tmp\/scl\/sidecar-chart\.svg\nfigures: \/tmp\/scl\/sidecar-report\.json$/);
});
