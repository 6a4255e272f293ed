// The bounded client table (log.ts ClientTable): eviction by age and by count decided from op
// numbers only (the same rows on every replica, whatever order they were inserted in), sessions
// registered through the log (ids from the op and place, rows carried by checkpoints), and at a
// leader: a client's row dropped at the exact op, a retry of its executed request after that
// answered SESSION_EXPIRED and not executed again, a client numbering its own requests unaffected.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import { encodeKvOp } from './kv.js';
import { ClientTable, SESSION_BIT, SESSION_FIRST, SESSION_REGISTER, sessionExpired, sessionIdOf } from './log.js';
import { decodeCheckpoint, encodeCheckpoint } from './snapshot.js';
import type { CachedReply } from './log.js';
import { single, turn } from './testing/steps-harness.js';
import type { Peer } from './transport.js';

const { PaxosType, ReplyStatus } = paxos;
const row = (requestId: bigint, op: bigint): CachedReply => ({ requestId, status: ReplyStatus.Ok, result: Buffer.from(`r${requestId}`), op });
const rows = (t: ClientTable): Array<[bigint, bigint]> => t.entries().map(([id, c]) => [id, c.op]);

test('client table: rows older than retainOps ops are dropped at the op that passes them, not before', () => {
  const t = new ClientTable({ retainOps: 3, maxClients: 100 });
  t.set(1n, row(5n, 1n));
  t.set(2n, row(5n, 2n));
  assert.equal(t.evict(4n), 0, 'op 1 is 3 ops behind op 4: kept');
  assert.equal(t.evict(5n), 1, 'op 1 is 4 ops behind op 5: dropped');
  assert.deepEqual(rows(t), [[2n, 2n]]);
  t.set(2n, row(6n, 5n)); // the client sent again: its row is young again
  assert.equal(t.evict(8n), 0);
  assert.equal(t.evict(9n), 1);
  assert.equal(t.size, 0);
});

test('client table: beyond maxClients the oldest op goes first, its rows by client id, whatever the insertion order', () => {
  const a = new ClientTable({ retainOps: 1000, maxClients: 2 });
  // one entry (op 10) executed requests of clients 9, 4, 7 in that order
  for (const id of [9n, 4n, 7n]) a.set(id, row(1n, 10n));
  // another replica installed a checkpoint of op 10 instead: rows by (op, client id)
  const b = new ClientTable({ retainOps: 1000, maxClients: 2 });
  b.replace(a.entries());
  assert.deepEqual(rows(b), [[4n, 10n], [7n, 10n], [9n, 10n]]);
  for (const t of [a, b]) {
    t.set(1n, row(1n, 11n));
    assert.equal(t.evict(11n), 2);
  }
  assert.deepEqual(rows(a), [[9n, 10n], [1n, 11n]]);
  assert.deepEqual(rows(b), rows(a), 'both replicas keep the same rows');
  // a client seen again moves to the newest end; the cap then drops the oldest other row
  a.set(9n, row(2n, 12n));
  a.set(3n, row(1n, 12n));
  assert.equal(a.evict(12n), 1);
  assert.deepEqual(rows(a), [[3n, 12n], [9n, 12n]]);
});

test('session-checked request ids: every id above the registration claims it; ids without the session bit claim nothing', () => {
  assert.equal(SESSION_REGISTER, paxos.PAXOS_REGISTER_ID);
  assert.equal(sessionExpired(SESSION_REGISTER), false, 'a registration is never refused');
  assert.equal(sessionExpired(SESSION_FIRST), true, 'a session\'s first request claims its registration');
  assert.equal(sessionExpired(SESSION_FIRST + 1n), true);
  assert.equal(sessionExpired(5n), false, 'a client numbering its own requests (no session bit)');
});

