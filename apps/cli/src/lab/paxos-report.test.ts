/**
 * `netaccel lab --scenario`: the choice of scenarios, its usage errors, and the Paxos report's
 * text. The scenario itself runs in libs/labs/src/paxos/paxos-lab.ns.test.ts.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { PaxosReport } from '@netaccel/labs';
import { runCliCaptured } from '../capture.js';
import { groups } from '../commands/index.js';
import { paxosReportText } from './paxos-report.js';
import { scenariosOf } from './scenarios.js';

const counters = (phase: string, offloads: number, n: number) => ({
  phase,
  offloads,
  broadcast: { prepares: n, clones: 2 * n, errors: 0 },
  fastAck: { acks: 2 * n },
  quorum: { quorums: n, filtered: n },
  passed: 10,
});

const report: PaxosReport = {
  scenario: 'paxos',
  runId: 'r1',
  startedAt: '2026-12-07T00:00:00.000Z',
  quick: false,
  replicas: 5,
  clients: 4,
  keys: 16,
  logDir: '/tmp/npl',
  files: { svg: '/tmp/npl/paxos-chart.svg', json: '/tmp/npl/paxos-report.json', history: '/tmp/npl/history.json' },
  steps: [],
  phases: [
    { name: 'offloads off', fromMs: 0, toMs: 8000, ops: 8000, opsPerSec: 1000, p50Ms: 2, p99Ms: 20, unknown: 0 },
    { name: 'offloads on', fromMs: 8000, toMs: 16000, ops: 9600, opsPerSec: 1200, p50Ms: 1.5, p99Ms: 15.25, unknown: 1 },
  ],
  counters: [counters('offloads off', 0, 0), counters('offloads on', 7, 400)],
  views: [
    { atMs: 16600, replica: 2, view: 1, status: 'view-change', leader: 1 },
    { atMs: 16650, replica: 1, view: 1, status: 'normal', leader: 1 },
    { atMs: 16660, replica: 2, view: 1, status: 'normal', leader: 1 },
  ],
  failover: { killed: 0, killedView: 0, newView: 1, newLeader: 1, viewChangeMs: 450, serviceBackMs: 520, rejoinMs: 4000, recoveryMs: 1500 },
  linearizability: { outcome: 'linearizable', operations: 17600, unknown: 1, keys: 16, checkMs: 300 },
  chart: { points: [], events: [], offloadsOn: [], durationMs: 16000 },
};

test('--scenario: thesis, paxos, or all of them in order; another name is refused with the nearest', async () => {
  assert.deepEqual(scenariosOf('all'), ['thesis', 'paxos', 'craq', 'sidecar']);
  assert.deepEqual(scenariosOf('sidecar'), ['sidecar']);
  assert.deepEqual(scenariosOf('craq'), ['craq']);
  assert.deepEqual(scenariosOf('paxos'), ['paxos']);
  assert.deepEqual(scenariosOf('scaling'), ['scaling']);
  assert.throws(() => scenariosOf('paxo'), /--scenario: expected one of thesis, paxos, craq, sidecar, scaling, all, got "paxo" \(did you mean paxos\?\)/);
  const bad = await runCliCaptured(['lab', '--scenario', 'netcraq'], groups);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--scenario: expected one of thesis, paxos, craq, sidecar, scaling, all/);
  const keep = await runCliCaptured(['lab', '--scenario', 'paxos', '--keep'], groups);
  assert.equal(keep.code, 2);
  assert.match(keep.err, /--keep: only the thesis scenario/);
  const help = await runCliCaptured(['lab', 'run', '--help'], groups);
  assert.match(help.out, /--scenario <thesis\|paxos\|craq\|sidecar\|scaling\|all>/);
});

test('the Paxos report: phases, failover, counters per offload, the check and the files', () => {
  const text = paxosReportText(report);
  assert.match(text, /5 replicas, 4 closed-loop clients on 16 keys/);
  assert.match(text, /offloads on\s+8\.0-16\.0\s+9600\s+1200\s+1\.50 ms\s+15\.25 ms\s+1/);
  assert.match(text, /views during the run \(first replica normal in each\): view 1 \(leader r1\) at 16\.6 s\n/);
  assert.match(text, /kill -9 of leader r0 \(view 0\) → view 1 normal \(leader r1\): 450 ms; → clients served again: 520 ms/);
  assert.match(text, /r0 restarted → normal in the current view: 4000 ms \(of which recovery and state transfer 1500 ms\)/);
  assert.match(text, /offloads on\s+all on\s+400\s+800\s+800\s+400\s+400\s+10/);
  assert.match(text, /offloads off\s+off\s+0\s+0\s+0\s+0\s+0\s+10/);
  assert.match(text, /history: 17600 operations on 16 keys, 1 of unknown outcome: linearizable/);
  assert.match(text, /chart: \/tmp\/npl\/paxos-chart\.svg\nfigures: \/tmp\/npl\/paxos-report\.json$/);
});
