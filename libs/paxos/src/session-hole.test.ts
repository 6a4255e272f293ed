// The at-most-once hole of issue 15, closed by sessions registered through the log (log.ts): a
// session's FIRST request executed, its reply lost, its row evicted by other sessions during the
// client's retries. The retry claims the registration before it, the group has no row: refused
// SESSION_EXPIRED, and the state machine (which counts every operation it applies) applied the
// request once — at a leader step by step, and through PaxosClient over UDP on three replicas.
// Without registration the retry looked like a new client's first request and ran again.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import { PaxosClient } from './client.js';
import { SESSION_FIRST, SESSION_REGISTER, sessionIdOf } from './log.js';
import { PaxosReplica } from './replica.js';
import type { ApplyResult, StateMachine } from './state-machine.js';
import { TEST_TIMING } from './testing/cluster.js';
import { MemoryTransport } from './testing/memory-transport.js';
import { PEERS, SLOW, turn } from './testing/steps-harness.js';
import { udpTransport } from './transport.js';
import type { DatagramHandler, Peer, Transport } from './transport.js';

const { PaxosType, ReplyStatus } = paxos;
const EMPTY = Buffer.alloc(0);

/** Counts how often each operation (its bytes as text) was applied; returns the count. */
class CountingMachine implements StateMachine {
  readonly counts = new Map<string, number>();
  apply(op: Buffer): ApplyResult {
    const n = (this.counts.get(op.toString()) ?? 0) + 1;
    this.counts.set(op.toString(), n);
    return { ok: true, result: Buffer.from(String(n)) };
  }
  snapshot(): Buffer {
    return Buffer.from(JSON.stringify([...this.counts].sort()));
  }
  restore(bytes: Buffer): void {
    const rows = JSON.parse(bytes.toString()) as Array<[string, number]>;
    this.counts.clear();
    for (const [k, n] of rows) this.counts.set(k, n);
  }
}

/** Delivers one REQUEST to the leader; follower 1 acknowledges a new entry. Returns the replies. */
async function requestAtLeader(replica: PaxosReplica, transport: MemoryTransport, clientId: bigint, requestId: bigint, payload: Buffer): Promise<paxos.ReplyMessage[]> {
  const before = replica.snapshot().lastOp;
  transport.deliver(paxos.encodePaxos({ type: PaxosType.Request, view: 0, clientId, requestId, payload }), { address: '127.0.0.1', port: 9000 + Number(clientId & 0xffn) });
  await turn();
  const op = replica.snapshot().lastOp;
  if (op > before) {
    transport.deliver(paxos.encodePaxos({ type: PaxosType.PrepareOk, sender: 1, view: 0, op, flags: 0 }), PEERS[1]!);
    await turn();
  }
  return transport.take().flatMap((s) => (s.message.type === PaxosType.Reply ? [s.message] : []));
}