test('session ids: from the op and the place in the entry, the top bit set, distinct, u64 even past 2^55 ops', () => {
  assert.equal(sessionIdOf(1n, 0), SESSION_BIT | 0x100n);
  assert.equal(sessionIdOf(0x1234n, 7), SESSION_BIT | 0x123407n);
  const ids = new Set<bigint>();
  for (let op = 1n; op <= 40n; op++) for (let i = 0; i < 75; i++) ids.add(sessionIdOf(op, i));
  assert.equal(ids.size, 40 * 75);
  const far = sessionIdOf((1n << 60n) + 3n, 1);
  assert.ok(far >= SESSION_BIT && far < 1n << 64n);
});

test('registration: a row for the session (its latest request the registration) and the registering client\'s reply; a checkpoint carries both', () => {
  const t = new ClientTable({ retainOps: 1000, maxClients: 10 });
  const session = sessionIdOf(4n, 1);
  const reply = t.register(session, 4n);
  t.set(77n, reply, false);
  assert.deepEqual([reply.requestId, reply.status, reply.result.readBigUInt64BE(0), reply.op], [SESSION_REGISTER, ReplyStatus.Ok, session, 4n]);
  assert.deepEqual(t.get(session), { requestId: SESSION_REGISTER, status: ReplyStatus.Ok, result: Buffer.alloc(0), op: 4n });
  t.set(session, row(SESSION_FIRST, 5n));
  const image = decodeCheckpoint(encodeCheckpoint(5n, t, Buffer.from('machine')).bytes);
  const restored = new ClientTable({ retainOps: 1000, maxClients: 10 });
  restored.replace(image.clients);
  assert.deepEqual(restored.entries(), t.entries());
  assert.equal(restored.get(session)?.requestId, SESSION_FIRST, 'the session\'s progress survives a checkpoint');
  assert.deepEqual(restored.get(77n)?.result, reply.result, 'and so does the registration\'s reply');
});

test('leader: a row evicted after clientRetainOps ops; a retry of its executed request is answered SESSION_EXPIRED, not executed', async (t) => {
  const { replica, kv, transport, from, sent } = await single(0, t, { clientRetainOps: 2 });
  const addr = (c: bigint): Peer => ({ address: '127.0.0.1', port: 9000 + Number(c) });
  let op = 0n;
  /** Delivers one REQUEST; when it makes a new entry, follower 2 acknowledges it. Returns the replies. */
  const request = async (clientId: bigint, requestId: bigint, key: string, value: string): Promise<paxos.ReplyMessage[]> => {
    transport.deliver(paxos.encodePaxos({ type: PaxosType.Request, view: 0, clientId, requestId, payload: encodeKvOp({ kind: 'put', key, value }) }), addr(clientId));
    await turn();
    if (replica.snapshot().lastOp > op) {
      op = replica.snapshot().lastOp;
      await from(2, { type: PaxosType.PrepareOk, sender: 2, view: 0, op, flags: 0 });
    }
    return sent().flatMap((s) => (s.m.type === PaxosType.Reply ? [s.m] : []));
  };
  /** Registers under `nonce` (a new entry); returns the session id the reply carries. */
  const register = async (nonce: bigint): Promise<bigint> => {
    transport.deliver(paxos.encodePaxos({ type: PaxosType.Request, view: 0, clientId: nonce, requestId: SESSION_REGISTER, payload: Buffer.alloc(0) }), addr(nonce));
    await turn();
    op = replica.snapshot().lastOp;
    await from(2, { type: PaxosType.PrepareOk, sender: 2, view: 0, op, flags: 0 });
    const [reply] = sent().flatMap((s) => (s.m.type === PaxosType.Reply ? [s.m] : []));
    assert.equal(reply?.status, ReplyStatus.Ok);
    return reply!.result.readBigUInt64BE(0);
  };
  const A = await register(1n); // op 1 (its registering client's row is 2 ops old at op 3: gone)
  assert.equal(A, sessionIdOf(1n, 0));
  assert.equal((await request(A, SESSION_FIRST, 'a', '1'))[0]?.status, ReplyStatus.Ok); // op 2
  assert.equal((await request(A, SESSION_FIRST + 1n, 'a', '2'))[0]?.status, ReplyStatus.Ok); // op 3
  const B = await register(2n); // op 4
  await request(B, SESSION_FIRST, 'a', '3'); // op 5: A's row (op 3) is 2 ops behind: kept
  assert.deepEqual(replica.clientTable().map(([id, c]) => [id, c.op]), [[A, 3n], [2n, 4n], [B, 5n]]);
  await request(B, SESSION_FIRST + 1n, 'b', '4'); // op 6: 3 ops behind: dropped
  assert.deepEqual(replica.clientTable().map(([id]) => id), [2n, B]);
  assert.equal(replica.counters().clients_evicted, 2, 'the first registering client\'s row (op 1) and A\'s');
  assert.equal(replica.counters().sessions_registered, 2);
  const executed = replica.counters().requests_executed;

  // A's reply of request 2 was lost; its retry comes after the eviction.
  const retry = await request(A, SESSION_FIRST + 1n, 'a', '2');
  assert.deepEqual(retry.map((m) => [m.clientId, m.requestId, m.status, m.result.length]), [[A, SESSION_FIRST + 1n, ReplyStatus.SessionExpired, 0]]);
  assert.equal(kv.peek('a'), '3', 'the retry did not execute again (it would have written a = 2 over B\'s 3)');
  assert.equal(replica.counters().requests_executed, executed);
  assert.equal(replica.counters().requests_session_expired, 1);
  // The row remembers the refusal: the same retry again is answered from the table, older ones ignored.
  const lastOp = replica.snapshot().lastOp;
  assert.deepEqual((await request(A, SESSION_FIRST + 1n, 'a', '2')).map((m) => m.status), [ReplyStatus.SessionExpired]);
  assert.deepEqual(await request(A, SESSION_FIRST, 'a', '1'), []);
  assert.equal(replica.snapshot().lastOp, lastOp, 'no new entry for either');
  assert.equal(replica.counters().requests_session_expired, 1);

  // A client that numbers its own requests (no session bit), unknown with id 7: executed, as before.
  assert.deepEqual((await request(30n, 7n, 'c', '7')).map((m) => m.status), [ReplyStatus.Ok]);
  assert.equal(kv.peek('c'), '7');
});

