/**
 * The CRAQ scenario, shortened (1000 keys, 4 clients, 2.5 s per phase): the hot keys move from
 * etcd into the chain (reads answered by the chain after, none before), chain node n2 is killed
 * and the chain becomes n1 → n3 with the clients seeing no error, the history of the placed keys
 * is linearizable, the report and chart are written, and the run leaves no `ncl` namespace and
 * no pin behind. Runs the built daemons (apps/*\/dist) and bpf/build's objects.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanStale, listNetns } from '@netaccel/netlab';
import { runScenario } from '../scenario.js';
import { craqScenario } from './scenario.js';
import type { CraqReport } from './report.js';
import { CRAQ_LAB_PREFIX } from './topology.js';

const REPO = fileURLToPath(new URL('../../../..', import.meta.url));
const install = {
  loaderMain: join(REPO, 'apps/ebpf-loader/dist/main.js'),
  schedulerMain: join(REPO, 'apps/craq-scheduler/dist/main.js'),
  craqObject: join(REPO, 'bpf/build/craq/craq.bpf.o'),
  selftestObject: join(REPO, 'bpf/build/selftest/selftest.bpf.o'),
};
const ours = (): string[] => listNetns().filter((n) => n.startsWith(`${CRAQ_LAB_PREFIX}-`));
/** This run's pin roots (ncl-<run>-<node>): a bench on the same rig may hold pins of its own run meanwhile. */
const pins = (runId: string): string[] => readdirSync('/sys/fs/bpf').filter((n) => n.startsWith(`${CRAQ_LAB_PREFIX}-${runId}-`));

test('craq scenario: hot keys placed from Redis heat, reads served by the chain, n2 killed and the chain n1 → n3, no client error, linearizable', async (t) => {
  await cleanStale({ prefix: CRAQ_LAB_PREFIX });
  t.onTestFinished(() => cleanStale({ prefix: CRAQ_LAB_PREFIX }).then(() => undefined));
  const said: string[] = [];
  const r: CraqReport = await runScenario(craqScenario, { quick: true, keep: false, install, progress: (s) => void said.push(s) });

  assert.deepEqual(ours(), [], 'no ncl namespace left');
  assert.deepEqual(pins(r.runId), [], 'nothing pinned');
  assert.deepEqual(r.reads.map((p) => p.name), ['etcd only (nothing placed)', 'scheduler placing the hot keys', 'hot keys in the chain', 'n2 killed, until the chain is reconfigured', 'chain n1 → n3']);
  const [etcdOnly, , placed, , after] = r.servedBy;
  assert.equal(etcdOnly!.chainReads, 0, 'nothing read from the chain before placement');
  assert.ok(etcdOnly!.etcdReads > 0);
  assert.ok(placed!.chainReads > 0 && after!.chainReads > 0, 'reads served by the chain after placement and after the kill');
  assert.ok(r.placement.keys.length > 0 && r.placement.keys.length <= 64);
  assert.ok(r.placement.settledMs >= r.placement.firstPlacedMs);
  assert.ok(r.placement.keys.includes('/ncl/key-00000'), 'the hottest key is placed');
  assert.deepEqual(r.failure.chainBefore, ['n1', 'n2', 'n3']);
  assert.deepEqual(r.failure.chainAfter, ['n1', 'n3']);
  assert.equal(r.client.errors, 0);
  assert.equal(r.linearizability.outcome, 'linearizable');
  assert.ok(r.linearizability.keys >= r.placement.keys.length);
  const svg = readFileSync(r.files.svg, 'utf8');
  assert.match(svg, /class="placed"/);
  assert.equal(svg.match(/class="event"/g)?.length, 5);
  assert.deepEqual(JSON.parse(readFileSync(r.files.json, 'utf8')).failure, r.failure);
  assert.ok(said.some((s) => s.includes('tear the lab down')));
}, 150_000);
