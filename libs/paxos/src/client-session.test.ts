// PaxosClient's sessions on the wire (a MemoryTransport plays the group): it registers before
// its first request (REGISTER, request id 2^63, under its 63-bit id), numbers the session's
// requests from SESSION_FIRST under the id the reply carries, registers again under a new id
// after a SESSION_EXPIRED, re-sends an unanswered registration under the same id, and refuses a
// registration reply that carries no session id or a client id in the sessions' range.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import { PaxosClient } from './client.js';
import { NA_ERR_PAXOS_BAD_REGISTRATION } from './errors.js';
import { SESSION_BIT, SESSION_FIRST, SESSION_REGISTER, sessionIdOf } from './log.js';
import { MemoryTransport } from './testing/memory-transport.js';
import { PEERS, turn } from './testing/steps-harness.js';

const { PaxosType, ReplyStatus } = paxos;
const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v, 0);
  return b;
};

async function setup(t: { onTestFinished(fn: () => unknown): void }, clientId?: bigint) {
  const transport = new MemoryTransport({ address: '127.0.0.1', port: 9100 });
  const client = await PaxosClient.create({ replicas: PEERS, transport, retryMs: 40, timeoutMs: 2000, ...(clientId === undefined ? {} : { clientId }) });
  t.onTestFinished(() => client.close());
  /** The requests the client sent since the last call: [client id, request id, op]. */
  const sent = (): Array<[bigint, bigint, string]> =>
    transport.take().flatMap((s) => (s.message.type === PaxosType.Request ? [[s.message.clientId, s.message.requestId, s.message.payload.toString()] as [bigint, bigint, string]] : []));
  const reply = (clientId: bigint, requestId: bigint, status: number, result: Buffer): void =>
    transport.deliver(paxos.encodeReply(0, 0, clientId, requestId, status, result), PEERS[0]!);
  return { client, sent, reply };
}

test('PaxosClient registers first, then sends under the session; after SESSION_EXPIRED it registers under a new id', async (t) => {
  const { client, sent, reply } = await setup(t, 42n);
  const first = client.invoke(Buffer.from('a'));
  await turn();
  assert.deepEqual(sent(), [[42n, SESSION_REGISTER, '']]);
  const session = sessionIdOf(3n, 0);
  reply(42n, SESSION_REGISTER, ReplyStatus.Ok, u64(session));
  await turn();
  assert.deepEqual(sent(), [[session, SESSION_FIRST, 'a']]);
  assert.equal(client.clientId, session);
  reply(session, SESSION_FIRST, ReplyStatus.Ok, Buffer.from('A'));
  assert.equal((await first).toString(), 'A');

  const second = client.invoke(Buffer.from('b'));
  await turn();
  assert.deepEqual(sent(), [[session, SESSION_FIRST + 1n, 'b']], 'no registration while the session lives');
  reply(session, SESSION_FIRST + 1n, ReplyStatus.SessionExpired, Buffer.alloc(0));
  await assert.rejects(second, (err: unknown) => (err as { code?: string }).code === 'NA_ERR_PAXOS_SESSION_EXPIRED');

  const third = client.invoke(Buffer.from('c'));
  await turn();
  const [registration, ...rest] = sent();
  assert.equal(rest.length, 0);
  const [id, requestId] = registration!;
  assert.equal(requestId, SESSION_REGISTER);
  assert.ok(id !== 42n && id < SESSION_BIT, 'a new 63-bit id: 42\'s row would answer with the old session');
  const next = sessionIdOf(9n, 2);
  reply(id, SESSION_REGISTER, ReplyStatus.Ok, u64(next));
  await turn();
  assert.deepEqual(sent(), [[next, SESSION_FIRST, 'c']]);
  reply(next, SESSION_FIRST, ReplyStatus.Ok, Buffer.from('C'));
  assert.equal((await third).toString(), 'C');
});

test('PaxosClient: an unanswered registration is re-sent under the same id; a reply without a session id is refused', async (t) => {
  const { client, sent, reply } = await setup(t, 7n);
  const call = client.invoke(Buffer.from('a'));
  // sent at 0, re-sent to the leader after 40 ms, to every replica 80 ms later (the back-off)
  await new Promise((r) => setTimeout(r, 200));
  const sends = sent();
  assert.ok(sends.length >= 2 + PEERS.length, `re-sent to every replica: ${sends.length}`);
  assert.ok(sends.every(([id, requestId]) => id === 7n && requestId === SESSION_REGISTER));
  reply(7n, SESSION_REGISTER, ReplyStatus.Ok, u64(5n)); // not a session id (top bit clear)
  await assert.rejects(call, (err: unknown) => NA_ERR_PAXOS_BAD_REGISTRATION.is(err) && err.message.includes('answered 0x0000000000000005, not a session id'));
  await assert.rejects(PaxosClient.create({ replicas: PEERS, transport: new MemoryTransport({ address: '127.0.0.1', port: 9101 }), clientId: SESSION_BIT }), /clientId: expected a bigint from 0 to 2\^63 - 1/);
});
