import { test } from 'vitest';
import assert from 'node:assert/strict';
import { StreamQueue } from './stream-queue.js';
import { NA_ERR_RPC_INVALID_OPTIONS, NA_ERR_RPC_STREAM_OVERFLOW } from './errors.js';

async function drain<T>(q: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of q) out.push(x);
  return out;
}

test('items pushed before and while reading arrive in order; end() ends after them', async () => {
  const q = new StreamQueue<number>();
  q.push(1);
  q.push(2);
  const reading = drain(q);
  await new Promise((r) => setImmediate(r));
  q.push(3);
  q.end();
  q.push(4); // after end: ignored
  assert.deepEqual(await reading, [1, 2, 3]);
  assert.equal(q.closed, true);
});

test('the signal ends the queue; onClose runs once', async () => {
  const ac = new AbortController();
  let closes = 0;
  const q = new StreamQueue<string>({ signal: ac.signal, onClose: () => closes++ });
  q.push('a');
  const reading = drain(q);
  ac.abort();
  assert.deepEqual(await reading, ['a']);
  q.end();
  assert.equal(closes, 1);
  const pre = new StreamQueue<string>({ signal: AbortSignal.abort() });
  assert.equal(pre.closed, true);
});

test('a slow reader beyond maxBuffered fails the stream with NA_ERR_RPC_STREAM_OVERFLOW', async () => {
  const q = new StreamQueue<number>({ maxBuffered: 3 });
  for (let i = 0; i < 5; i++) q.push(i);
  assert.equal(q.closed, true);
  await assert.rejects(drain(q), (e: unknown) => NA_ERR_RPC_STREAM_OVERFLOW.is(e) && e.kind === 'resource-exhausted');
});

test('fail() and a reader that stops early both close the queue; one reader only', async () => {
  const q = new StreamQueue<number>();
  q.push(1);
  q.fail(new Error('source died'));
  await assert.rejects(drain(q), /source died/);

  let closed = false;
  const q2 = new StreamQueue<number>({ onClose: () => (closed = true) });
  q2.push(1);
  q2.push(2);
  for await (const _ of q2) break;
  assert.equal(closed, true);
  await assert.rejects(drain(q2), (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e));
  assert.throws(() => new StreamQueue({ maxBuffered: 0 }), (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e));
});
