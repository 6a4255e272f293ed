// The user-space reference node (not the XDP node) on bad input: malformed datagrams, chain
// messages of another epoch and a forged ACK from a non-neighbour are counted and never answered.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'vitest';
import { craq } from '@netaccel/protocol';
import { ReferenceChain } from './reference-chain.js';

test('reference node: malformed, stale-epoch and forged messages are dropped, counted, unanswered', async (t) => {
  const chain = await ReferenceChain.start(2);
  const sock = createSocket('udp4');
  t.onTestFinished(async () => {
    sock.close();
    await chain.close();
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const answers: Buffer[] = [];
  sock.on('message', (b) => answers.push(b));
  const { keyId, keyCheck } = await chain.place('/ncc/bad', 'v');
  const [head, tail] = chain.nodes as [typeof chain.nodes[0], typeof chain.nodes[0]];
  const send = (to: typeof head, b: Uint8Array): void => void sock.send(b, to.endpoint.port, to.endpoint.address);
  const client = { family: 4 as const, address: '127.0.0.1', port: 9, mac: '00:00:00:00:00:00' };

  send(head, Buffer.from('not craq at all'));
  const read = craq.encodeCraq(craq.craqReadRequest({ key: '/ncc/bad', reqId: 7n }));
  send(head, read.subarray(0, 20)); // truncated
  send(tail, craq.encodeCraq({ op: craq.CraqOp.PROPAGATE, keyId, keyCheck, epoch: 99, version: 5n, value: Buffer.from('x'), client }));
  send(head, craq.encodeCraq({ op: craq.CraqOp.ACK, keyId, keyCheck, epoch: chain.epoch, version: 9n, client })); // not from the successor
  send(head, read); // a good read, answered: proves the socket works and orders the checks after the rest
  for (let i = 0; i < 100 && answers.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(answers.length, 1, 'only the good read is answered');
  const reply = craq.decodeCraq(answers[0]!);
  assert.equal(reply.reqId, 7n);
  assert.equal(Buffer.from(reply.value).toString(), 'v');
  assert.deepEqual(head.drops, { malformed: 2, staleEpoch: 0, dirtyFull: 0, notNeighbour: 1 });
  assert.deepEqual(tail.drops, { malformed: 0, staleEpoch: 1, dirtyFull: 0, notNeighbour: 0 });
  assert.equal((await head.get(keyId))?.version, 1n, 'the forged ACK changed nothing');
  assert.equal((await tail.get(keyId))?.version, 1n, 'the stale PROPAGATE changed nothing');
});

test('reference node: a VERSION_REPLY for a dirty version marks it clean at the asker (a lost ACK repaired, as in bpf/craq)', async (t) => {
  const chain = await ReferenceChain.start(2);
  const wire = createSocket('udp4'); // stands between head and tail: relays PROPAGATE, loses the ACK
  const client = createSocket('udp4');
  t.onTestFinished(async () => {
    wire.close();
    client.close();
    await chain.close();
  });
  await new Promise<void>((r) => wire.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  const [head, tail] = chain.nodes as [typeof chain.nodes[0], typeof chain.nodes[0]];
  const w = { address: '127.0.0.1', port: wire.address().port };
  await head.configure({ epoch: 1, role: 'head', next: w, tail: tail.endpoint });
  await tail.configure({ epoch: 1, role: 'tail', prev: w, tail: tail.endpoint });
  const { keyId } = await chain.place('/ncc/ack', 'v1');
  let acksLost = 0;
  wire.on('message', (b, from) => {
    if (from.port === head.endpoint.port) wire.send(b, tail.endpoint.port, '127.0.0.1');
    else acksLost++;
  });
  const replies: craq.CraqMessage[] = [];
  client.on('message', (b) => replies.push(craq.decodeCraq(b)));
  client.send(craq.encodeCraq(craq.craqWriteRequest({ key: '/ncc/ack', reqId: 1n, value: Buffer.from('v2') })), head.endpoint.port, '127.0.0.1');
  for (let i = 0; i < 100 && (replies.length === 0 || acksLost === 0); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(replies[0]?.status, craq.CraqStatus.OK, 'the tail committed and answered');
  assert.equal(acksLost, 1);
  assert.equal((await head.get(keyId))?.dirty, 1, 'the head never got the ACK');
  client.send(craq.encodeCraq(craq.craqReadRequest({ key: '/ncc/ack', reqId: 2n })), head.endpoint.port, '127.0.0.1');
  for (let i = 0; i < 100 && replies.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(Buffer.from(replies[1]!.value).toString(), 'v2');
  assert.equal(replies[1]!.version, 2n);
  const h = await head.get(keyId);
  assert.deepEqual([h?.version, h?.dirty], [2n, 0], 'clean after the version reply');
});