test('leader: a first request executed, its reply lost, its session evicted by another: the retry is refused and applied once', async (t) => {
  const transport = new MemoryTransport(PEERS[0]!);
  const machine = new CountingMachine();
  const replica = await PaxosReplica.start({ replicas: PEERS, self: 0, stateMachine: machine, transport, ...SLOW, maxClients: 2 });
  t.onTestFinished(() => replica.close());
  const send = (clientId: bigint, requestId: bigint, payload: Buffer) => requestAtLeader(replica, transport, clientId, requestId, payload);
  const sessionOf = (replies: paxos.ReplyMessage[]): bigint => {
    assert.deepEqual(replies.map((m) => [m.requestId, m.status, m.result.length]), [[SESSION_REGISTER, ReplyStatus.Ok, 8]]);
    return replies[0]!.result.readBigUInt64BE(0);
  };

  const A = sessionOf(await send(1n, SESSION_REGISTER, EMPTY)); // op 1
  assert.equal(A, sessionIdOf(1n, 0));
  // the registration's retry (its reply lost) is answered from the table: the same session, no entry
  assert.equal(sessionOf(await send(1n, SESSION_REGISTER, EMPTY)), A);
  assert.equal(replica.snapshot().lastOp, 1n);

  const x = Buffer.from('x');
  const lost = await send(A, SESSION_FIRST, x); // op 2: executed; the client never sees this reply
  assert.deepEqual(lost.map((m) => [m.status, m.result.toString()]), [[ReplyStatus.Ok, '1']]);
  const B = sessionOf(await send(2n, SESSION_REGISTER, EMPTY)); // op 3: four rows > 2: 1's and A's go
  assert.ok(!replica.clientTable().some(([id]) => id === A), 'A\'s row was evicted');

  const retry = await send(A, SESSION_FIRST, x);
  assert.deepEqual(retry.map((m) => [m.clientId, m.requestId, m.status, m.result.length]), [[A, SESSION_FIRST, ReplyStatus.SessionExpired, 0]]);
  assert.equal(machine.counts.get('x'), 1, 'applied once');
  assert.equal(replica.counters().requests_session_expired, 1);

  // B, registered (and still in the table), is served
  assert.deepEqual((await send(B, SESSION_FIRST, Buffer.from('y'))).map((m) => [m.status, m.result.toString()]), [[ReplyStatus.Ok, '1']]);

  // A stale copy of 1's registration, after its row's eviction, makes another session, never A again.
  const again = sessionOf(await send(1n, SESSION_REGISTER, EMPTY));
  assert.ok(again !== A && again !== B);
  assert.deepEqual((await send(A, SESSION_FIRST, x)).map((m) => m.status), [ReplyStatus.SessionExpired]);
  // Registering under A's own id (to revive it) is malformed on the wire: counted and dropped.
  const forged = paxos.encodePaxos({ type: PaxosType.Request, view: 0, clientId: 1n, requestId: SESSION_REGISTER, payload: EMPTY });
  forged.writeBigUInt64BE(A, paxos.PAXOS_HEADER_LEN);
  const malformed = replica.counters().messages_malformed;
  transport.deliver(forged, { address: '127.0.0.1', port: 9001 });
  await turn();
  assert.deepEqual(transport.take(), []);
  assert.equal(replica.counters().messages_malformed, malformed + 1);
  // A session never registered (or a client that made its id up) is refused from its first request.
  assert.deepEqual((await send(sessionIdOf(99n, 3), SESSION_FIRST, x)).map((m) => m.status), [ReplyStatus.SessionExpired]);
  // a client numbering its own requests (no session bit) is served as before
  assert.deepEqual((await send(7n, 5n, Buffer.from('z'))).map((m) => [m.status, m.result.toString()]), [[ReplyStatus.Ok, '1']]);
  assert.equal(machine.counts.get('x'), 1);
  assert.equal(replica.counters().sessions_registered, 3);
});

test('leader: a late copy of an older request after the eviction is refused and does not revive the session for a later one', async (t) => {
  const transport = new MemoryTransport(PEERS[0]!);
  const machine = new CountingMachine();
  const replica = await PaxosReplica.start({ replicas: PEERS, self: 0, stateMachine: machine, transport, ...SLOW, maxClients: 2 });
  t.onTestFinished(() => replica.close());
  const send = async (clientId: bigint, requestId: bigint, payload: Buffer): Promise<Array<[bigint, number]>> =>
    (await requestAtLeader(replica, transport, clientId, requestId, payload)).map((m) => [m.requestId, m.status]);
  await send(1n, SESSION_REGISTER, EMPTY); // op 1
  const A = sessionIdOf(1n, 0);
  assert.deepEqual(await send(A, SESSION_FIRST, Buffer.from('p')), [[SESSION_FIRST, ReplyStatus.Ok]]); // op 2
  assert.deepEqual(await send(A, SESSION_FIRST + 1n, Buffer.from('q')), [[SESSION_FIRST + 1n, ReplyStatus.Ok]]); // op 3, its reply lost
  await send(2n, SESSION_REGISTER, EMPTY); // op 4: A's row goes
  assert.ok(!replica.clientTable().some(([id]) => id === A));
  // a copy of p delayed past all that, then q's retry
  assert.deepEqual(await send(A, SESSION_FIRST, Buffer.from('p')), [[SESSION_FIRST, ReplyStatus.SessionExpired]]);
  assert.deepEqual(await send(A, SESSION_FIRST + 1n, Buffer.from('q')), [[SESSION_FIRST + 1n, ReplyStatus.SessionExpired]]);
  assert.deepEqual([machine.counts.get('p'), machine.counts.get('q')], [1, 1], 'each applied once');
  assert.equal(replica.counters().requests_session_expired, 2);
});

/**
 * A client's socket that loses the first reply to a session's first request, then holds every
 * send of that request (the client's retries) until `release()`.
 */
