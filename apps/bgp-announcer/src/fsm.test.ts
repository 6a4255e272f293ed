import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { bgp, seededRandom } from '@netaccel/protocol';
import { Harness, flush } from './testing/harness.js';
import { jitter } from './timers.js';

describe('FSM: active peer (RFC 4271 §8.2.2)', () => {
  test('Idle → Connect → OpenSent → OpenConfirm → Established, negotiated hold time and keepalive', async () => {
    const h = new Harness({ holdTime: 90 });
    h.peer.start();
    assert.equal(h.peer.state, 'connect');
    assert.equal(h.dialer.attempts.length, 1);
    const remote = await h.connectOut();
    assert.equal(h.peer.state, 'open-sent');
    const ours = remote.last('open')!;
    assert.equal(ours.holdTime, 90);
    assert.equal(bgp.openAsn(ours), 65001);
    remote.send(remote.open({ holdTime: 9 }));
    await flush();
    assert.equal(h.peer.state, 'open-confirm');
    assert.deepEqual(remote.types(), ['open', 'keepalive']);
    remote.send(bgp.keepalive());
    await flush();
    assert.equal(h.peer.state, 'established');
    assert.deepEqual(h.states(), ['connect', 'open-sent', 'open-confirm', 'established']);
    assert.equal(h.peer.established!.holdTime, 9, 'hold = min(90, 9)');
    assert.deepEqual(h.events, ['established']);
  });

  test('KEEPALIVEs every hold/3 (jittered 0.75..1), and the session stays up while the peer sends them', async () => {
    const h = new Harness();
    const remote = await h.establish({ holdTime: 9 });
    const before = remote.types().filter((t) => t === 'keepalive').length;
    for (let i = 0; i < 20; i++) {
      await h.advance(500);
      if (i % 4 === 3) remote.send(bgp.keepalive());
      await flush();
    }
    const sent = remote.types().filter((t) => t === 'keepalive').length - before;
    // 10 s at one per 2.25..3 s
    assert.ok(sent >= 3 && sent <= 5, `keepalives sent in 10 s: ${sent}`);
    assert.equal(h.peer.state, 'established');
  });

  test('hold time 0: no KEEPALIVEs and no hold timer', async () => {
    const h = new Harness({ holdTime: 0 });
    const remote = await h.establish({ holdTime: 0 });
    const before = remote.received.length;
    await h.advance(600_000);
    assert.equal(remote.received.length, before);
    assert.equal(h.peer.state, 'established');
  });

  test('HoldTimer expiry: NOTIFICATION 4/0, session down, AutomaticStart after the IdleHoldTimer', async () => {
    const h = new Harness({ holdTime: 9, idleHoldMs: 500 });
    const remote = await h.establish({ holdTime: 9 });
    await h.advance(9000);
    const n = remote.last('notification')!;
    assert.deepEqual([n.code, n.subcode], [4, 0]);
    assert.equal(h.peer.state, 'idle');
    assert.deepEqual(h.events, ['established', 'down:NA_ERR_BGPD_HOLD_TIMER_EXPIRED']);
    assert.equal(h.peer.flaps, 1);
    assert.equal(h.dialer.attempts.length, 1);
    await h.advance(500);
    assert.equal(h.peer.state, 'connect');
    assert.equal(h.dialer.attempts.length, 2);
  });

  test('OpenSent waits 4 minutes for the OPEN, then HoldTimer expiry', async () => {
    const h = new Harness();
    h.peer.start();
    const remote = await h.connectOut();
    await h.advance(239_000);
    assert.equal(h.peer.state, 'open-sent');
    await h.advance(1000);
    assert.deepEqual([remote.last('notification')!.code, remote.last('notification')!.subcode], [4, 0]);
    assert.equal(h.peer.state, 'idle');
  });

  test('TcpConnectionFails in Connect → Active; ConnectRetryTimer (jittered) → Connect and a new attempt', async () => {
    const h = new Harness({ connectRetryMs: 1000 });
    h.peer.start();
    h.dialer.last!.fail(new Error('ECONNREFUSED'));
    assert.equal(h.peer.state, 'active');
    assert.equal(h.peer.lastError?.code, 'NA_ERR_BGPD_CONNECT_FAILED');
    await h.advance(740);
    assert.equal(h.dialer.attempts.length, 1, 'not before 0.75 × ConnectRetryTime');
    await h.advance(260);
    assert.equal(h.peer.state, 'connect');
    assert.equal(h.dialer.attempts.length, 2);
  });

  test('ConnectRetryTimer expiry in Connect abandons the attempt and dials again', async () => {
    const h = new Harness({ connectRetryMs: 1000 });
    h.peer.start();
    await h.advance(1000);
    assert.equal(h.dialer.attempts[0]!.cancelled, true);
    assert.equal(h.dialer.attempts.length, 2);
    assert.equal(h.peer.state, 'connect');
  });

  test('connection closed in OpenSent → Active (TcpConnectionFails)', async () => {
    const h = new Harness();
    h.peer.start();
    const remote = await h.connectOut();
    remote.conn.destroy();
    await flush();
    assert.equal(h.peer.state, 'active');
  });

  test('ManualStop: Cease / Administrative Shutdown with a communication, Idle, no restart', async () => {
    const h = new Harness();
    const remote = await h.establish();
    h.peer.stop('maintenance');
    await flush();
    const n = remote.last('notification')!;
    assert.deepEqual([n.code, n.subcode], [6, 2]);
    assert.equal(bgp.shutdownCommunication(n), 'maintenance');
    assert.equal(h.peer.state, 'idle');
    await h.advance(60_000);
    assert.equal(h.peer.state, 'idle');
    assert.equal(h.dialer.attempts.length, 1);
  });

  test('NOTIFICATION received → Idle, last error names it, not answered', async () => {
    const h = new Harness();
    const remote = await h.establish();
    remote.send(bgp.cease(2, 'bye'));
    await flush();
    assert.equal(h.peer.state, 'idle');
    assert.equal(h.peer.lastError?.code, 'NA_ERR_BGPD_NOTIFICATION_RECEIVED');
    assert.match(h.peer.lastError!.message, /6\/2 \(bye\)/);
    assert.equal(remote.last('notification'), undefined);
  });

  test('UPDATE restarts the HoldTimer and reaches the handler; treat-as-withdraw keeps the session', async () => {
    const updates: bgp.UpdateDecodeResult[] = [];
    const h = new Harness({}, { update: (_p, _s, u) => updates.push(u) });
    const remote = await h.establish({ holdTime: 9 });
    await h.advance(8000);
    for (const u of bgp.update({ announce: [{ prefix: '192.0.2.0/24', nextHop: '10.0.0.1', attrs: { asPath: bgp.asSequence(65000) } }] }, remote.ctx)) remote.send(u);
    await flush();
    await h.advance(8000);
    assert.equal(h.peer.state, 'established', 'the UPDATE restarted the hold timer');
    // an UPDATE whose ORIGIN has an undefined value: treat-as-withdraw (RFC 7606 §7.1)
    const good = bgp.encodeMessage(bgp.update({ announce: [{ prefix: '198.51.100.0/24', nextHop: '10.0.0.1', attrs: { asPath: bgp.asSequence(65000) } }] }, remote.ctx)[0]!, remote.ctx);
    const bad = Buffer.from(good);
    const originAt = bad.indexOf(Buffer.from([0x40, 0x01, 0x01]));
    bad[originAt + 3] = 7;
    remote.raw(bad);
    await flush();
    assert.equal(h.peer.state, 'established');
    assert.equal(updates.length, 2);
    assert.equal(updates[1]!.kind, 'treat-as-withdraw');
  });
});