test('leader: with maxClients 1, a batch of three clients (numbering their own requests) keeps the highest id; reply addresses are bounded at 2 x maxClients', async (t) => {
  const { replica, transport, from, sent } = await single(0, t, { maxClients: 1 });
  for (const c of [3n, 1n, 2n]) {
    transport.deliver(paxos.encodePaxos({ type: PaxosType.Request, view: 0, clientId: c, requestId: 1n, payload: encodeKvOp({ kind: 'put', key: `k${c}`, value: 'v' }) }), { address: '127.0.0.1', port: 9000 + Number(c) });
  }
  await turn();
  assert.equal(replica.snapshot().lastOp, 1n, 'one entry');
  await from(2, { type: PaxosType.PrepareOk, sender: 2, view: 0, op: 1n, flags: 0 });
  // client 3's address, heard first, was dropped for client 2's: its reply has nowhere to go
  const replies = sent().flatMap((s) => (s.m.type === PaxosType.Reply ? [s.m.clientId] : []));
  assert.deepEqual(replies, [1n, 2n]);
  assert.deepEqual(replica.clientTable().map(([id]) => id), [3n], 'of one op, the lowest ids are evicted first');
  assert.equal(replica.counters().clients_evicted, 2);
  // client 3 retries: answered from its row, to the address it sends from now
  transport.deliver(paxos.encodePaxos({ type: PaxosType.Request, view: 0, clientId: 3n, requestId: 1n, payload: encodeKvOp({ kind: 'put', key: 'k3', value: 'v' }) }), { address: '127.0.0.1', port: 9003 });
  await turn();
  assert.deepEqual(sent().map((s) => s.m.type === PaxosType.Reply && [s.to, s.m.clientId, s.m.status]), [['client', 3n, ReplyStatus.Ok]]);
});
