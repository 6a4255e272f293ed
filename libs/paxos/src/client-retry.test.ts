// PaxosClient's re-send timer on a MemoryTransport (the group played by the test, time by
// vitest's fake clock: setInterval and performance.now): the first re-send goes to the leader
// it believes in, later ones to every replica; each re-send doubles the timeout (back-off);
// a reply to a request sent once is a latency sample (RFC 6298), a reply after a re-send is not
// (Karn's rule); the timeout stays within [retryMs, retryMaxMs].
import { test, vi } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import { PaxosClient } from './client.js';
import { SESSION_FIRST, SESSION_REGISTER, sessionIdOf } from './log.js';
import { MemoryTransport } from './testing/memory-transport.js';
import { PEERS } from './testing/steps-harness.js';

const { PaxosType, ReplyStatus } = paxos;
const SESSION = sessionIdOf(4n, 1);
/** Lets the client's promise continuations run (fake timers leave queueMicrotask real). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

async function setup(t: { onTestFinished(fn: () => unknown): void }, opts: { retryMs: number; retryMaxMs?: number; timeoutMs?: number }) {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'performance'] });
  t.onTestFinished(() => vi.useRealTimers());
  const transport = new MemoryTransport({ address: '127.0.0.1', port: 9200 });
  const client = await PaxosClient.create({ replicas: PEERS, transport, timeoutMs: opts.timeoutMs ?? 60_000, clientId: 5n, ...opts });
  t.onTestFinished(() => client.close());
  /** Where the requests sent since the last call went (replica indexes). */
  const sent = (): number[] => transport.take().flatMap((s) => (s.message.type === PaxosType.Request ? [PEERS.findIndex((p) => p.port === s.to.port)] : []));
  const reply = (clientId: bigint, requestId: bigint, result: Buffer, sender = 0): void =>
    transport.deliver(paxos.encodeReply(sender, 0, clientId, requestId, ReplyStatus.Ok, result), PEERS[sender]!);
  /** Registers (answered at once) so later requests are plain puts under SESSION. */
  const register = async (): Promise<void> => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(SESSION, 0);
    const first = client.invoke(Buffer.from('r'));
    reply(5n, SESSION_REGISTER, b);
    await settle();
    reply(SESSION, SESSION_FIRST, Buffer.from('R'));
    await first;
    sent();
  };
  return { client, sent, reply, register };
}

test('PaxosClient re-sends first to its leader, then to every replica, doubling the timeout each time up to retryMaxMs', async (t) => {
  const { client, sent, reply, register } = await setup(t, { retryMs: 100, retryMaxMs: 700 });
  await register(); // a sample of 0 ms: the timeout stays at its floor
  assert.equal(client.retryTimeoutMs, 100);
  const call = client.invoke(Buffer.from('a'));
  await settle();
  assert.deepEqual(sent(), [0], 'the request goes to the leader');
  const at: number[] = [];
  const to: number[][] = [];
  for (let ms = 1; ms <= 2000; ms++) {
    vi.advanceTimersByTime(1);
    const s = sent();
    if (s.length > 0) {
      at.push(ms);
      to.push(s);
    }
  }
  // re-sends 100, 200, 400 and then 700 (the ceiling) apart; the timer ticks every 25 ms
  assert.deepEqual(at, [100, 300, 700, 1400]);
  assert.deepEqual(to, [[0], [0, 1, 2], [0, 1, 2], [0, 1, 2]]);
  assert.equal(client.retryTimeoutMs, 700);
  reply(SESSION, SESSION_FIRST + 1n, Buffer.from('A'), 2);
  assert.equal((await call).toString(), 'A');
  assert.equal(client.retryTimeoutMs, 700, "Karn's rule: the reply to a re-sent request is no sample, the back-off stays");
  assert.equal(client.leaderGuess, 2, 'the replica that answered is the leader now');
  const next = client.invoke(Buffer.from('b'));
  await settle();
  assert.deepEqual(sent(), [2]);
  vi.advanceTimersByTime(40);
  reply(SESSION, SESSION_FIRST + 2n, Buffer.from('B'), 2);
  assert.equal((await next).toString(), 'B');
  // one sample of 40 ms ends the back-off (after the registration's two of 0 ms: srtt 5 +
  // 4 x rttvar 10 = 45, below the floor)
  assert.equal(client.retryTimeoutMs, 100);
});

test('PaxosClient: a group slower than retryMs is not re-sent to once the client measured it', async (t) => {
  const { client, sent, reply, register } = await setup(t, { retryMs: 100 });
  await register();
  /** One request the group answers after `ms`; returns where its copies went. */
  const slow = async (requestId: bigint, ms: number): Promise<number[]> => {
    const call = client.invoke(Buffer.from('x'));
    await settle();
    vi.advanceTimersByTime(ms);
    const copies = sent();
    reply(SESSION, requestId, Buffer.from('X'));
    await call;
    return copies;
  };
  // the first 300 ms answer outlives the 100 ms floor: re-sent to the leader (at 100), then to
  // every replica (at 300); the timeout is backed off to 400, so the next one is sent once and
  // gives a sample (after the registration's two of 0 ms: srtt 37.5, rttvar 75: 337.5); from
  // then on none is re-sent
  assert.deepEqual(await slow(SESSION_FIRST + 1n, 300), [0, 0, 0, 1, 2]);
  assert.equal(client.retryTimeoutMs, 400);
  assert.deepEqual(await slow(SESSION_FIRST + 2n, 300), [0]);
  assert.equal(client.retryTimeoutMs, 337.5);
  for (let i = 3n; i < 28n; i++) assert.deepEqual(await slow(SESSION_FIRST + i, 300), [0]);
  // the deviation decays: srtt + 4 x rttvar comes down towards the group's 300 ms
  assert.ok(client.retryTimeoutMs > 300 && client.retryTimeoutMs < 400, String(client.retryTimeoutMs));
  // a fast group again: the samples bring the timeout back down to its floor, not below
  for (let i = 28n; i < 68n; i++) assert.deepEqual(await slow(SESSION_FIRST + i, 1), [0]);
  assert.equal(client.retryTimeoutMs, 100);
});

test('PaxosClient: retryMaxMs defaults to max(2000, retryMs) and is refused below retryMs', async (t) => {
  const { client } = await setup(t, { retryMs: 3000 });
  assert.equal(client.retryTimeoutMs, 3000);
  await assert.rejects(PaxosClient.create({ replicas: PEERS, transport: new MemoryTransport({ address: '127.0.0.1', port: 9201 }), retryMs: 100, retryMaxMs: 50 }), /retryMaxMs: expected at least retryMs \(100\), got 50/);
  await assert.rejects(PaxosClient.create({ replicas: PEERS, transport: new MemoryTransport({ address: '127.0.0.1', port: 9202 }), retryMaxMs: 0 }), /retryMaxMs: expected a positive integer, got 0/);
});
