/**
 * The scaling scenario, shortened to two steps per series (`--quick`, 1 then 4 balancers, 2 s each;
 * the same total load, then paced per balancer) under the
 * test's own prefix `lsc` (and its bpffs folder): the real daemons (apps/*\/dist), BIRD, gobgpd,
 * nginx and wrk. With one balancer the router's route has one next hop and it serves everything;
 * with four, the route has four and every balancer serves; the loaders count run time, so each
 * balancer's XDP cost per packet and per request is a positive figure; the report, its page with
 * both charts, and no namespace or pin is left behind.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanStale, listNetns } from '@netaccel/netlab';
import { runScenario } from '../scenario.js';
import { balancerAddr, balancersOf } from '../topologies/thesis.js';
import { pinBaseFor } from '../thesis/lab-state.js';
import { scalingScenario } from './scenario.js';

const PREFIX = 'lsc';
const REPO = fileURLToPath(new URL('../../../..', import.meta.url));
const install = {
  daemons: {
    'ebpf-loader': join(REPO, 'apps/ebpf-loader/dist/main.js'),
    'bgp-announcer': join(REPO, 'apps/bgp-announcer/dist/main.js'),
    'lb-controller': join(REPO, 'apps/lb-controller/dist/main.js'),
  },
  objectDir: join(REPO, 'bpf/build'),
};
const ours = (): string[] => listNetns().filter((n) => n.startsWith(`${PREFIX}-`));

test('scaling scenario: 1 then 4 balancers in the router\'s ECMP route, each serving, its XDP CPU per request measured; report and page written', async (t) => {
  await cleanStale({ prefix: PREFIX });
  t.onTestFinished(() => cleanStale({ prefix: PREFIX }).then(() => undefined));
  const said: string[] = [];
  const r = await runScenario({ ...scalingScenario, prefix: PREFIX }, { quick: true, keep: false, install, counts: [1, 4], progress: (s) => void said.push(s) });

  assert.deepEqual(ours(), [], 'no lsc namespace left');
  assert.equal(existsSync(join(pinBaseFor(PREFIX), r.runId)), false, 'the run\'s pins are removed');
  assert.deepEqual(r.steps.map((s) => s.balancers), [1, 4]);
  for (const s of [...r.steps, ...r.paced!]) {
    assert.deepEqual([...s.nexthops].sort(), balancersOf(s.balancers).map(balancerAddr).sort(), `${s.balancers}: the router's ECMP set`);
    assert.deepEqual(s.perBalancer.map((b) => b.balancer), balancersOf(s.balancers));
    for (const b of s.perBalancer) {
      assert.ok(b.flows > 0 && b.packets >= b.flows, `${s.balancers}: ${b.balancer} served (${b.flows} flows, ${b.packets} packets)`);
      assert.ok(b.xdpRuns > 0 && b.nsPerPacket > 0 && b.nsPerRequest > b.nsPerPacket, `${s.balancers}: ${b.balancer}'s XDP run time counted (${b.xdpRuns} runs, ${b.nsPerPacket} ns/packet)`);
    }
    assert.ok(Math.abs(s.perBalancer.reduce((x, b) => x + b.share, 0) - 1) < 1e-9);
    assert.ok(s.wrk.requests > 0);
  }
  assert.equal(r.steps[0]!.costRatio, 1);
  assert.ok(r.steps[1]!.costRatio > 0 && Number.isFinite(r.steps[1]!.maxMin));
  assert.match(r.verdict, /Per-balancer XDP cost per request, the same total load: \d+ ns with 1 balancer/);
  assert.deepEqual(r.paced?.map((s) => s.balancers), [1, 4], 'the paced series ran too');
  assert.match(r.verdict, /Paced to about the same rate per balancer .*: \d+ ns with 1 balancer, at most [\d.]+× that with up to 4/);
  const html = readFileSync(r.html, 'utf8');
  for (const id of ['scaling-share-chart', 'scaling-cost-chart', 'scaling-paced-cost-chart']) assert.match(html, new RegExp(`<svg id="${id}"`));
  assert.equal((html.match(/class="bar"/g) ?? []).length, 3 * 5, 'a bar per balancer per step, in each chart');
  const json = JSON.parse(readFileSync(join(r.logDir, 'scaling-report.json'), 'utf8')) as { steps: unknown[]; paced: unknown[] };
  assert.deepEqual([json.steps.length, json.paced.length], [2, 2]);
}, 240_000);