describe('FSM: malformed input gets the NOTIFICATION the codec prescribes', () => {
  const cases: { name: string; open?: boolean; bytes: (ctx: bgp.SessionContext) => Buffer; code: [number, number]; err?: string }[] = [
    {
      name: 'bad marker (1/1)',
      bytes: () => {
        const b = bgp.encodeMessage(bgp.keepalive());
        b[3] = 0;
        return b;
      },
      code: [1, 1],
    },
    {
      name: 'bad length (1/2)',
      bytes: () => {
        const b = bgp.encodeMessage(bgp.keepalive());
        b.writeUInt16BE(18, 16);
        return b;
      },
      code: [1, 2],
    },
    {
      name: 'unsupported version (2/1)',
      open: true,
      bytes: () => {
        const b = bgp.encodeMessage(bgp.open({ asn: 65000, routerId: '10.0.0.1', holdTime: 9 }));
        b[19] = 3;
        return b;
      },
      code: [2, 1],
    },
    {
      name: 'hold time 2 (2/6)',
      open: true,
      bytes: () => {
        const b = bgp.encodeMessage(bgp.open({ asn: 65000, routerId: '10.0.0.1', holdTime: 9 }));
        b.writeUInt16BE(2, 22);
        return b;
      },
      code: [2, 6],
    },
    { name: 'wrong peer AS (2/2)', open: true, bytes: () => bgp.encodeMessage(bgp.open({ asn: 65099, routerId: '10.0.0.1', holdTime: 9 })), code: [2, 2] },
    { name: 'UPDATE in OpenSent (5/1)', open: true, bytes: () => bgp.encodeMessage(bgp.endOfRib('ipv4-unicast')), code: [5, 1], err: 'NA_ERR_BGPD_FSM_UNEXPECTED_MESSAGE' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const h = new Harness();
      h.peer.start();
      const remote = await h.connectOut();
      if (c.open !== true) {
        const o = remote.open();
        remote.send(o);
        await flush();
      }
      remote.raw(c.bytes(remote.ctx));
      await flush();
      const n = remote.last('notification');
      assert.ok(n, `a NOTIFICATION was sent; got ${remote.types().join(',')}`);
      assert.deepEqual([n.code, n.subcode], c.code);
      assert.equal(h.peer.state, 'idle');
      assert.equal(h.peer.lastError?.code, c.err ?? 'NA_ERR_BGPD_NOTIFICATION_SENT');
    });
  }

  test('malformed AS_PATH in an established session is treat-as-withdraw, not a reset', async () => {
    const got: string[] = [];
    const h = new Harness({}, { update: (_p, _s, u) => got.push(u.kind) });
    const remote = await h.establish();
    const b = bgp.encodeMessage(bgp.update({ announce: [{ prefix: '192.0.2.0/24', nextHop: '10.0.0.1', attrs: { asPath: bgp.asSequence(65000) } }] }, remote.ctx)[0]!, remote.ctx);
    const at = b.indexOf(Buffer.from([0x40, 0x02]));
    b[at + 3] = 9; // segment type 9 is undefined
    remote.raw(b);
    await flush();
    assert.deepEqual(got, ['treat-as-withdraw']);
    assert.equal(h.peer.state, 'established');
  });
});

