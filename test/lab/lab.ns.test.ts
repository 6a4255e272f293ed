/**
 * The lab as a user runs it, shortened (`--quick`): `netaccel lab --keep` brings up the thesis
 * topology with real BIRD, gobgpd, nginx, wrk and our three daemons per balancer, runs the
 * scenario and leaves everything up; the CLI reaches the kept daemons; `netaccel lab down`
 * removes it all; a second, plain run works and leaves nothing behind. The HTML report of the
 * run is rendered in headless Chromium. The lab checks its own claims (routes, spread, failover,
 * removal) and exits non-zero when one does not hold.
 */
import { afterAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listNetns } from '@netaccel/netlab';
import type { LabReport } from '@netaccel/app-cli/testing';
import { renderChart } from './chromium.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const CLI = join(ROOT, 'apps', 'cli', 'src', 'main.ts');
const PIN_BASE = '/sys/fs/bpf/netaccel-lab';

async function netaccel(args: string[], timeoutMs = 240_000): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '', err: e.stderr ?? String(err) };
  }
}

const labNamespaces = (): string[] => listNetns().filter((n) => n.startsWith('nxlab-'));

/** Node's process warnings on a run's stderr (`(node:123) MaxListenersExceededWarning: …`): a user reads one as a bug. */
const nodeWarnings = (stderr: string): string[] => stderr.split('\n').filter((l) => /^\(node:\d+\) \w*Warning\b/.test(l));

afterAll(async () => {
  await netaccel(['lab', 'down']); // whatever a failed test left up
});

function checkReport(r: LabReport): void {
  assert.deepEqual(r.routes.map((x) => [x.vip, x.nexthops.length]), [['10.1.1.1', 3], ['10.1.2.1', 2]]);
  for (const vip of ['10.1.1.1', '10.1.2.1']) {
    assert.ok(r.convergence.withdrawMs[vip]! >= 0, `withdrawal of ${vip} measured`);
    assert.ok(r.convergence.restoreMs[vip]! > 0, `return of ${vip} measured`);
    const a = r.convergence.announceToRouteMs[vip];
    assert.ok(a !== undefined && a >= 0 && a <= r.convergence.restoreMs[vip]!, `announcement → FIB of ${vip} measured (${a} ms)`);
  }
  assert.ok(r.convergence.backendRemovalMs > 0);
  assert.deepEqual(r.traffic.map((t) => t.service), ['web', 'api']);
  for (const t of r.traffic) assert.ok(t.requests > 100, `${t.service}: ${t.requests} requests`);
  assert.equal(r.phases.length, 4);
  assert.equal(r.phases[1]!.balancers.web!.lb2, null, 'the killed balancer is down in the second phase');
  assert.ok(r.phases[1]!.balancers.web!.lb1! > 0 && r.phases[1]!.balancers.web!.lb3! > 0, 'the others carried web meanwhile');
  assert.equal(r.phases[3]!.backends.web!.b4 ?? 0, 0, 'the removed backend answers no new request');
  assert.ok(r.phases[3]!.backends.api!.b4! > 0, 'it still serves the other service');
}

