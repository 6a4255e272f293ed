// The UDP transport's inline send (literalLookup: no dns.lookup, no nextTick per datagram) and the
// order it requires of the leader: the new last op published to the offload before the PREPAREs
// of a flush leave.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import { KvStateMachine } from './kv.js';
import type { PublishedState, ReplicaOffload } from './offload.js';
import { PaxosReplica } from './replica.js';
import { MemoryTransport } from './testing/memory-transport.js';
import { CLIENT, PEERS, SLOW, put, turn } from './testing/steps-harness.js';
import type { Peer, Transport } from './transport.js';
import { inlineSendDefault, literalLookup, udpTransport } from './transport.js';

const { PaxosType } = paxos;

/** Sends `first` and closes the sender in the same step, then sends `sentinel` from another socket; answers what arrived. */
async function sendThenClose(inlineSend: boolean, t: { onTestFinished(fn: () => unknown): void }): Promise<string[]> {
  const rx = await udpTransport({ address: '127.0.0.1', port: 0 });
  const tx = await udpTransport({ address: '127.0.0.1', port: 0, inlineSend });
  const other = await udpTransport({ address: '127.0.0.1', port: 0 });
  t.onTestFinished(() => Promise.all([rx.close(), tx.close(), other.close()]));
  const got: string[] = [];
  const sentinel = new Promise<void>((resolve) =>
    rx.onMessage((data) => {
      got.push(data.toString());
      if (data.toString() === 'sentinel') resolve();
    }),
  );
  tx.send(Buffer.from('first'), rx.local);
  const closed = tx.close(); // before the step ends: a deferred send finds the socket closed
  await closed;
  // loopback delivers within sendmsg, so the sentinel is queued behind `first` when that was sent
  other.send(Buffer.from('sentinel'), rx.local);
  await sentinel;
  return got;
}

test('inline send: the datagram is in the kernel when send returns (a close in the same step loses nothing)', async (t) => {
  assert.deepEqual(await sendThenClose(true, t), ['first', 'sentinel']);
});

test('inlineSend off: dgram resolves through dns.lookup and sends after the step (a close in the same step loses it)', async (t) => {
  assert.deepEqual(await sendThenClose(false, t), ['sentinel']);
});

test('literalLookup answers IPv4 and IPv6 literals at once and names through dns.lookup; the env switch', async () => {
  const now: Array<[string, number]> = [];
  literalLookup('10.1.2.3', 4, (err, address, family) => now.push([`${err}|${address}`, family]));
  literalLookup('fd00::1', 6, (err, address, family) => now.push([`${err}|${address}`, family]));
  assert.deepEqual(now, [['null|10.1.2.3', 4], ['null|fd00::1', 6]]);
  let named: [string, number] | undefined;
  const resolved = new Promise<void>((resolve) =>
    literalLookup('localhost', 4, (err, address, family) => {
      named = [`${err?.code ?? null}|${address}`, family];
      resolve();
    }),
  );
  assert.equal(named, undefined, 'a name is resolved later, by dns.lookup');
  await resolved;
  assert.deepEqual(named, ['null|127.0.0.1', 4]);
  assert.equal(inlineSendDefault({}), true);
  assert.equal(inlineSendDefault({ NETACCEL_PAXOS_INLINE_SEND: '0' }), false);
  assert.equal(inlineSendDefault({ NETACCEL_PAXOS_INLINE_SEND: '1' }), true);
});

test('leader: a flush publishes the new last op before its PREPAREs leave (maxBatch 1: one publish for three ops)', async (t) => {
  const events: string[] = [];
  const memory = new MemoryTransport(PEERS[0]!);
  const transport: Transport = {
    local: memory.local,
    send(data: Buffer, to: Peer) {
      const m = paxos.decodePaxos(data);
      if (m.type === PaxosType.Prepare) events.push(`prepare ${m.op} to ${to.port}`);
      memory.send(data, to);
    },
    onMessage: (h) => memory.onMessage(h),
    close: () => memory.close(),
  };
  const offload: ReplicaOffload = {
    publish(s: PublishedState) {
      events.push(`publish ${s.status} lastOp ${s.lastOp}`);
    },
    drain: () => [],
    close: async () => undefined,
  };
  const replica = await PaxosReplica.start({ replicas: PEERS, self: 0, stateMachine: new KvStateMachine(), transport, offload, maxBatch: 1, ...SLOW });
  t.onTestFinished(() => replica.close());
  assert.deepEqual(events.splice(0), ['publish normal lastOp 0']);
  for (const [i, key] of ['a', 'b', 'c'].entries()) {
    const q = put(key, String(i), 1n, BigInt(10 + i));
    memory.deliver(paxos.encodePaxos({ type: PaxosType.Request, view: 0, ...q }), CLIENT);
  }
  await turn();
  assert.deepEqual(events, [
    'publish normal lastOp 3',
    ...[1, 2, 3].flatMap((op) => [`prepare ${op} to ${PEERS[1]!.port}`, `prepare ${op} to ${PEERS[2]!.port}`]),
  ]);
});
