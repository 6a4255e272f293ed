import { test } from 'vitest';
import assert from 'node:assert/strict';
import { negotiate } from './negotiate.js';
import { open } from './open.js';
import type { OpenOptions } from './open.js';
import { throwsNotification } from './testing/bytes.js';

const local = (o: Partial<OpenOptions> = {}): ReturnType<typeof open> => open({ asn: 65001, routerId: '192.0.2.1', ...o });
const remote = (o: Partial<OpenOptions> = {}): ReturnType<typeof open> => open({ asn: 65002, routerId: '192.0.2.2', ...o });

test('hold time is the smaller one, 0 allowed; keepalive a third of it', () => {
  assert.deepEqual(pick(negotiate(local({ holdTime: 90 }), remote({ holdTime: 30 }))), { holdTime: 30, keepaliveTime: 10 });
  assert.deepEqual(pick(negotiate(local({ holdTime: 90 }), remote({ holdTime: 0 }))), { holdTime: 0, keepaliveTime: 0 });
  assert.deepEqual(pick(negotiate(local({ holdTime: 4 }), remote({ holdTime: 240 }))), { holdTime: 4, keepaliveTime: 1 });
});

function pick(s: { holdTime: number; keepaliveTime: number }): { holdTime: number; keepaliveTime: number } {
  return { holdTime: s.holdTime, keepaliveTime: s.keepaliveTime };
}

test('4-octet AS numbers only when both advertise the capability; AS numbers and eBGP / iBGP', () => {
  const s = negotiate(local(), remote({ asn: 4200000000 }));
  assert.deepEqual([s.asn4, s.localAsn, s.peerAsn, s.ibgp], [true, 65001, 4200000000, false]);
  const old = negotiate(local(), remote({ fourOctetAs: false }));
  assert.equal(old.asn4, false);
  assert.equal(negotiate(local(), local({ routerId: '192.0.2.9' })).ibgp, true);
});

test('families in common; IPv4 unicast implied without multiprotocol capabilities (RFC 4760)', () => {
  assert.deepEqual(negotiate(local({ families: ['ipv4-unicast', 'ipv6-unicast'] }), remote({ families: ['ipv6-unicast'] })).families, ['ipv6-unicast']);
  const plain = remote({ capabilities: [{ type: 'route-refresh' }] });
  assert.deepEqual(negotiate(local({ families: ['ipv4-unicast', 'ipv6-unicast'] }), plain).families, ['ipv4-unicast']);
});

test('add-path per family and direction (RFC 7911 §4)', () => {
  const both = ['ipv4-unicast', 'ipv6-unicast'] as const;
  const s = negotiate(
    local({ families: [...both], addPath: { 'ipv4-unicast': 'both', 'ipv6-unicast': 'send' } }),
    remote({ families: [...both], addPath: { 'ipv4-unicast': 'receive', 'ipv6-unicast': 'both' } }),
  );
  assert.deepEqual(s.addPath, { send: ['ipv4-unicast', 'ipv6-unicast'], receive: [] });
  const t = negotiate(local({ addPath: { 'ipv4-unicast': 'receive' } }), remote({ addPath: { 'ipv4-unicast': 'send' } }));
  assert.deepEqual(t.addPath, { send: [], receive: ['ipv4-unicast'] });
});

test('extended messages, route refresh, enhanced route refresh and graceful restart', () => {
  const s = negotiate(
    local({ extendedMessages: true, enhancedRouteRefresh: true, gracefulRestart: { restartTime: 120, notification: true } }),
    remote({ extendedMessages: true, routeRefresh: false, enhancedRouteRefresh: true, gracefulRestart: { restartTime: 90, restarting: true, notification: true, forwardingPreserved: ['ipv4-unicast'] } }),
  );
  assert.deepEqual(s.extendedMessages, { send: true, receive: true });
  assert.deepEqual(s.routeRefresh, { send: false, receive: true });
  assert.equal(s.enhancedRouteRefresh, true);
  assert.deepEqual(s.gracefulRestart, { restartTime: 90, peerRestarting: true, notification: true, families: [{ family: 'ipv4-unicast', forwardingPreserved: true }] });
  // Extended messages advertised only by us: we accept them, but do not send them.
  assert.deepEqual(negotiate(local({ extendedMessages: true }), remote()).extendedMessages, { send: false, receive: true });
  assert.equal(negotiate(local(), remote({ gracefulRestart: { restartTime: 9 } })).gracefulRestart, undefined);
  assert.ok(Object.isFrozen(s));
});

test('2/2: the peer is not the AS configured', () => {
  throwsNotification(() => negotiate(local(), remote(), { peerAs: 65003 }), { code: 2, subcode: 2, data: '' });
  // an old speaker with a 4-octet AS shows up as AS_TRANS
  throwsNotification(() => negotiate(local(), open({ asn: 23456, routerId: '192.0.2.2', fourOctetAs: false }), { peerAs: 4200000000 }), { code: 2, subcode: 2 });
});

test('2/3: the same BGP identifier on an internal session; fine on an external one (RFC 6286)', () => {
  throwsNotification(() => negotiate(local(), local()), { code: 2, subcode: 3, data: '' });
  assert.equal(negotiate(local(), remote({ routerId: '192.0.2.1' })).peerRouterId, '192.0.2.1');
});

test('2/6: a hold time below the local minimum, or 0 when refused', () => {
  throwsNotification(() => negotiate(local(), remote({ holdTime: 9 }), { minHoldTime: 10 }), { code: 2, subcode: 6 });
  throwsNotification(() => negotiate(local(), remote({ holdTime: 0 }), { refuseZeroHoldTime: true }), { code: 2, subcode: 6 });
});

test('2/7: required capabilities or families missing, data = our capabilities the peer lacks', () => {
  throwsNotification(() => negotiate(local({ extendedMessages: true }), remote(), { requiredCapabilities: [6] }), { code: 2, subcode: 7, data: '06 00' });
  throwsNotification(() => negotiate(local({ families: ['ipv4-unicast', 'ipv6-unicast'] }), remote(), { requiredFamilies: ['ipv6-unicast'] }), { code: 2, subcode: 7, data: '01 04 0002 00 01' });
  assert.throws(() => negotiate(local(), remote(), { minHoldTime: 1 }), /^NetaccelError: negotiate\.minHoldTime: expected 3\.\.65535 s, got 1$/);
});
