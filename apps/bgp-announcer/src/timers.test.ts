import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Timer, realClock } from './timers.js';

function blockFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* the event loop is busy, as during a large reload */
  }
}

// A liveness timer restarted by every message read from a socket. The process is blocked past
// the timer's deadline while a message waits unread in the socket.
async function expiredAfterStall(drainInput: boolean): Promise<boolean> {
  const server = createServer((s) => {
    setTimeout(() => s.write('keepalive'), 50); // arrives while the client is blocked
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', r));
  let expired = false;
  const timer = new Timer(realClock(), () => (expired = true), { drainInput });
  client.on('data', () => timer.start(200));
  timer.start(100);
  blockFor(300); // the message arrives at 50 ms; the deadline passes at 100 ms
  await new Promise((r) => setTimeout(r, 50));
  timer.stop();
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return expired;
}

test('a plain timer fires after a stall although a message that restarts it is waiting', async () => {
  assert.equal(await expiredAfterStall(false), true);
});

test('with drainInput the waiting message is read first and the expiry is called off', async () => {
  assert.equal(await expiredAfterStall(true), false);
});

test('with drainInput a timer that really expires still fires', async () => {
  let fired = 0;
  const t = new Timer(realClock(), () => fired++, { drainInput: true });
  t.start(10);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(fired, 1);
});

test('a stop or restart while the expiry waits for pending input calls it off', () => {
  const base = realClock();
  const queued: (() => void)[] = [];
  let due: (() => void) | undefined;
  const clock = { ...base, setTimeout: (fn: () => void) => ((due = fn), { id: 1 }), clearTimeout: () => (due = undefined), afterPendingInput: (fn: () => void) => queued.push(fn) };
  let fired = 0;
  const t = new Timer(clock, () => fired++, { drainInput: true });
  t.start(10);
  due!(); // the deadline passes
  t.stop(); // pending input turned out to stop it
  queued.shift()!();
  assert.equal(fired, 0);
  t.start(10);
  due!();
  t.start(10); // a message restarted it
  queued.shift()!();
  assert.equal(fired, 0);
  due!();
  queued.shift()!();
  assert.equal(fired, 1, 'an expiry nothing called off fires');
});
