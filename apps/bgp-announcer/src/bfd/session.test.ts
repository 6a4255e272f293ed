import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { seededRandom } from '@netaccel/protocol';
import { FakeClock } from '../testing/fake-clock.js';
import type { BfdStateName } from './packet.js';
import { decodeControl, encodeControl } from './packet.js';
import { BfdSession, SLOW_TX_US } from './session.js';

/** Two sessions wired back to back on a fake clock; `cut` drops what `a` sends or receives. */
function pair(txMs = 100, mult = 3) {
  const clock = new FakeClock();
  const random = seededRandom(3);
  const log: { who: string; prev: BfdStateName; next: BfdStateName; diag: string; at: number }[] = [];
  const link = { cut: false, sentByA: [] as Buffer[] };
  const ends: { a?: BfdSession; b?: BfdSession } = {};
  const deliver = (to: () => BfdSession) => (pkt: Buffer) => {
    const p = decodeControl(pkt);
    assert.ok(typeof p !== 'string', String(p));
    if (!link.cut) to().receive(p);
  };
  const opts = (d: number) => ({ desiredMinTx: txMs * 1000, requiredMinRx: txMs * 1000, detectMult: mult, localDiscriminator: d });
  const a = new BfdSession(opts(11), clock, random, (p) => {
    link.sentByA.push(p);
    deliver(() => ends.b!)(p);
  }, (prev, next, diag) => log.push({ who: 'a', prev, next, diag, at: clock.now() }));
  const b = new BfdSession(opts(22), clock, random, deliver(() => ends.a!), (prev, next, diag) => log.push({ who: 'b', prev, next, diag, at: clock.now() }));
  ends.a = a;
  ends.b = b;
  a.start();
  b.start();
  return { clock, a, b, log, link };
}

describe('BFD session (RFC 5880 §6.8.6)', () => {
  test('Down → Init → Up on both sides, then the fast interval after a Poll sequence', () => {
    const { clock, a, b, log, link } = pair();
    assert.equal(a.txIntervalUs, SLOW_TX_US, 'one packet a second while not Up');
    clock.advance(3000);
    assert.equal(a.state, 'up');
    assert.equal(b.state, 'up');
    assert.deepEqual(log.filter((l) => l.who === 'a').map((l) => l.next), ['init', 'up']);
    const sent = link.sentByA.length;
    clock.advance(1000);
    const rate = link.sentByA.length - sent;
    assert.ok(rate >= 9 && rate <= 14, `about 10 packets/s once Up, got ${rate}`);
    const last = decodeControl(link.sentByA[link.sentByA.length - 1]!);
    assert.ok(typeof last !== 'string' && last.desiredMinTx === 100_000 && !last.poll, 'poll sequence finished');
  });

  test('silence is detected within detect multiplier × interval (control detection time expired)', () => {
    const { clock, a, b, log, link } = pair();
    clock.advance(3000);
    assert.equal(b.state, 'up');
    link.cut = true;
    const t0 = clock.now();
    clock.advance(1000);
    const down = log.find((l) => l.who === 'b' && l.next === 'down')!;
    assert.ok(down.at - t0 <= 300, `down after ${down.at - t0} ms`);
    assert.equal(down.diag, 'control detection time expired');
    assert.equal(a.state, 'down');
  });

  test('AdminDown is signalled: the peer goes Down with "neighbor signaled session down"', () => {
    const { clock, a, b, log } = pair();
    clock.advance(3000);
    a.adminDown();
    assert.equal(b.state, 'down');
    assert.equal(log.find((l) => l.who === 'b' && l.next === 'down')!.diag, 'neighbor signaled session down');
    clock.advance(5000);
    assert.equal(b.state, 'down', 'stays down while the peer is AdminDown');
  });

  test('the session comes back after the path returns', () => {
    const { clock, a, b, link } = pair();
    clock.advance(3000);
    link.cut = true;
    clock.advance(2000);
    link.cut = false;
    clock.advance(4000);
    assert.equal(a.state, 'up');
    assert.equal(b.state, 'up');
  });
});

describe('BFD Control packets (RFC 5880 §4.1)', () => {
  const base = { diag: 0, state: 'up' as const, poll: false, final: true, cpi: true, demand: false, detectMult: 3, myDiscriminator: 7, yourDiscriminator: 9, desiredMinTx: 100_000, requiredMinRx: 100_000, requiredMinEchoRx: 0 };

  test('round trip', () => {
    assert.deepEqual(decodeControl(encodeControl(base)), base);
    assert.equal(encodeControl(base).length, 24);
  });

  test('reception checks discard bad packets', () => {
    const b = encodeControl(base);
    const bad = (mutate: (x: Buffer) => void): string | object => {
      const x = Buffer.from(b);
      mutate(x);
      return decodeControl(x);
    };
    assert.match(String(bad((x) => (x[0] = (2 << 5) | 0))), /version 2/);
    assert.match(String(bad((x) => (x[2] = 0))), /detect multiplier is 0/);
    assert.match(String(bad((x) => x.writeUInt32BE(0, 4))), /my discriminator is 0/);
    assert.match(String(bad((x) => (x[1] = x[1]! | 0x01))), /multipoint/);
    assert.match(String(bad((x) => (x[1] = x[1]! | 0x04))), /length field 24 is too small/);
    const auth = Buffer.concat([b, Buffer.from([1, 2])]);
    auth[1] = auth[1]! | 0x04;
    auth[3] = 26;
    assert.match(String(decodeControl(auth)), /authentication is not configured/);
    assert.match(String(decodeControl(b.subarray(0, 20))), /shorter than 24/);
  });
});
