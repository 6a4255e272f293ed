// paxos-gen (the Paxos benchmark's C load generator) against a real replica group on loopback
// (libs/paxos' TestCluster: PaxosReplicas over UDP) and against scripted replicas that redirect,
// drop and stay silent: the wire format, request ids, retransmission, redirects, timeouts, the
// history it leaves and the report. Slow layer: builds the generator with gcc, runs it as a child.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryRecorder, checkHistory } from '@netaccel/linearizability';
import { decodeKvOp } from '@netaccel/paxos';
import { TestCluster } from '@netaccel/paxos/testing';
import { paxos } from '@netaccel/protocol';
import { genArgs, monotonicMs, parseGenHistory, readGenHistory, runGen } from './gen.js';
import type { GenPoint } from './gen.js';
import { buildPaxosGen } from './tools.js';

const gen = buildPaxosGen();
const BASE = 0x1234n << 32n;

function scratch(t: { onTestFinished(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pxg-gen-'));
  t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('against a 3-replica group: every put answered once, the history with a read-back is linearizable, a second run continues the request ids', async (t) => {
  const c = await TestCluster.start({ n: 3 });
  t.onTestFinished(() => c.close());
  const dir = scratch(t);
  const point = (tag: string, first: bigint): GenPoint => ({
    replicas: c.peers,
    clients: 6,
    warmupMs: 50,
    ms: 250,
    tag,
    clientIdBase: BASE,
    firstRequestId: first,
    retryMs: 500,
    timeoutMs: 5000,
    historyFile: join(dir, `${tag}.history`),
  });
  const a = await runGen(gen, point('pxg-a', 1n));
  const b = await runGen(gen, point('pxg-b', 1n << 32n)); // the same client ids, higher request ids
  for (const r of [a, b]) {
    assert.ok(r.ops > 0 && r.ops <= r.acked, JSON.stringify(r));
    assert.equal(r.unknown, 0);
    assert.equal(r.errors, 0);
    assert.equal(r.acked, r.puts, 'every put started was answered');
    assert.ok(r.p50Ms > 0 && r.p50Ms <= r.p99Ms, JSON.stringify(r));
    assert.ok(r.cpuUs > 0 && r.recvCalls > 0 && r.sendCalls > 0);
    assert.equal(r.seconds, 0.25);
  }
  const leader = c.member(0).replica.counters();
  assert.equal(leader.requests_executed, a.acked + b.acked, 'each put executed once (none taken for a duplicate of the first run)');
  const puts = [...readGenHistory(join(dir, 'pxg-a.history')), ...readGenHistory(join(dir, 'pxg-b.history'))];
  assert.equal(puts.length, a.puts + b.puts);
  assert.ok(puts.every((p) => p.kind === 'write' && /^pxg-[ab]\/p[0-2]\/k[0-3]$/.test(p.key) && p.value.length === 32 && p.complete !== null));
  // read every key back on the same clock and check the whole history
  const rec = new HistoryRecorder(monotonicMs);
  const reader = await c.client();
  const keys = [...new Set(puts.map((p) => p.key))].sort();
  assert.equal(keys.length, 2 * 3 * 4, 'three pairs of clients, four keys each, two runs');
  for (const key of keys) {
    const p = rec.begin({ kind: 'read', key });
    rec.ok(p, await reader.get(key));
  }
  const check = checkHistory([...puts, ...rec.history()]);
  assert.equal(check.outcome, 'linearizable', check.counterexample?.explanation);
  await c.waitFor('the group to converge', () => c.converged());
  const stores = c.members.map((m) => JSON.stringify(m!.kv.entries()));
  assert.equal(new Set(stores).size, 1);
});

interface Seen {
  clientId: bigint;
  requestId: bigint;
  key: string;
  value: string;
}

/** A scripted replica on loopback: `answer` decides what to do with each REQUEST it decodes. */
async function fakeReplica(t: { onTestFinished(fn: () => unknown): void }, index: number, answer: (m: Seen, copy: number) => 'ok' | 'drop' | number, delayMs = 0): Promise<{ sock: Socket; seen: Seen[] }> {
  const sock = createSocket('udp4');
  let open = true; // a reply delayed past the end of the test is not sent on the closed socket
  t.onTestFinished(() => new Promise<void>((r) => ((open = false), sock.close(() => r()))));
  const seen: Seen[] = [];
  const copies = new Map<string, number>();
  sock.on('message', (data: Buffer, from: RemoteInfo) => {
    const m = paxos.decodePaxos(data); // throws (fails the test) on anything malformed
    assert.equal(m.type, paxos.PaxosType.Request);
    if (m.type !== paxos.PaxosType.Request) return;
    const op = decodeKvOp(Buffer.from(m.payload));
    assert.equal(op.kind, 'put');
    if (op.kind !== 'put') return;
    const s = { clientId: m.clientId, requestId: m.requestId, key: op.key, value: op.value };
    seen.push(s);
    const id = `${m.clientId}/${m.requestId}`;
    const copy = (copies.get(id) ?? 0) + 1;
    copies.set(id, copy);
    const what = answer(s, copy);
    if (what === 'drop') return;
    const reply = what === 'ok'
      ? { status: paxos.ReplyStatus.Ok, result: Buffer.alloc(0) }
      : { status: paxos.ReplyStatus.NotLeader, result: Buffer.of(what) };
    const out = paxos.encodePaxos({ type: paxos.PaxosType.Reply, sender: index, view: 3, clientId: m.clientId, requestId: m.requestId, ...reply });
    if (delayMs === 0) sock.send(out, from.port, from.address);
    else setTimeout(() => open && sock.send(out, from.port, from.address), delayMs);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { sock, seen };
}

test('scripted replicas: NOT_LEADER redirects, a dropped request is re-sent to the leader then to every replica with the same id, silence ends in unknown outcomes', async (t) => {
  const dir = scratch(t);
  // replica 0 names 1 the leader; replica 1 answers the third copy of each request; 2 is silent
  const r0 = await fakeReplica(t, 0, () => 1);
  const r1 = await fakeReplica(t, 1, (_, copy) => (copy >= 3 ? 'ok' : 'drop'));
  const r2 = await fakeReplica(t, 2, () => 'drop');
  const replicas = [r0, r1, r2].map((r) => ({ address: '127.0.0.1', port: r.sock.address().port }));
  const history = join(dir, 'h');
  const r = await runGen(gen, { replicas, clients: 2, warmupMs: 0, ms: 200, tag: 'pxg-s', clientIdBase: BASE, firstRequestId: 7n, retryMs: 30, timeoutMs: 1000, historyFile: history });
  assert.equal(r.redirects, 2, 'each client redirected once, then it kept replica 1');
  assert.ok(r.acked >= 2 && r.unknown === 0 && r.errors === 0, JSON.stringify(r));
  assert.equal(r.retransmits, 2 * r.acked, 'every put needed two retransmissions: to the leader, then to all');
  const copiesAt = (seen: Seen[], c: bigint, req: bigint): number => seen.filter((s) => s.clientId === BASE + c && s.requestId === req).length;
  for (const c of [0n, 1n]) assert.deepEqual([copiesAt(r0.seen, c, 7n), copiesAt(r1.seen, c, 7n), copiesAt(r2.seen, c, 7n)], [2, 3, 1], 'replica 0: the first send and the broadcast; 1: after the redirect, the re-send to it, the broadcast');
  // the ids: client c is BASE + c; its request ids 7, 8, ... one per put, the same id on every copy
  for (const c of [0n, 1n]) {
    const ids = [...new Set(r1.seen.filter((s) => s.clientId === BASE + c).map((s) => s.requestId))];
    assert.deepEqual(ids, ids.map((_, i) => 7n + BigInt(i)));
    assert.ok(r2.seen.some((s) => s.clientId === BASE + c), 'the retransmission went to every replica');
  }
  const first = r1.seen.find((s) => s.clientId === BASE && s.requestId === 7n)!;
  assert.deepEqual([first.key, first.value], ['pxg-s/p0/k0', `0-0-${'v'.repeat(28)}`]);
  assert.equal(readGenHistory(history).length, r.puts);

  // nobody answers: each client's one put gives up after the timeout, outcome unknown
  const silent = await fakeReplica(t, 0, () => 'drop');
  const s = await runGen(gen, { replicas: [{ address: '127.0.0.1', port: silent.sock.address().port }], clients: 3, warmupMs: 0, ms: 50, tag: 'pxg-t', clientIdBase: BASE, firstRequestId: 1n, retryMs: 20, timeoutMs: 100, historyFile: history });
  assert.deepEqual([s.acked, s.unknown, s.puts, s.ops], [0, 3, 3, 0]);
  assert.ok(s.retransmits >= 3);
  const h = readGenHistory(history);
  assert.equal(h.length, 3);
  assert.ok(h.every((p) => p.complete === null));
});

test('a replica slower than <retry ms>: the first put is re-sent, then the client has measured it and re-sends nothing', async (t) => {
  // every put answered 60 ms late (each copy); the floor is 20 ms: a fixed timer re-sent every put
  const slow = await fakeReplica(t, 0, () => 'ok', 60);
  const replicas = [{ address: '127.0.0.1', port: slow.sock.address().port }];
  const r = await runGen(gen, { replicas, clients: 1, warmupMs: 0, ms: 1000, tag: 'pxg-rto', clientIdBase: BASE, firstRequestId: 1n, retryMs: 20, timeoutMs: 5000 });
  assert.ok(r.acked >= 6 && r.unknown === 0, JSON.stringify(r));
  // the first put: re-sent at 20 ms and (backed off) at 60 ms at most; its reply is no sample
  // (Karn's rule), the next put's is (the timeout was backed off to 80 ms): from then on the
  // timeout is srtt + 4 x rttvar of ~60 ms samples
  assert.ok(r.retransmits * 3 <= r.acked, `${r.retransmits} re-sends for ${r.acked} puts: ${JSON.stringify(r)}`);
  assert.equal(slow.seen.length, r.puts + r.retransmits, 'one datagram per re-send: one replica');
});

test('paced against a 3-replica group: every arrival of the schedule started and answered once, the history linearizable', async (t) => {
  const c = await TestCluster.start({ n: 3 });
  t.onTestFinished(() => c.close());
  const dir = scratch(t);
  const historyFile = join(dir, 'paced.history');
  // 400 op/s over 50 ms of warm-up + 500 ms: arrivals 0..219, 200 of them inside the window
  const r = await runGen(gen, { replicas: c.peers, clients: 8, warmupMs: 50, ms: 500, tag: 'pxg-p', clientIdBase: BASE, firstRequestId: 1n, retryMs: 500, timeoutMs: 5000, historyFile, rateOpsPerS: 400 });
  assert.deepEqual([r.rate, r.puts, r.offered, r.unstarted, r.unknown, r.errors], [400, 220, 200, 0, 0, 0], JSON.stringify(r));
  assert.equal(r.acked, r.puts, 'every arrival was started and answered');
  assert.equal(r.ops, r.offered, 'every arrival inside the window is a latency sample');
  assert.ok(r.completed > 0 && r.completed <= r.acked && r.p50Ms > 0 && r.p50Ms <= r.p99Ms, JSON.stringify(r));
  assert.equal(c.member(0).replica.counters().requests_executed, r.acked, 'each put executed once');
  const puts = readGenHistory(historyFile);
  assert.equal(puts.length, 220);
  const rec = new HistoryRecorder(monotonicMs);
  const reader = await c.client();
  for (const key of [...new Set(puts.map((p) => p.key))]) {
    const p = rec.begin({ kind: 'read', key });
    rec.ok(p, await reader.get(key));
  }
  const check = checkHistory([...puts, ...rec.history()]);
  assert.equal(check.outcome, 'linearizable', check.counterexample?.explanation);
});

test('paced: latency runs from the arrival, so a backlog behind a slow replica shows (no coordinated omission); closed loop does not see it', async (t) => {
  // one client, a replica answering each put 20 ms late: it serves <= 50 op/s, the schedule offers 100
  const slow = await fakeReplica(t, 0, () => 'ok', 20);
  const replicas = [{ address: '127.0.0.1', port: slow.sock.address().port }];
  const base = { replicas, clients: 1, warmupMs: 0, ms: 300, clientIdBase: BASE, retryMs: 2000, timeoutMs: 5000 };
  const paced = await runGen(gen, { ...base, tag: 'pxg-co', firstRequestId: 1n, rateOpsPerS: 100 });
  const closed = await runGen(gen, { ...base, tag: 'pxg-cl', firstRequestId: 1n << 32n });
  assert.deepEqual([paced.offered, paced.ops, paced.puts, paced.unknown, paced.unstarted], [30, 30, 30, 0, 0], JSON.stringify(paced));
  assert.ok(paced.maxBacklog >= 10, `the arrivals queued behind the one client: ${JSON.stringify(paced)}`);
  assert.ok(paced.genLateMaxMs < paced.p50Ms, `the queue is the replica's, not the generator's lateness: ${JSON.stringify(paced)}`);
  // arrival k waits for the k puts before it: its latency grows with k, the closed loop's stays one service time
  assert.ok(paced.p50Ms > closed.p99Ms, `paced p50 ${paced.p50Ms} ms vs closed-loop p99 ${closed.p99Ms} ms`);
  assert.ok(paced.realtime === 0 || paced.realtime === 1, 'paced: SCHED_FIFO when the system grants it');
  assert.equal(closed.realtime, 0, 'closed loop: the ordinary scheduler');
  assert.equal(closed.rate, 0);
  assert.equal(closed.offered, 0);
});

test('arguments and reports: bad input is refused with a message', () => {
  const p: GenPoint = { replicas: [{ address: '127.0.0.1', port: 1 }], clients: 1, warmupMs: 0, ms: 1, tag: 'x', clientIdBase: BASE, firstRequestId: 1n, retryMs: 1, timeoutMs: 1 };
  assert.deepEqual(genArgs(p), ['127.0.0.1:1', '1', '0', '1', 'x', '0x123400000000', '0x1', '1', '1', '-']);
  assert.throws(() => genArgs({ ...p, clientIdBase: 5n }), /low 32 bits/);
  assert.throws(() => genArgs({ ...p, tag: 'a b' }), /without spaces/);
  assert.deepEqual(genArgs({ ...p, rateOpsPerS: 1500.5 }).slice(10), ['1500.5']);
  assert.deepEqual(genArgs({ ...p, rateOpsPerS: 0 }).length, 10, 'rate 0: closed loop, no argument');
  assert.throws(() => genArgs({ ...p, rateOpsPerS: -1 }), /rate >= 0/);
  assert.throws(() => parseGenHistory('12 x k v\n'), /line 1/);
  assert.throws(() => parseGenHistory('12 10 k v\n'), /line 1/);
  assert.deepEqual(parseGenHistory('2000000 3000000 k v\n5000000 - k w\n').map((o) => [o.invoke, o.complete]), [[2, 3], [5, null]]);
});

test('the generator refuses bad arguments with a usage message', async () => {
  const base = { replicas: [{ address: '127.0.0.1', port: 9 }], clients: 1, warmupMs: 0, ms: 10, tag: 'x', clientIdBase: BASE, firstRequestId: 1n, retryMs: 10, timeoutMs: 5 };
  await assert.rejects(runGen(gen, base), /bad arguments/); // timeout below retry
  await assert.rejects(runGen(gen, { ...base, timeoutMs: 10, clients: 0 }), /bad arguments/);
  await assert.rejects(runGen(gen, { ...base, timeoutMs: 10, replicas: [{ address: 'nowhere', port: 9 }] }), /replicas/);
  await assert.rejects(runGen(gen, { ...base, timeoutMs: 10, rateOpsPerS: 2_000_000 }), /bad arguments.*rate/);
});
