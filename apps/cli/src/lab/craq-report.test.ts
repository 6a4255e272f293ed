/**
 * The CRAQ scenario's report text. The scenario itself runs in libs/labs/src/craq/craq-lab.ns.test.ts.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { CraqReport } from '@netaccel/labs';
import { craqReportText } from './craq-report.js';

const phase = (name: string, fromMs: number, toMs: number, ops: number, p50Ms: number, p99Ms: number) => ({ name, fromMs, toMs, ops, opsPerSec: ops / ((toMs - fromMs) / 1000), p50Ms, p99Ms, unknown: 0 });
const served = (phase: string, chainReads: number, etcdReads: number, retries = 0) => ({ phase, chainReads, etcdReads, chainWrites: 0, etcdWrites: 1, retries, errors: 0 });
const keys = Array.from({ length: 10 }, (_, i) => `/ncl/key-0000${i}`);

const report: CraqReport = {
  scenario: 'craq',
  runId: 'r1',
  startedAt: '2026-12-07T00:00:00.000Z',
  quick: false,
  keys: 4000,
  zipf: 0.99,
  clients: 8,
  writeRatio: 0.05,
  layout: 'namespaces on one bridge',
  logDir: '/tmp/ncl',
  files: { svg: '/tmp/ncl/craq-chart.svg', json: '/tmp/ncl/craq-report.json', history: '/tmp/ncl/history.json' },
  steps: [],
  reads: [phase('etcd only (nothing placed)', 0, 8000, 800, 20, 150.5), phase('hot keys in the chain', 12000, 20000, 4000, 2.5, 40)],
  all: [],
  servedBy: [served('etcd only (nothing placed)', 0, 800), served('hot keys in the chain', 2500, 1500), served('chain n1 → n3', 2000, 1400, 3)],
  placement: { keys, firstPlacedMs: 900, settledMs: 3100, expectedSharePct: 41.5, changes: [] },
  failure: { killed: 'n2', chainBefore: ['n1', 'n2', 'n3'], chainAfter: ['n1', 'n3'], lastChange: 'node n2 failed (3 probes missed): n1 -> n3, epoch 2', reconfiguredMs: 420, retries: 3, errors: 0 },
  client: { ops: 9000, errors: 0, errorSamples: [] },
  linearizability: { outcome: 'linearizable', operations: 5000, unknown: 0, keys: 10, checkMs: 20 },
  chart: { points: [], events: [], placed: [], durationMs: 30000 },
};

test('the CRAQ report: reads per phase, served by, placement, the failure, the check and the files', () => {
  const text = craqReportText(report);
  assert.match(text, /NetCRAQ: 4000 etcd keys, Zipf 0\.99, 8 closed-loop clients, 5 % writes\n/);
  assert.match(text, /etcd only \(nothing placed\)\s+0\.0-8\.0\s+800\s+100\s+20\.00 ms\s+150\.50 ms/);
  assert.match(text, /hot keys in the chain\s+12\.0-20\.0\s+4000\s+500\s+2\.50 ms\s+40\.00 ms/);
  assert.match(text, /hot keys in the chain\s+2500\s+1500\s+0\s+1\s+0\s+0/);
  assert.match(text, /first key placed 900 ms after the scheduler started; settled after 3100 ms with 10 keys \(Zipf: 41\.5 % of draws\)/);
  assert.match(text, /hottest placed: \/ncl\/key-00000, .*\/ncl\/key-00007, … \(2 more\)/);
  assert.match(text, /n2 killed: chain n1 → n2 → n3 → n1 → n3 in 420 ms \(node n2 failed \(3 probes missed\): n1 -> n3, epoch 2\); the clients since: 3 retries, 0 errors/);
  assert.match(text, /history of the placed keys: 5000 operations on 10 keys, 0 of unknown outcome: linearizable \(checked in 20 ms\)/);
  assert.match(text, /chart: \/tmp\/ncl\/craq-chart\.svg\nfigures: \/tmp\/ncl\/craq-report\.json$/);
});
