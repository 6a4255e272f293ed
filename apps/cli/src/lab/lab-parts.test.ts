/**
 * The lab's parts that need no namespaces: the report text and HTML page, the lab's own checks,
 * the `netaccel lab` command dispatch, the NAT mode's configuration (the steps' parsers and the
 * step runner: libs/labs/src/steps/steps.test.ts). The whole lab runs in test/lab/lab.ns.test.ts.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NAT_SOURCE_COUNT, checkReport, natSourceAddr, thesisTopology as labSpec, writeBalancerFiles } from '@netaccel/labs';
import { sampleReport } from '@netaccel/labs/testing';
import { runCliCaptured } from '../capture.js';
import { groups } from '../commands/index.js';
import { chartSvg, reportHtml, reportText } from './report.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('report text: convergence rows, traffic, the split per phase with the dead balancer shown as down', () => {
  const text = reportText(sampleReport());
  assert.match(text, /kill -9 lb2 → its next hop gone for 10\.1\.1\.1\s+16 ms/);
  assert.match(text, /lb2 restarted → next hop back for 10\.1\.1\.1\s+7600 ms/);
  assert.match(text, /announcement → router FIB for 10\.1\.1\.1 \(through the reflector\)\s+12 ms/);
  assert.match(text, /b4 removed from web → out of every balancer\s+900 ms/);
  assert.match(text, /web http:\/\/10\.1\.1\.1:80\/\s+1000\s+500\s+0 \(connect 0/);
  assert.match(text, /lb2 down \(1\.0 s\)\s+50%\s+down\s+50%/);
  assert.match(text, /b4 out of web \(1\.0 s\)\s+33%\s+33%\s+33%\s+33%\s+33%\s+33%\s+0%/);
});

test('report HTML: self-contained, escaped, with the chart and its series, events and live-balancer line', () => {
  const html = reportHtml(sampleReport());
  assert.ok(!/<script|\b(?:src|href)=/i.test(html), 'no script and no external resource');
  assert.match(html, /build &lt;the&gt; topology/);
  const svg = chartSvg(sampleReport());
  assert.match(svg, /<polyline class="series" data-label="web requests\/s" points="[^"]+ [^"]+ [^"]+"/);
  assert.match(svg, /<polyline class="live" points="[^"]+"/);
  assert.match(svg, /kill -9 lb2<\/text>/);
  assert.match(html, /<svg id="balancer-chart"[^]*<polyline class="series" data-label="lb1" points="[^"]+ [^"]+"[^]*data-label="lb2"/);
});

test('checkReport: a removed backend that still answers, a silent balancer or a missing next hop fail the run', () => {
  checkReport(sampleReport());
  const r = sampleReport();
  const strayPhases = r.phases.map((p, i) => (i === 3 ? { ...p, backends: { ...p.backends, web: { ...p.backends.web, b4: 2 } } } : p));
  assert.throws(() => checkReport({ ...r, phases: strayPhases }), /b4 still answered 2 requests of web/);
  const silent = r.phases.map((p, i) => (i === 0 ? { ...p, balancers: { ...p.balancers, web: { lb1: 10, lb2: 0, lb3: 10 } } } : p));
  assert.throws(() => checkReport({ ...r, phases: silent }), /balancer lb2 forwarded no packet of web/);
  assert.throws(() => checkReport({ ...r, routes: [{ vip: '10.1.1.1', nexthops: ['10.0.0.11'] }, r.routes[1]!] }), /route to 10\.1\.1\.1 had next hops 10\.0\.0\.11/);
});

test('netaccel lab: run is the default command; --help lists the commands', async () => {
  const help = await runCliCaptured(['lab', '--help'], groups);
  assert.equal(help.code, 0);
  assert.match(help.out, /commands:\n\s+run\s+.*\n\s+status\s+.*\n\s+down\s+/);
  const bad = await runCliCaptured(['lab', '--no-such-option'], groups);
  assert.equal(bad.code, 2, 'the default command parses the options');
  assert.match(bad.err, /netaccel lab run: .*--no-such-option/);
});

test('--mode nat: a pool of NAT source addresses per balancer on its lo, the controller configured for it, nat services; a bad mode is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-nat-'));
  try {
    const f = writeBalancerFiles(dir, 'lb2', '/sys/fs/bpf/x', '/usr/lib/netaccel/bpf', 'nat', new Map());
    // (the controller itself loads these files in test/lab/lab.ns.test.ts's NAT run)
    const c = JSON.parse(readFileSync(f.controllerConfig, 'utf8')) as { dataPlane: Record<string, unknown> };
    assert.deepEqual([c.dataPlane.natSourceV4, c.dataPlane.natSourceCount, c.dataPlane.mapSizes], ['10.0.0.111', NAT_SOURCE_COUNT, { nat_rev: 262_144 }]);
    assert.match(readFileSync(f.services, 'utf8'), /"mode": "nat"/);
    const dsr = writeBalancerFiles(dir, 'lb3', '/sys/fs/bpf/x', '/usr/lib/netaccel/bpf', 'l2dsr', new Map());
    assert.equal((JSON.parse(readFileSync(dsr.controllerConfig, 'utf8')) as { dataPlane: Record<string, unknown> }).dataPlane.natSourceV4, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(labSpec('nat').nodes.lb1?.addrs?.lo, ['10.0.0.101/32', '10.0.0.102/32', '10.0.0.103/32', '10.0.0.104/32']);
  assert.equal(natSourceAddr('lb3', 3), '10.0.0.124');
  assert.equal(labSpec('nat').nodes.b1?.addrs, undefined, 'NAT: nothing on the backends');
  assert.deepEqual(labSpec('l2dsr').nodes.b1?.addrs?.lo, ['10.1.1.1/32', '10.1.2.1/32']);
  const bad = await runCliCaptured(['lab', '--mode', 'ipvs'], groups);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--mode: expected one of l2dsr, nat, got ipvs/);
});

test('--balancers: 1 to 4, refused otherwise before anything starts; the thesis report and its check follow the count', async () => {
  for (const n of ['0', '5', '2.5', 'three']) {
    const bad = await runCliCaptured(['lab', '--balancers', n], groups);
    assert.equal(bad.code, 2, n);
    assert.match(bad.err, new RegExp(`--balancers: expected a whole number from 1 to 4, got ${n}`));
  }
  const help = await runCliCaptured(['lab', 'run', '--help'], groups);
  assert.match(help.out, /--balancers <1-4> +how many balancers the thesis scenario runs.*\(default: 3\)/);
  // a lab of 4: its routes and splits have lb4; the check holds it to four next hops for web
  const four = sampleReport({
    balancers: 4,
    routes: [
      { vip: '10.1.1.1', nexthops: ['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14'] },
      { vip: '10.1.2.1', nexthops: ['10.0.0.11', '10.0.0.12', '10.0.0.13'] },
    ],
  });
  const phases = four.phases.map((p) => ({ ...p, balancers: { web: { lb1: 10, lb2: 10, lb3: 10, lb4: 10 }, api: { lb1: 10, lb2: 10, lb3: 10 } } }));
  assert.doesNotThrow(() => checkReport({ ...four, phases }));
  assert.throws(() => checkReport({ ...four, phases, routes: sampleReport().routes }), /route to 10\.1\.1\.1 had next hops 10\.0\.0\.11, 10\.0\.0\.12, 10\.0\.0\.13, expected .*10\.0\.0\.14/);
  const silent = phases.map((p, i) => (i === 0 ? { ...p, balancers: { ...p.balancers, web: { ...p.balancers.web, lb4: 0 } } } : p));
  assert.throws(() => checkReport({ ...four, phases: silent }), /lb4 forwarded no packet of web while all 4 were up/);
  assert.match(reportHtml(four), /4 XDP balancers in L2 DSR mode/);
});
