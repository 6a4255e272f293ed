/**
 * The replica's Prometheus families on a daemon's real registry (libs/telemetry): a group of three
 * over UDP on 127.0.0.1 with the FakeOffload (the user-space model of the Electrode programs,
 * its counts under the el_stats / el_reasons names), scraped after traffic and after the offloads
 * are switched: values follow the replica and the offload, the exposition passes promtool's rules.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { PROM_CLIENT_LINT_EXCEPTIONS, createMetrics, lintExposition, parseExposition } from '@netaccel/telemetry';
import { registerPaxosMetrics } from './status-metrics.js';
import { statusSource } from './status.js';
import type { OffloadStatusSource } from './status.js';
import { TEST_TIMING, TestCluster } from './testing/cluster.js';
import { FAKE_OFFLOAD } from './testing/fake-offload.js';
import type { FakeOffload } from './testing/fake-offload.js';

function counted(fake: FakeOffload): OffloadStatusSource {
  return {
    offloads: () => fake.offloads,
    counters: () => ({ stats: { FAST_ACKS: BigInt(fake.stats.fastAcks), BCAST_CLONES: BigInt(fake.stats.clones) }, reasons: new Map([['ELECTRODE_R_RING_FULL', { packets: BigInt(fake.stats.ringFull), bytes: 0n }]]) }),
  };
}

test('paxos_* families: the snapshot, every counter, the offloads on/off and their counters; promtool-clean', async (t) => {
  const cluster = await TestCluster.start({ n: 3, offloads: FAKE_OFFLOAD.all, replica: { ...TEST_TIMING, viewChangeTimeoutMs: 1500 } /* a loaded machine's stall must not change the view the test reads */ });
  t.onTestFinished(() => cluster.close());
  const m = cluster.member(1);
  const metrics = createMetrics({ app: 'paxos-test', processMetrics: false });
  registerPaxosMetrics(metrics, statusSource({ replica: m.replica, service: 'kv', offload: counted(m.offload!), reasons: [{ name: 'ELECTRODE_R_RING_FULL', verdict: 'pass', description: 'ring full' }] }));
  const kv = await cluster.client();
  for (let i = 0; i < 10; i++) await kv.put(`k${i}`, 'v');
  await cluster.waitFor('replica 1 executed the puts', () => m.replica.snapshot().executed >= 10n);

  const text = await metrics.text();
  assert.deepEqual(lintExposition(parseExposition(text), { except: PROM_CLIENT_LINT_EXCEPTIONS }), []);
  const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? Number.NaN);
  assert.equal(value(/^netaccel_paxos_view (\d+)$/m), 0);
  assert.equal(value(/^netaccel_paxos_leader (\d+)$/m), 0);
  assert.equal(value(/^netaccel_paxos_is_leader (\d+)$/m), 0);
  assert.equal(value(/^netaccel_paxos_status\{status="normal"\} (\d+)$/m), 1);
  assert.equal(value(/^netaccel_paxos_status\{status="view-change"\} (\d+)$/m), 0);
  assert.ok(value(/^netaccel_paxos_executed (\d+)$/m) >= 10);
  assert.equal(value(/^netaccel_paxos_prepare_oks_sent_total (\d+)$/m), m.replica.counters().prepare_oks_sent);
  assert.equal(value(/^netaccel_paxos_offload_enabled\{offload="fast_ack"\} (\d+)$/m), 1);
  const fastAcks = value(/^netaccel_paxos_offload_events_total\{counter="fast_acks"\} (\d+)$/m);
  assert.ok(fastAcks > 0, 'the follower fast-acked');
  assert.equal(value(/^netaccel_paxos_offload_passed_total\{reason="ring_full",verdict="pass"\} (\d+)$/m), m.offload!.stats.ringFull);

  m.offload!.offloads = FAKE_OFFLOAD.broadcast; // fast ack off from now on
  for (let i = 0; i < 5; i++) await kv.put(`j${i}`, 'v');
  const again = await metrics.text();
  assert.match(again, /^netaccel_paxos_offload_enabled\{offload="fast_ack"\} 0$/m);
  assert.match(again, /^netaccel_paxos_offload_enabled\{offload="broadcast"\} 1$/m);
  assert.equal(Number(/^netaccel_paxos_offload_events_total\{counter="fast_acks"\} (\d+)$/m.exec(again)?.[1]), m.offload!.stats.fastAcks, 'the counter follows the map');
});
