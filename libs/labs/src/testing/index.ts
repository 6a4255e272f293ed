/**
 * Test support of @netaccel/labs (`@netaccel/labs/testing`): a thesis lab report with every
 * part filled (three balancers, lb2 killed and back, b4 removed from web), for the tests of the
 * report's renderings here and in the CLI.
 */
import type { LabReport } from '../thesis/report.js';

/** A complete report; `over` replaces whole fields. */
export function sampleReport(over: Partial<LabReport> = {}): LabReport {
  const even = { lb1: 100, lb2: 100, lb3: 100 };
  const web = { b1: 10, b2: 10, b3: 10, b4: 10 };
  const api = { b3: 5, b4: 5, b5: 5, b6: 5 };
  return {
    runId: 'abc123',
    startedAt: '2026-11-22T00:00:00.000Z',
    quick: true,
    mode: 'l2dsr',
    logDir: '/tmp/x',
    html: '/tmp/x/report.html',
    steps: [{ title: 'build <the> topology', ms: 300 }],
    routes: [
      { vip: '10.1.1.1', nexthops: ['10.0.0.11', '10.0.0.12', '10.0.0.13'] },
      { vip: '10.1.2.1', nexthops: ['10.0.0.11', '10.0.0.12'] },
    ],
    convergence: { withdrawMs: { '10.1.1.1': 16 }, restoreMs: { '10.1.1.1': 7600 }, announceToRouteMs: { '10.1.1.1': 12 }, restart: { daemonsReadyMs: 4000, dataPlaneMs: 2900 }, backendRemovalMs: 900 },
    killed: 'lb2',
    removed: { service: 'web', backend: 'b4' },
    traffic: [{ service: 'web', url: 'http://10.1.1.1:80/', requests: 1000, errors: { connect: 0, read: 0, write: 0, status: 0, timeout: 0 }, latencyMs: { p50: 1, p99: 10, max: 20 }, meanRps: 500 }],
    phases: [
      { name: '3 balancers', fromMs: 0, toMs: 1000, balancers: { web: even, api: { lb1: 50, lb2: 50 } }, backends: { web, api } },
      { name: 'lb2 down', fromMs: 1000, toMs: 2000, balancers: { web: { lb1: 150, lb2: null, lb3: 150 }, api: { lb1: 100, lb2: null } }, backends: { web, api } },
      { name: 'lb2 back', fromMs: 2000, toMs: 3000, balancers: { web: even, api: { lb1: 50, lb2: 50 } }, backends: { web, api } },
      { name: 'b4 out of web', fromMs: 3000, toMs: 4000, balancers: { web: even, api: { lb1: 50, lb2: 50 } }, backends: { web: { b1: 10, b2: 10, b3: 10 }, api } },
    ],
    chart: {
      series: [{ label: 'web requests/s', points: [[125, 400], [375, 600], [625, 500]] }],
      balancers: [{ label: 'lb1', points: [[250, 1000], [750, 1500]] }, { label: 'lb2', points: [[250, 1000], [750, 0]] }],
      live: [[0, 3], [1010, 2], [2500, 3]],
      events: [{ atMs: 1000, label: 'kill -9 lb2' }],
      durationMs: 4000,
      maxBalancers: 3,
    },
    ...over,
  };
}
