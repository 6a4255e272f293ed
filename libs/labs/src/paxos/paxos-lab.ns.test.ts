/**
 * The Paxos scenario, shortened (3 replicas, 2 s per phase): the phases happen in order, the
 * offloads' kernel counters move only while they are on, a new view serves the clients after the
 * leader is killed, the killed replica rejoins, the history is linearizable, and the run leaves no
 * `npl` namespace and no XDP program on anything it made.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cleanStale, listNetns } from '@netaccel/netlab';
import { runScenario } from '../scenario.js';
import { paxosScenario } from './scenario.js';
import type { PaxosReport } from './report.js';
import { PAXOS_LAB_PREFIX } from './topology.js';

const ours = (): string[] => listNetns().filter((n) => n.startsWith(`${PAXOS_LAB_PREFIX}-`));
const pins = (): string[] => readdirSync('/sys/fs/bpf').filter((n) => n.startsWith(PAXOS_LAB_PREFIX));

test('paxos scenario: offloads off then on, leader killed, new view, replica back; linearizable; nothing left behind', async (t) => {
  await cleanStale({ prefix: PAXOS_LAB_PREFIX });
  t.onTestFinished(() => cleanStale({ prefix: PAXOS_LAB_PREFIX }).then(() => undefined));
  const said: string[] = [];
  const r: PaxosReport = await runScenario(paxosScenario, { quick: true, keep: false, replicas: 3, clients: 3, keys: 8, holdMs: 2000, progress: (s) => void said.push(s) });

  assert.deepEqual(ours(), [], 'no npl namespace left');
  assert.deepEqual(pins(), [], 'nothing pinned');
  assert.equal(r.replicas, 3);
  const k = `r${r.failover.killed}`;
  assert.deepEqual(r.phases.map((p) => p.name.split(',')[0]), ['offloads off', 'offloads on', 'leader killed', `new view ${r.failover.newView} (leader r${r.failover.newLeader})`, `${k} restarting`, `${k} back`]);
  r.phases.slice(1).forEach((p, i) => assert.equal(p.fromMs, r.phases[i]!.toMs, `${p.name} starts where ${r.phases[i]!.name} ends`));
  for (const p of r.phases.filter((x) => !x.name.startsWith('leader'))) assert.ok(p.ops > 0, `operations acknowledged in phase ${p.name}`);

  const [off, on, afterKill, afterRestart] = r.counters;
  assert.equal(r.counters.length, 4);
  assert.deepEqual([off!.offloads, off!.broadcast.prepares + off!.broadcast.clones, off!.fastAck.acks, off!.quorum.quorums + off!.quorum.filtered], [0, 0, 0, 0], 'nothing offloaded while off');
  assert.ok(off!.passed > 0, 'the XDP program passed every Prepare and PrepareOK up while off');
  for (const c of [on!, afterKill!, afterRestart!]) {
    assert.ok(c.broadcast.clones > 0, `${c.phase}: the leader's Prepares cloned in TC`);
    assert.ok(c.fastAck.acks > 0, `${c.phase}: followers fast-acked`);
    assert.ok(c.quorum.quorums > 0, `${c.phase}: the leader's quorum wait completed quorums`);
  }

  // the leader killed is the one of the last view before the kill (r0 in view 0 unless the load made a follower time out)
  assert.equal(r.failover.killed, r.failover.killedView % 3, 'the killed replica led its view');
  assert.ok(r.failover.newView > r.failover.killedView && r.failover.newLeader !== r.failover.killed, `new view ${r.failover.newView}, leader r${r.failover.newLeader}`);
  assert.ok(r.views.some((v) => v.replica !== r.failover.killed && v.view === r.failover.newView && v.status === 'normal'));
  assert.ok(r.failover.serviceBackMs >= r.failover.viewChangeMs - 1, "served again after the new view (both rounded to ms)");
  assert.ok(r.failover.rejoinMs !== null && r.failover.recoveryMs !== null && r.failover.rejoinMs >= r.failover.recoveryMs);

  assert.equal(r.linearizability.outcome, 'linearizable');
  assert.ok(r.linearizability.operations > 50);
  assert.equal(r.chart.events.length, 4);
  assert.ok(r.chart.points.length >= 8);
  const svg = readFileSync(r.files.svg, 'utf8');
  assert.match(svg, /class="offloads-on"/);
  assert.equal(svg.match(/class="event"/g)?.length, 4);
  assert.deepEqual(JSON.parse(readFileSync(r.files.json, 'utf8')).failover, r.failover);
  assert.ok(existsSync(r.files.history));
  assert.ok(said.some((s) => s.includes('tear the lab down')));
}, 150_000);
