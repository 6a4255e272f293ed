import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { bgp, seededRandom } from '@netaccel/protocol';
import type { PeerSettings } from './peer-config.js';
import { parseRoute } from './routes.js';
import { Speaker } from './speaker.js';
import { FakeClock } from './testing/fake-clock.js';
import { LOCAL, Remote, settings } from './testing/harness.js';
import { ScriptedDialer, flush, memoryPair } from './testing/memory-transport.js';
import { silentLogger } from '@netaccel/errors';

const quiet = silentLogger;

async function setup(over: Partial<PeerSettings> = {}, openOpts: Partial<bgp.OpenOptions> = {}) {
  const clock = new FakeClock();
  const dialer = new ScriptedDialer();
  const speaker = new Speaker({ clock, random: seededRandom(1), dialer, log: quiet });
  speaker.addPeer(settings({ families: ['ipv4-unicast', 'ipv6-unicast'], ...over }));
  speaker.start();
  const [a, b] = memoryPair(LOCAL, 40000, '10.0.0.1', 179);
  const remote = new Remote(b);
  const establish = async (): Promise<void> => {
    dialer.last!.succeed(a);
    await flush();
    const o = remote.open({ families: ['ipv4-unicast', 'ipv6-unicast'], ...openOpts });
    remote.send(o);
    await flush();
    remote.ctx = bgp.negotiate(o, remote.last('open')!);
    remote.send(bgp.keepalive());
    await flush();
  };
  const updates = (): bgp.UpdateMessage[] =>
    remote.received.filter((m): m is Extract<bgp.ReceivedMessage, { type: 'update' }> => m.type === 'update').map((u) => (u.kind === 'treat-as-withdraw' ? assert.fail('bad UPDATE') : u.update));
  return { clock, speaker, remote, establish, updates };
}

const route = (prefix: string, extra: Record<string, unknown> = {}) => parseRoute({ prefix, ...extra }, 'api');