test('netaccel lab --keep runs the scenario, reports, and leaves a lab the CLI can explore', async () => {
  const r = await netaccel(['lab', '--quick', '--keep', '--json']);
  assert.equal(r.code, 0, `lab failed:\n${r.err.slice(-3000)}`);
  assert.deepEqual(nodeWarnings(r.err), [], 'no MaxListenersExceededWarning (nor any other) while building 12 namespaces');
  assert.match(r.err, /\[ 1\/13\] check the build/);
  assert.match(r.err, /\[13\/13\] check what happened and write the report …\n\s+done in/);
  const report = JSON.parse(r.out) as LabReport;
  checkReport(report);
  assert.ok(existsSync(report.html));

  const chart = await renderChart(report.html);
  assert.ok(chart.found, 'the chart is in the page');
  assert.deepEqual(chart.series.map((s) => s.label), ['web requests/s', 'api requests/s']);
  for (const s of chart.series) assert.ok(s.points > 10 && s.length > 300, `${s.label}: ${s.points} points, ${s.length} px`);
  assert.ok(chart.liveLength > 300);
  assert.equal(chart.events, 3);
  const perLb = await renderChart(report.html, 'balancer-chart');
  assert.deepEqual(perLb.series.map((x) => x.label), ['lb1', 'lb2', 'lb3']);
  const lb2 = report.chart.balancers.find((x) => x.label === 'lb2')!.points;
  const killAt = report.chart.events[0]!.atMs;
  const restartAt = report.chart.events[1]!.atMs;
  assert.ok(lb2.some(([t, v]) => t < killAt && v > 0), 'lb2 carried packets before it was killed');
  assert.ok(lb2.filter(([t]) => t > killAt + 1000 && t < restartAt - 1000).every(([, v]) => v === 0), 'and none while it was down');
  assert.ok(lb2.some(([t, v]) => t > restartAt && v > 0), 'and again once back');

  assert.equal(labNamespaces().length, 12, 'the kept lab is up');
  const status = await netaccel(['lab', 'status', '--json']);
  assert.equal(status.code, 0, status.err);
  const s = JSON.parse(status.out) as { running: boolean; runId: string; sockets: Record<string, Record<string, string>>; routes: string };
  assert.equal(s.running, true);
  assert.equal(s.runId, report.runId);
  assert.match(s.routes, /10\.1\.1\.1 .*\n\s+nexthop via 10\.0\.0\.11/);
  const services = await netaccel(['lb', 'services', '--json', '--socket', s.sockets.lb1!['lb-controller']!]);
  assert.equal(services.code, 0, services.err);
  assert.deepEqual((JSON.parse(services.out) as { services: { vip: string }[] }).services.map((x) => x.vip).sort(), ['10.1.1.1', '10.1.2.1']);
  const peers = await netaccel(['bgp', 'peers', '--socket', s.sockets.lb3!['bgp-announcer']!]);
  assert.equal(peers.code, 0, peers.err);
  assert.match(peers.out, /10\.0\.0\.2\s.*established/i);

  const down = await netaccel(['lab', 'down']);
  assert.equal(down.code, 0, down.err);
  assert.match(down.out, new RegExp(`removed the lab \\(run ${report.runId}\\)`));
  assert.deepEqual(labNamespaces(), []);
  assert.ok(!existsSync(join(PIN_BASE, report.runId)), 'its pins are gone');
  assert.ok(!existsSync(PIN_BASE), `${PIN_BASE} is gone too: nothing of the lab is left under /sys/fs/bpf`);
  const again = await netaccel(['lab', 'status']);
  assert.match(again.out, /no lab is running/);
});

test('a second run works, in NAT mode, and leaves nothing behind', async () => {
  const r = await netaccel(['lab', '--quick', '--mode', 'nat', '--json']);
  assert.equal(r.code, 0, `lab failed:\n${r.err.slice(-3000)}`);
  assert.deepEqual(nodeWarnings(r.err), []);
  assert.match(r.err, /\[14\/14\] tear the lab down/);
  const report = JSON.parse(r.out) as LabReport;
  assert.equal(report.mode, 'nat');
  checkReport(report); // routes, spread per balancer and backend, failover, removal
  // Replies come back through the balancers' NAT: traffic flowed, and (TIME_WAIT reserve, a pool
  // of source addresses) new connections do not hang on reused ports.
  for (const t of report.traffic) {
    const errors = t.errors.connect + t.errors.read + t.errors.write + t.errors.status + t.errors.timeout;
    assert.ok(t.requests > 10_000, `${t.service}: ${t.requests} requests`);
    assert.ok(errors <= t.requests * 0.001, `${t.service}: ${errors} errors in ${t.requests} requests`);
  }
  assert.deepEqual(labNamespaces(), []);
  assert.ok(!existsSync(PIN_BASE), `the run removed ${PIN_BASE}, not only what was in it`);
});
