/**
 * Root layer: the sidecar bench's BPF cost figures. The sk_msg program of a lane is found from
 * its cgroup (the bare redirect attached to a cgroup of the test's own, prefix nsk-sdr-cost-),
 * its verifier instructions read, and with run-time stats on, the runs of a real echo through it
 * counted; with them off, no run time. SIDECAR_BENCH_BPF_STATS parsed.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { RedirectProbe, TestCgroup } from '@netaccel/bpf-programs/sidecar/testing';
import { bpfStats, laneProgram, programCost, wantedBpfStats } from './bpf-cost.js';

test('SIDECAR_BENCH_BPF_STATS: off by default, 1 needs root, anything else refused', () => {
  assert.equal(wantedBpfStats({}, true), false);
  assert.equal(wantedBpfStats({ SIDECAR_BENCH_BPF_STATS: '1' }, true), true);
  assert.equal(wantedBpfStats({ SIDECAR_BENCH_BPF_STATS: '0' }, false), false);
  assert.throws(() => wantedBpfStats({ SIDECAR_BENCH_BPF_STATS: '1' }, false), /needs root/);
  assert.throws(() => wantedBpfStats({ SIDECAR_BENCH_BPF_STATS: 'yes' }, true), /expected 0 or 1, got "yes"/);
});

test("a lane's sk_msg program found from its cgroup; its runs counted while stats are on", async (t) => {
  const cgroup = TestCgroup.create('nsk-sdr-cost-');
  t.onTestFinished(() => cgroup.remove());
  cgroup.enter();
  const conns: Socket[] = [];
  const server = createServer((s) => {
    conns.push(s);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.onTestFinished(async () => {
    for (const c of conns) c.destroy();
    await new Promise((r) => server.close(r));
  });
  const port = (server.address() as AddressInfo).port;
  assert.equal(laneProgram(cgroup.path, 'redirect_msg'), undefined, 'nothing attached yet');
  const probe = RedirectProbe.attach(cgroup.path, port);
  t.onTestFinished(() => probe.close());

  const found = laneProgram(cgroup.path, 'redirect_msg');
  assert.ok(found, 'redirect_msg found beside redirect_sockops');
  assert.ok(found.verifiedInstructions > 0);
  assert.equal(laneProgram(cgroup.path, 'sidecar_msg'), undefined, 'no program of another name is taken');

  const stats = bpfStats(true);
  t.onTestFinished(() => stats.close());
  const c = createConnection(port, '127.0.0.1');
  t.onTestFinished(() => {
    c.destroy();
  });
  const echoed = new Promise<Buffer>((resolve) => c.once('data', resolve));
  c.write('ping');
  assert.equal((await echoed).toString(), 'ping');
  stats.close();
  const cost = programCost(laneProgram(cgroup.path, 'redirect_msg')!, 1);
  assert.equal(cost.runs, 2, 'the request and its echo');
  assert.ok(cost.nsPerRun !== undefined && cost.nsPerRun > 0);
  assert.equal(cost.nsPerCall, cost.nsPerRun * 2);
  assert.equal(programCost(found, 1).nsPerRun, undefined, 'no runs before the stats were on');
});
