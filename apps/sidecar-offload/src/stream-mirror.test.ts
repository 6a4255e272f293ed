import assert from 'node:assert/strict';
import { test } from 'vitest';
import { SIDECAR_LAYOUTS, encodeStreamKey } from '@netaccel/bpf-programs/sidecar';
import type { SockKey } from '@netaccel/bpf-programs/sidecar';
import { StreamMirror } from './stream-mirror.js';

const client: SockKey = { localAddress: '127.0.0.1', localPort: 40000, remoteAddress: '127.0.0.1', remotePort: 8000 };

/** A streams value (the kernel's layout): method, and grpc-timeout's plain bytes when given. */
function streamValue(method: number, timeout?: string): Buffer {
  const b = Buffer.alloc(SIDECAR_LAYOUTS.stream.size);
  b.writeUInt32LE(method, 8);
  if (timeout !== undefined) {
    b.writeUInt32LE(2, 12);
    b.write(timeout, 16, 'latin1');
    b.writeUInt32LE(timeout.length, 28);
  }
  return b;
}

/** The kernel's streams map in memory, counting the batches read and the keys deleted. */
function table(deletes = true) {
  const entries = new Map<string, Buffer>();
  const batches: number[] = [];
  const removed: string[] = [];
  const mirror = new StreamMirror(
    async (keys) => {
      batches.push(keys.length);
      return keys.map((k) => entries.get(k.toString('hex')));
    },
    async (key) => {
      removed.push(key.toString('hex'));
      if (deletes) entries.delete(key.toString('hex'));
    },
  );
  const put = (id: number, v: Buffer) => entries.set(encodeStreamKey(client, id).toString('hex'), v);
  return { entries, batches, removed, mirror, put };
}

test('calls of one turn are read in one batch; peek answers the last read, with the grpc-timeout the kernel kept', async () => {
  const t = table();
  t.put(1, streamValue(3));
  t.put(3, streamValue(4, '250m'));
  assert.equal(t.mirror.peek(client, 1), undefined, 'nothing read yet');
  await Promise.all([t.mirror.fresh(client, [1, 3, 5]), t.mirror.fresh(client, [3])]);
  assert.deepEqual(t.batches, [3], 'one batch for the turn, each key once');
  assert.equal(t.mirror.peek(client, 1)?.method, 3);
  assert.equal(t.mirror.peek(client, 3)?.timeout, '250m');
  assert.equal(t.mirror.peek(client, 5), undefined, 'not in the kernel');
  await t.mirror.fresh(client, []);
  assert.deepEqual(t.batches, [3], 'no ids, no read');
});

test('a call taken is answered once, its kernel entry deleted, and a read under way cannot bring it back', async () => {
  const t = table(false); // the delete lands after the read under way
  t.put(7, streamValue(9));
  await t.mirror.fresh(client, [7]);
  const pending = t.mirror.fresh(client, [7]); // asked before the take, answered after it
  assert.equal(t.mirror.take(client, 7)?.method, 9);
  assert.equal(t.mirror.take(client, 7), undefined, 'taken once');
  await pending;
  assert.equal(t.mirror.peek(client, 7), undefined, 'the later read does not answer it again');
  assert.deepEqual(t.removed, [encodeStreamKey(client, 7).toString('hex')], 'its entry deleted from the kernel');
});
