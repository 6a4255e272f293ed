/**
 * Steps that need no namespaces: parsing `ip monitor route` (the route monitor), wrk's summary
 * line and its counts per window, and the step runner's progress and failure message.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_LAB_CHECK, NA_ERR_LAB_STEP } from '../errors.js';
import { parseMonitorLine } from './route-monitor.js';
import { Steps } from './step-runner.js';
import { BUCKET_MS, countsBetween, parseWrkOutput } from './wrk.js';

const VIPS = ['10.1.1.1', '10.1.2.1'];

test('ip monitor lines: multipath, single path, deleted, other routes and tables', () => {
  const multi = '10.1.1.1 proto bird metric 32 \\tnexthop via 10.0.0.11 dev eth0 weight 1 \\tnexthop via 10.0.0.13 dev eth0 weight 1 \\tnexthop via 10.0.0.12 dev eth0 weight 1 ';
  assert.deepEqual(parseMonitorLine(multi, VIPS, 5), { at: 5, vip: '10.1.1.1', nexthops: ['10.0.0.11', '10.0.0.12', '10.0.0.13'] });
  assert.deepEqual(parseMonitorLine('10.1.2.1 via 10.0.0.11 dev eth0 proto bird metric 32 ', VIPS, 6)?.nexthops, ['10.0.0.11']);
  assert.deepEqual(parseMonitorLine('Deleted 10.1.2.1 via 10.0.0.11 dev eth0 proto bird metric 32 ', VIPS, 7), { at: 7, vip: '10.1.2.1', nexthops: [] });
  assert.equal(parseMonitorLine('10.1.1.10 via 10.0.0.11 dev eth0 proto bird', VIPS, 8), undefined, 'a longer address is another route');
  assert.equal(parseMonitorLine('10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1', VIPS, 8), undefined);
  assert.equal(parseMonitorLine('local 10.1.1.1 dev lo table local proto kernel', VIPS, 8), undefined);
  assert.equal(parseMonitorLine('10.1.1.1 via 10.0.0.11 dev eth0 table 100', VIPS, 8), undefined, 'only the main table');
});

const wrkLine = (counts: Record<string, number>): string =>
  `Running 1s test\nNETACCEL_WRK {"requests":42,"durationUs":2000000,"errors":{"connect":1,"read":2,"write":0,"status":3,"timeout":4},"latencyUs":{"p50":900,"p99":5000,"max":9000},"counts":${JSON.stringify(counts)}}\n`;

test('wrk summary: totals, errors and per-bucket counts by backend; counts within a window', () => {
  const r = parseWrkOutput(wrkLine({ '100|b1': 3, '100|b2': 4, '101|b1': 5, '102|status-503': 1 }));
  assert.equal(r.requests, 42);
  assert.deepEqual(r.errors, { connect: 1, read: 2, write: 0, status: 3, timeout: 4 });
  assert.deepEqual(r.latencyUs, { p50: 900, p99: 5000, max: 9000 });
  assert.deepEqual([...r.buckets.keys()].sort(), [100 * BUCKET_MS, 101 * BUCKET_MS, 102 * BUCKET_MS]);
  assert.deepEqual(Object.fromEntries(countsBetween(r, 100 * BUCKET_MS, 102 * BUCKET_MS)), { b1: 8, b2: 4 });
  assert.deepEqual(Object.fromEntries(countsBetween(r, 101 * BUCKET_MS, 103 * BUCKET_MS)), { b1: 5, 'status-503': 1 });
  assert.throws(() => parseWrkOutput('Running 1s test\nSocket errors: connect 5\n'), (e: unknown) => NA_ERR_LAB_CHECK.is(e) && /no summary line/.test(String(e)));
});

test('a failing step names its number, its title, the error and the logs to read', async () => {
  const lines: string[] = [];
  const steps = new Steps(3, (t) => lines.push(t), () => 'the logs in /tmp/lab');
  assert.equal(await steps.run('first', async () => 7), 7);
  await assert.rejects(
    steps.run('start the router', async () => Promise.reject(new Error('bird exited with status 1')), () => [process.execPath, '/nonexistent/bird.log']),
    (e: unknown) => {
      assert.ok(NA_ERR_LAB_STEP.is(e));
      assert.equal(e.message, `lab step 2/3 "start the router" failed: bird exited with status 1; read ${process.execPath}`);
      return true;
    },
  );
  await assert.rejects(steps.run('third', async () => Promise.reject(new Error('x'))), /failed: x; read the logs in \/tmp\/lab/);
  assert.match(lines.join(''), /\[ 1\/3\] first …\n\s+done in \d+ ms\n\[ 2\/3\] start the router …\n\s+FAILED after/);
  assert.deepEqual(steps.done.map((s) => s.title), ['first']);
});