class LoseFirstReply implements Transport {
  private lost = false;
  private holding = true;
  private readonly held: Array<[Buffer, Peer]> = [];
  private markLost: () => void = () => undefined;
  readonly replyLost = new Promise<void>((resolve) => (this.markLost = resolve));

  constructor(private readonly inner: Transport) {}

  get local(): Peer {
    return this.inner.local;
  }

  private static firstRequestOf(data: Buffer, type: number): boolean {
    try {
      const m = paxos.decodePaxos(data);
      return m.type === type && (m.type === PaxosType.Request || m.type === PaxosType.Reply) && m.requestId === SESSION_FIRST;
    } catch {
      return false;
    }
  }

  send(data: Buffer, to: Peer): void {
    if (this.lost && this.holding && LoseFirstReply.firstRequestOf(data, PaxosType.Request)) this.held.push([data, to]);
    else this.inner.send(data, to);
  }

  onMessage(handler: DatagramHandler): void {
    this.inner.onMessage((data, from) => {
      if (!this.lost && LoseFirstReply.firstRequestOf(data, PaxosType.Reply)) {
        this.lost = true;
        this.markLost();
        return;
      }
      handler(data, from);
    });
  }

  release(): void {
    this.holding = false;
    for (const [data, to] of this.held.splice(0)) this.inner.send(data, to);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

async function waitFor(what: string, pred: () => boolean): Promise<void> {
  const deadline = performance.now() + 8000;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('PaxosClient over UDP, 3 replicas: the first request\'s reply lost and its session evicted during the retries: NA_ERR_PAXOS_SESSION_EXPIRED, applied once on every replica; the next request registers anew', async (t) => {
  const sockets = await Promise.all([0, 1, 2].map(() => udpTransport({ address: '127.0.0.1', port: 0 })));
  const peers = sockets.map((s) => s.local);
  const machines = peers.map(() => new CountingMachine());
  const replicas: PaxosReplica[] = [];
  const clients: PaxosClient[] = [];
  t.onTestFinished(async () => {
    for (const c of clients) await c.close();
    for (const r of replicas) await r.close();
    for (const s of sockets.slice(replicas.length)) await s.close();
  });
  for (let i = 0; i < 3; i++) replicas.push(await PaxosReplica.start({ replicas: peers, self: i, stateMachine: machines[i]!, transport: sockets[i]!, ...TEST_TIMING, maxClients: 2 }));
  const client = async (transport?: Transport): Promise<PaxosClient> => {
    const c = await PaxosClient.create({ replicas: peers, retryMs: 40, timeoutMs: 8000, ...(transport === undefined ? {} : { transport }) });
    clients.push(c);
    return c;
  };

  const lossy = new LoseFirstReply(await udpTransport({ address: '127.0.0.1', port: 0 }));
  const a = await client(lossy);
  const first = a.invoke(Buffer.from('x')).then(
    () => 'executed and answered',
    (err: unknown) => (err as { code?: string }).code,
  );
  await lossy.replyLost;
  const session = a.clientId;
  // two other sessions register and execute: A's row is the oldest beyond maxClients 2 everywhere
  for (const op of ['y', 'z']) await (await client()).invoke(Buffer.from(op));
  const allExecuted = (): boolean => replicas.every((r) => r.snapshot().executed === replicas[0]!.snapshot().executed);
  await waitFor('A\'s row evicted on every replica', () => allExecuted() && replicas.every((r) => !r.clientTable().some(([id]) => id === session)));

  lossy.release();
  assert.equal(await first, 'NA_ERR_PAXOS_SESSION_EXPIRED');
  await waitFor('every replica executed the refusal', () => replicas[0]!.counters().requests_session_expired === 1 && allExecuted());
  assert.deepEqual(machines.map((m) => m.counts.get('x')), [1, 1, 1], 'x applied once on every replica');

  // the next request registers a new session and runs
  assert.equal((await a.invoke(Buffer.from('w'))).toString(), '1');
  assert.notEqual(a.clientId, session);
  await waitFor('convergence', allExecuted);
  const tables = replicas.map((r) => r.clientTable().map(([id, row]) => [id, row.requestId, row.op, row.status]));
  assert.deepEqual(tables[1], tables[0], 'the same rows on every replica');
  assert.deepEqual(tables[2], tables[0]);
  assert.deepEqual(machines.map((m) => [m.counts.get('x'), m.counts.get('w')]), [[1, 1], [1, 1], [1, 1]]);
});
