/**
 * The lab report as a browser shows it: a report built from known figures is rendered in headless
 * Chromium and its chart measured; a page without the chart is told apart.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportHtml } from '@netaccel/app-cli/testing';
import type { LabReport } from '@netaccel/app-cli/testing';
import { renderChart } from './chromium.js';

const report: LabReport = {
  runId: 'render',
  startedAt: '2026-11-22T00:00:00.000Z',
  quick: true,
  mode: 'l2dsr',
  logDir: '/tmp/render',
  html: '/tmp/render/report.html',
  steps: [],
  routes: [],
  convergence: { withdrawMs: {}, restoreMs: {}, announceToRouteMs: {}, restart: { daemonsReadyMs: 0, dataPlaneMs: 0 }, backendRemovalMs: 0 },
  killed: 'lb2',
  removed: { service: 'web', backend: 'b4' },
  traffic: [],
  phases: [],
  chart: {
    series: [
      { label: 'web requests/s', points: Array.from({ length: 40 }, (_, i): [number, number] => [i * 250 + 125, 5000 + (i % 7) * 300]) },
      { label: 'api requests/s', points: Array.from({ length: 40 }, (_, i): [number, number] => [i * 250 + 125, 3000 + (i % 5) * 200]) },
    ],
    balancers: ['lb1', 'lb2', 'lb3'].map((label, j) => ({ label, points: Array.from({ length: 20 }, (_, i): [number, number] => [i * 500 + 250, j === 1 && i > 5 && i < 14 ? 0 : 2000 + i * 10]) })),
    live: [[0, 3], [2600, 2], [7000, 3]],
    events: [{ atMs: 2600, label: 'kill -9 lb2' }, { atMs: 7000, label: 'lb2 back' }],
    durationMs: 10_000,
    maxBalancers: 3,
  },
};

test('Chromium draws the charts: requests/s with the live-balancer steps and event markers, packets/s per balancer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-report-'));
  try {
    const file = join(dir, 'report.html');
    writeFileSync(file, reportHtml(report));
    const c = await renderChart(file);
    assert.ok(c.found);
    assert.equal(c.width, 900);
    assert.equal(c.height, 380);
    assert.deepEqual(c.series.map((s) => [s.label, s.points]), [['web requests/s', 40], ['api requests/s', 40]]);
    for (const s of c.series) assert.ok(s.length > 700, `${s.label} is drawn across the plot (${s.length} px)`);
    assert.ok(c.liveLength > 700, `the live-balancer line is drawn (${c.liveLength} px)`);
    assert.equal(c.events, 2);
    assert.ok(c.screenshot.length > 10_000, 'a screenshot with content');
    const b = await renderChart(file, 'balancer-chart');
    assert.ok(b.found);
    assert.deepEqual(b.series.map((s) => [s.label, s.points]), [['lb1', 20], ['lb2', 20], ['lb3', 20]]);
    for (const s of b.series) assert.ok(s.length > 700, `${s.label} is drawn (${s.length} px)`);
    assert.equal(b.liveLength, 0, 'no live-balancer line on the per-balancer chart');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a page without the chart is reported as such', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-report-'));
  try {
    const file = join(dir, 'empty.html');
    writeFileSync(file, '<!doctype html><html><body><p>no chart here</p></body></html>');
    const c = await renderChart(file);
    assert.equal(c.found, false);
    assert.deepEqual(c.series, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