describe('FSM: passive peers and collisions (§6.8)', () => {
  test('a passive peer never dials and accepts the incoming connection', async () => {
    const h = new Harness({ passive: true });
    h.peer.start();
    assert.equal(h.peer.state, 'active');
    await h.advance(10_000);
    assert.equal(h.dialer.attempts.length, 0);
    const { remote, accepted } = await h.connectIn();
    assert.equal(accepted, true);
    assert.equal(h.peer.state, 'open-sent');
    remote.send(remote.open());
    await flush();
    remote.send(bgp.keepalive());
    await flush();
    assert.equal(h.peer.state, 'established');
  });

  test('an unstarted peer refuses connections', async () => {
    const h = new Harness();
    const { accepted } = await h.connectIn();
    assert.equal(accepted, false);
    assert.equal(h.peer.state, 'idle');
  });

  for (const [localId, survivor] of [
    ['10.0.0.2', 'out'],
    ['10.0.0.0', 'in'],
  ] as const) {
    test(`collision with local id ${localId} vs remote 10.0.0.1: the ${survivor === 'out' ? 'outgoing' : 'incoming'} connection survives`, async () => {
      const h = new Harness({ routerId: localId });
      h.peer.start();
      const out = await h.connectOut();
      const { remote: inc } = await h.connectIn();
      assert.equal(h.peer.connections, 2);
      // OPEN on the outgoing one first: OpenConfirm; then the OPEN on the incoming one collides
      out.send(out.open());
      await flush();
      assert.equal(h.peer.state, 'open-confirm');
      inc.send(inc.open());
      await flush();
      assert.equal(h.peer.connections, 1);
      const loser = survivor === 'out' ? inc : out;
      const winner = survivor === 'out' ? out : inc;
      const n = loser.last('notification')!;
      assert.deepEqual([n.code, n.subcode], [6, 7]);
      assert.equal(winner.last('notification'), undefined);
      winner.send(bgp.keepalive());
      await flush();
      assert.equal(h.peer.state, 'established');
      assert.equal(h.peer.established!.direction, survivor);
    });
  }

  test('a new connection while Established is closed (no graceful restart)', async () => {
    const h = new Harness();
    await h.establish();
    const { accepted } = await h.connectIn();
    assert.equal(accepted, false);
    assert.equal(h.peer.state, 'established');
  });

  test('with graceful restart negotiated, a new connection replaces the established session (RFC 4724 §4.2)', async () => {
    const h = new Harness({ gracefulRestart: { restartTime: 120, restarted: true } });
    const remote = await h.establish({ gracefulRestart: { restartTime: 120 } });
    const ours = remote.last('open')!;
    const gr = ours.capabilities.find((c) => c.type === 'graceful-restart');
    assert.ok(gr && gr.type === 'graceful-restart');
    assert.equal(gr.restarting, true, 'R bit on the first OPEN after start');
    assert.equal(gr.restartTime, 120);
    assert.equal(gr.families[0]!.forwardingPreserved, true);
    const { accepted, remote: again } = await h.connectIn();
    assert.equal(accepted, true);
    assert.equal(h.peer.state, 'open-sent');
    const gr2 = again.last('open')!.capabilities.find((c) => c.type === 'graceful-restart');
    assert.ok(gr2 && gr2.type === 'graceful-restart' && gr2.restarting === false, 'no R bit once a session was established');
  });
});

describe('timers', () => {
  test('jitter stays within 0.75..1.0 of the value (RFC 4271 §10)', () => {
    const r = seededRandom(7);
    for (let i = 0; i < 1000; i++) {
      const v = jitter(30_000, r);
      assert.ok(v >= 22_500 && v <= 30_000, String(v));
    }
  });
});
