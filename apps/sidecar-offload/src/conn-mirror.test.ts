import assert from 'node:assert/strict';
import { test } from 'vitest';
import { SIDECAR_CONN_F, encodeSockKey } from '@netaccel/bpf-programs/sidecar';
import type { SockKey } from '@netaccel/bpf-programs/sidecar';
import { BatchedReads, ConnMirror } from './conn-mirror.js';

/** A conns value (the kernel's layout) with `flags` and `userFrom` set, the rest zero. */
function connValue(flags: number, userFrom = 0n): Buffer {
  const b = Buffer.alloc(80);
  b.writeUInt32LE(flags, 0);
  b.writeBigUInt64LE(userFrom, 64);
  return b;
}

const key = (port: number): SockKey => ({ localAddress: '127.0.0.1', localPort: port, remoteAddress: '127.0.0.1', remotePort: 8000 });

/** A map of the kernel's, in memory, counting the calls made to it. */
function table() {
  const entries = new Map<string, Buffer>();
  const calls: number[] = [];
  const readMany = async (keys: Buffer[]) => {
    calls.push(keys.length);
    return keys.map((k) => entries.get(k.toString('hex')));
  };
  return { entries, calls, readMany };
}

test('reads asked in one turn of the event loop go out as one batch; each is answered with a value read after it was asked', async () => {
  const t = table();
  const r = new BatchedReads(t.readMany);
  const keys = Array.from({ length: 50 }, (_, i) => encodeSockKey(key(1000 + i)));
  keys.forEach((k, i) => t.entries.set(k.toString('hex'), Buffer.from([i])));
  await Promise.all([...keys, ...keys].map((k) => r.ask(k)));
  assert.deepEqual(t.calls, [50], 'one call for 100 asks of 50 keys');
  assert.deepEqual([r.batches, r.keysRead], [1, 50]);
  assert.deepEqual(r.last.get(keys[7]!.toString('hex')), Buffer.from([7]));

  t.entries.set(keys[7]!.toString('hex'), Buffer.from([70]));
  t.entries.delete(keys[8]!.toString('hex'));
  const asked = r.ask(keys[7]!);
  await r.ask(keys[8]!);
  await asked;
  assert.deepEqual(t.calls, [50, 2]);
  assert.deepEqual(r.last.get(keys[7]!.toString('hex')), Buffer.from([70]), 'the change is seen');
  assert.equal(r.last.has(keys[8]!.toString('hex')), false, 'an absent key is not kept');
});

test('a failed batch rejects every read of it; the next batch is asked anew', async () => {
  let fail = true;
  const r = new BatchedReads(async (keys) => {
    if (fail) throw new Error('loader unreachable');
    return keys.map(() => Buffer.from([1]));
  });
  const k = encodeSockKey(key(1));
  await assert.rejects(Promise.all([r.ask(k), r.ask(k)]), /loader unreachable/);
  fail = false;
  await r.ask(k);
  assert.deepEqual(r.last.get(k.toString('hex')), Buffer.from([1]));
});

test('ConnMirror: conn() answers the last read (decoded), fresh() reads again, refresh() reads every followed socket in one batch and forgets closed ones', async () => {
  const conns = table();
  const m = new ConnMirror(conns.readMany, async (keys) => keys.map(() => undefined));
  const [a, b, c] = [key(1), key(2), key(3)];
  for (const k of [a, b, c]) m.follow(k);
  assert.equal(m.conn(a), undefined, 'nothing read yet');
  conns.entries.set(encodeSockKey(a).toString('hex'), connValue(0));
  conns.entries.set(encodeSockKey(b).toString('hex'), connValue(SIDECAR_CONN_F.USER, 240n));
  await m.refresh();
  assert.deepEqual(conns.calls, [3]);
  assert.equal(m.conn(a)!.flags & SIDECAR_CONN_F.USER, 0);
  assert.deepEqual([m.conn(b)!.flags & SIDECAR_CONN_F.USER, m.conn(b)!.userFrom], [SIDECAR_CONN_F.USER, 240n]);
  assert.equal(m.followedCount, 2, 'the socket the kernel does not have is forgotten');

  conns.entries.set(encodeSockKey(a).toString('hex'), connValue(SIDECAR_CONN_F.USER, 9n));
  assert.equal(m.conn(a)!.flags & SIDECAR_CONN_F.USER, 0, 'the mirror answers the last read until read again');
  await m.fresh(a);
  assert.equal(m.conn(a)!.userFrom, 9n);
  m.forget(b);
  assert.equal(m.conn(b), undefined);
  assert.equal(m.followedCount, 1);
});