describe('speaker: Adj-RIB-Out', () => {
  test('the initial table, then End-of-RIB per family; next hop self and our AS on eBGP', async () => {
    const s = await setup();
    s.speaker.announce(route('192.0.2.10/32', { med: 5, communities: ['65001:7'], largeCommunities: ['65001:1:2'] }));
    s.speaker.announce(route('198.51.100.0/24'));
    await s.establish();
    const u = s.updates();
    assert.equal(u.length, 4, 'one UPDATE per attribute set, then two End-of-RIB');
    const all = u.flatMap((m) => m.nlri.map((n) => ({ prefix: n.prefix, attrs: m.attributes })));
    const vip = all.find((x) => x.prefix === '192.0.2.10/32')!;
    assert.equal(vip.attrs.nextHop, LOCAL);
    assert.deepEqual(vip.attrs.asPath, bgp.asSequence(65001));
    assert.equal(vip.attrs.med, 5);
    assert.deepEqual(vip.attrs.communities, [65001 * 65536 + 7]);
    assert.deepEqual(vip.attrs.largeCommunities, [{ globalAdmin: 65001, localData1: 1, localData2: 2 }]);
    assert.equal(vip.attrs.localPref, undefined, 'no LOCAL_PREF to an external peer');
    assert.deepEqual(u.slice(-2).map((m) => bgp.isEndOfRib(m)), ['ipv4-unicast', 'ipv6-unicast']);
  });

  test('iBGP: empty AS_PATH and LOCAL_PREF 100 (or the route’s)', async () => {
    const s = await setup({ remoteAs: 65001 }, { asn: 65001 });
    await s.establish();
    s.speaker.announce(route('192.0.2.10/32'));
    s.speaker.announce(route('192.0.2.11/32', { localPref: 200 }));
    await flush();
    const msgs = s.updates().filter((m) => m.nlri.length > 0);
    const lp = Object.fromEntries(msgs.flatMap((m) => m.nlri.map((n) => [n.prefix, m.attributes.localPref])));
    assert.deepEqual(lp, { '192.0.2.10/32': 100, '192.0.2.11/32': 200 });
    assert.deepEqual(msgs[0]!.attributes.asPath, []);
  });

  test('announce replaces, withdraw withdraws, ListRoutes-style views follow', async () => {
    const s = await setup();
    await s.establish();
    assert.equal(s.speaker.announce(route('192.0.2.10/32')), 1);
    assert.equal(s.speaker.announce(route('192.0.2.10/32', { med: 9 })), 1);
    await flush();
    assert.deepEqual(s.speaker.withdraw('192.0.2.10/32'), { wasAnnounced: true, peers: 1 });
    assert.deepEqual(s.speaker.withdraw('192.0.2.10/32'), { wasAnnounced: false, peers: 0 });
    await flush();
    const u = s.updates().filter((m) => bgp.isEndOfRib(m) === undefined);
    assert.deepEqual(
      u.map((m) => [m.nlri.map((n) => n.prefix), m.attributes.med, m.withdrawn.map((n) => n.prefix)]),
      [
        [['192.0.2.10/32'], undefined, []],
        [['192.0.2.10/32'], 9, []],
        [[], undefined, ['192.0.2.10/32']],
      ],
    );
    assert.equal([...s.speaker.peers.values()][0]!.ribOut!.size, 0);
  });

  test('an IPv6 prefix goes in MP_REACH_NLRI with a configured IPv6 next hop', async () => {
    const s = await setup({ nextHop: { ipv6: '2001:db8::2' } });
    await s.establish();
    s.speaker.announce(route('2001:db8:10::/64'));
    await flush();
    const m = s.updates().find((x) => x.mpReach !== undefined && x.mpReach.nlri.length > 0)!;
    assert.equal(m.mpReach!.nextHop, '2001:db8::2');
    assert.deepEqual(m.mpReach!.nlri.map((n) => n.prefix), ['2001:db8:10::/64']);
  });

  test('10,000 prefixes are packed into few UPDATEs', async () => {
    const s = await setup();
    for (let i = 0; i < 10_000; i++) s.speaker.announce(route(`100.${64 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}/32`));
    await s.establish();
    const u = s.updates().filter((m) => m.nlri.length > 0);
    assert.equal(u.reduce((n, m) => n + m.nlri.length, 0), 10_000);
    assert.ok(u.length <= 20, `${u.length} UPDATEs`);
  });

  test('UPDATEs are paced by the token bucket (2 per second, burst 1)', async () => {
    const s = await setup({ updateRate: 2, updateBurst: 1 });
    await s.establish();
    const base = s.updates().length; // End-of-RIB markers took the burst and queued
    for (let i = 0; i < 4; i++) {
      s.speaker.announce(route(`192.0.2.${i}/32`, { med: i })); // distinct attributes: one UPDATE each
      await flush();
    }
    assert.equal(base, 1, 'the burst of 1 took the first End-of-RIB');
    const counts: number[] = [];
    for (let t = 0; t < 8; t++) {
      s.clock.advance(500);
      await flush();
      counts.push(s.updates().length - base);
    }
    // the second End-of-RIB and the four UPDATEs, one per 500 ms
    assert.deepEqual(counts, [1, 2, 3, 4, 5, 5, 5, 5]);
  });

  test('ROUTE-REFRESH resends the Adj-RIB-Out of the family', async () => {
    const s = await setup();
    s.speaker.announce(route('192.0.2.10/32'));
    await s.establish();
    const before = s.updates().length;
    s.remote.send(bgp.routeRefresh('ipv4-unicast'));
    await flush();
    const again = s.updates().slice(before);
    assert.deepEqual(again.map((m) => m.nlri.map((n) => n.prefix)), [['192.0.2.10/32']]);
  });

  test('add-path send: a path identifier per next hop', async () => {
    const s = await setup({ addPath: true, families: ['ipv4-unicast'] }, { addPath: { 'ipv4-unicast': 'receive' }, families: ['ipv4-unicast'] });
    await s.establish();
    s.speaker.announce(route('192.0.2.10/32'));
    s.speaker.announce(route('192.0.2.11/32', { nextHop: '10.0.0.9' }));
    await flush();
    const ids = Object.fromEntries(s.updates().flatMap((m) => m.nlri.map((n) => [n.prefix, n.pathId])));
    assert.equal(typeof ids['192.0.2.10/32'], 'number');
    assert.notEqual(ids['192.0.2.10/32'], ids['192.0.2.11/32']);
  });

  test('received routes fill the Adj-RIB-In; a session down empties both RIBs', async () => {
    const s = await setup();
    await s.establish();
    for (const u of bgp.update({ announce: [{ prefix: '203.0.113.0/24', nextHop: '10.0.0.1', attrs: { asPath: bgp.asSequence(65000) } }] }, s.remote.ctx)) s.remote.send(u);
    await flush();
    const e = [...s.speaker.peers.values()][0]!;
    assert.deepEqual([...e.ribIn.values()].map((r) => [r.prefix, r.nextHop]), [['203.0.113.0/24', '10.0.0.1']]);
    s.remote.send(bgp.cease(2));
    await flush();
    assert.equal(e.ribIn.size, 0);
    assert.equal(e.ribOut, undefined);
  });

  test('announcing a prefix of a family no peer has is refused', () => {
    const clock = new FakeClock();
    const speaker = new Speaker({ clock, random: seededRandom(1), dialer: new ScriptedDialer(), log: quiet });
    speaker.addPeer(settings({ families: ['ipv4-unicast'] }));
    assert.throws(() => speaker.announce(route('2001:db8::/64')), { code: 'NA_ERR_BGPD_NO_PEER_FOR_FAMILY' });
  });
});

describe('routes', () => {
  test('validation errors name the field', () => {
    assert.throws(() => parseRoute({ prefix: '192.0.2.1/24' }, 'api'), /route.prefix: host bits are set; did you mean 192.0.2.0\/24/);
    assert.throws(() => parseRoute({ prefix: '192.0.2.0/24', nextHop: '2001:db8::1' }, 'api'), /route.nextHop: expected an IPv4 next hop/);
    assert.throws(() => parseRoute({ prefix: '192.0.2.0/24', communities: [{ asn: 70000, value: 1 }] }, 'api'), /route.communities\[0\].asn: expected an integer 0..65535/);
    assert.throws(() => parseRoute({ prefix: 'nonsense' }, 'api'), { code: 'NA_ERR_BGPD_INVALID_ROUTE' });
  });
});
