// UPDATE errors: RFC 4271 §6.3 codes and data, with the RFC 7606 outcome of each case.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createContext } from './context.js';
import type { SessionContext } from './context.js';
import type { BgpNotificationError } from './errors.js';
import { decodeMessage } from './message.js';
import type { UpdateDecodeResult } from './update.js';
import { assertNotification, hex, throwsNotification, updateHex } from './testing/bytes.js';

const EBGP = createContext({ families: ['ipv4-unicast', 'ipv6-unicast'] });
const IBGP = createContext({ ibgp: true, families: ['ipv4-unicast', 'ipv6-unicast'] });
const ASN4 = createContext({ asn4: true, families: ['ipv4-unicast', 'ipv6-unicast'] });

const ORIGIN = '40 01 01 00';
const AS_PATH = '40 02 04 02 01 fde9'; // AS_SEQUENCE (65001), 2-octet
const NEXT_HOP = '40 03 04 c0000201';
const BASE = `${ORIGIN} ${AS_PATH} ${NEXT_HOP}`;
const NLRI = '18 c63364'; // 198.51.100.0/24

function decode(bytes: Buffer, ctx: SessionContext = EBGP): UpdateDecodeResult {
  const d = decodeMessage(bytes, ctx);
  assert.ok(d !== null && d.message.type === 'update');
  return d.message;
}

function withdrawn(attrs: string, ctx: SessionContext = EBGP, nlri = NLRI): { reason: BgpNotificationError; withdrawn: readonly { prefix: string }[] } {
  const r = decode(updateHex(attrs, nlri), ctx);
  assert.equal(r.kind, 'treat-as-withdraw', JSON.stringify(r));
  assert.ok(r.kind === 'treat-as-withdraw');
  return r;
}

function discarded(attrs: string, ctx: SessionContext = EBGP): BgpNotificationError[] {
  const r = decode(updateHex(attrs, NLRI), ctx);
  assert.equal(r.kind, 'ok-with-discards', JSON.stringify(r));
  assert.ok(r.kind === 'ok-with-discards');
  return [...r.discarded];
}

function reset(bytes: Buffer, ctx: SessionContext = EBGP): unknown {
  try {
    decodeMessage(bytes, ctx);
  } catch (err) {
    return err;
  }
  return assert.fail('expected a session reset');
}

test('a sound UPDATE decodes ok', () => {
  const r = decode(updateHex(BASE, NLRI));
  assert.equal(r.kind, 'ok');
});

test('3/1 session reset: Withdrawn Routes Length or Total Path Attribute Length overruns the message', () => {
  const wr = Buffer.from(updateHex(BASE, NLRI));
  wr.writeUInt16BE(200, 19);
  throwsNotification(() => decodeMessage(wr, EBGP), { code: 3, subcode: 1, data: '', err: 'NA_ERR_BGP_MALFORMED_ATTRIBUTE_LIST' });
  const ta = Buffer.from(updateHex(BASE, NLRI));
  ta.writeUInt16BE(ta.readUInt16BE(21) + 5, 21);
  throwsNotification(() => decodeMessage(ta, EBGP), { code: 3, subcode: 1, data: '' });
});

test('3/1 session reset: MP_REACH_NLRI or MP_UNREACH_NLRI twice (RFC 7606 §3(g))', () => {
  const unreach = '80 0f 03 0002 01';
  throwsNotification(() => decodeMessage(updateHex(`${unreach} ${unreach}`), EBGP), { code: 3, subcode: 1, data: '' });
  const reach = '80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
  throwsNotification(() => decodeMessage(updateHex(`${reach} ${ORIGIN} ${AS_PATH} ${reach}`), EBGP), { code: 3, subcode: 1 });
});

test('other duplicates: all but the first are discarded (RFC 7606 §3(g))', () => {
  const r = decode(updateHex(`${BASE} 40 01 01 02`, NLRI));
  assert.ok(r.kind === 'ok-with-discards');
  assert.equal(r.update.attributes.origin, 'igp');
  assertNotification(r.discarded[0], { code: 3, subcode: 1, action: 'attribute-discard' });
});

test('3/2 session reset: an unrecognised attribute flagged well-known, data = the attribute', () => {
  throwsNotification(() => decodeMessage(updateHex(`${BASE} 40 63 02 abcd`, NLRI), EBGP), { code: 3, subcode: 2, data: '40 63 02 abcd' });
});

test('3/3 treat-as-withdraw: a missing well-known attribute when NLRI are present, data = type code', () => {
  assertNotification(withdrawn(`${AS_PATH} ${NEXT_HOP}`).reason, { code: 3, subcode: 3, data: '01', action: 'treat-as-withdraw' });
  assertNotification(withdrawn(`${ORIGIN} ${NEXT_HOP}`).reason, { code: 3, subcode: 3, data: '02', action: 'treat-as-withdraw' });
  assertNotification(withdrawn(`${ORIGIN} ${AS_PATH}`).reason, { code: 3, subcode: 3, data: '03', action: 'treat-as-withdraw' });
  // Only MP_REACH_NLRI: NEXT_HOP is not needed (RFC 4760); ORIGIN still is.
  const reach = '80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
  assert.equal(decode(updateHex(`${reach} ${ORIGIN} ${AS_PATH}`)).kind, 'ok');
  assertNotification(withdrawn(`${reach} ${AS_PATH}`, EBGP, '').reason, { code: 3, subcode: 3, data: '01', action: 'treat-as-withdraw' });
  // A pure withdrawal needs no attributes.
  assert.equal(decode(updateHex('', '', NLRI)).kind, 'ok');
});

test('3/4 attribute flags: treat-as-withdraw for ORIGIN, discard for AGGREGATOR, session reset for MP_REACH_NLRI', () => {
  assertNotification(withdrawn(`c0 01 01 00 ${AS_PATH} ${NEXT_HOP}`).reason, { code: 3, subcode: 4, data: 'c0 01 01 00', action: 'treat-as-withdraw' });
  const [d] = discarded(`${BASE} 80 07 06 fde9 c0000201`);
  assertNotification(d, { code: 3, subcode: 4, data: '80 07 06 fde9 c0000201', action: 'attribute-discard' });
  const reach = 'c0 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
  throwsNotification(() => decodeMessage(updateHex(`${reach} ${ORIGIN} ${AS_PATH}`), EBGP), { code: 3, subcode: 4, data: reach });
});

test('3/5 attribute length errors follow the attribute: withdraw or discard', () => {
  const cases: [string, 'treat-as-withdraw' | 'attribute-discard', SessionContext?][] = [
    [`40 01 02 0000 ${AS_PATH} ${NEXT_HOP}`, 'treat-as-withdraw'],
    [`${ORIGIN} ${AS_PATH} 40 03 05 c000020101`, 'treat-as-withdraw'],
    [`${BASE} 80 04 03 000064`, 'treat-as-withdraw'],
    [`${BASE} 40 05 05 0000006400`, 'treat-as-withdraw', IBGP],
    [`${BASE} c0 08 05 fde9006401`, 'treat-as-withdraw'],
    [`${BASE} c0 08 00`, 'treat-as-withdraw'],
    [`${BASE} c0 20 0b 0000fde9000000010000`, 'treat-as-withdraw'],
    [`${BASE} 80 09 03 c00002`, 'treat-as-withdraw', IBGP],
    [`${BASE} 80 0a 06 c0000201ffff`, 'treat-as-withdraw', IBGP],
    [`${BASE} 40 06 01 00`, 'attribute-discard'],
    [`${BASE} c0 07 08 0000fde9 c0000201`, 'attribute-discard'], // 8 octets on a 2-octet session
    [`${BASE} c0 12 06 fde9 c0000201`, 'attribute-discard'], // AS4_AGGREGATOR must be 8
  ];
  for (const [attrs, action, ctx] of cases) {
    const err = action === 'treat-as-withdraw' ? withdrawn(attrs, ctx).reason : discarded(attrs, ctx)[0];
    assertNotification(err, { code: 3, subcode: 5, action });
  }
  // AGGREGATOR is 8 octets on a 4-octet session, 6 is then wrong.
  assertNotification(discarded(`${ORIGIN} 40 02 06 02 01 0000fde9 ${NEXT_HOP} c0 07 06 fde9 c0000201`, ASN4)[0], { code: 3, subcode: 5, action: 'attribute-discard' });
});

test('an attribute overrunning the path attributes is treat-as-withdraw, or a reset for MP_REACH_NLRI (RFC 7606 §4)', () => {
  assertNotification(withdrawn(`${BASE} c0 08 08 fde90064`).reason, { code: 3, subcode: 5, data: 'c0 08 08 fde90064', action: 'treat-as-withdraw' });
  assertNotification(withdrawn(`${BASE} c0 08`).reason, { code: 3, subcode: 1, action: 'treat-as-withdraw' });
  throwsNotification(() => decodeMessage(updateHex(`${BASE} 80 0e 20 0002 01 10`), EBGP), { code: 3, subcode: 5, action: 'session-reset' });
});

test('3/6 treat-as-withdraw: an undefined ORIGIN, data = the attribute', () => {
  assertNotification(withdrawn(`40 01 01 03 ${AS_PATH} ${NEXT_HOP}`).reason, { code: 3, subcode: 6, data: '40 01 01 03', action: 'treat-as-withdraw' });
});

test('3/8 treat-as-withdraw: NEXT_HOP 0.0.0.0, multicast or class E; an unusable MP_REACH_NLRI next hop', () => {
  for (const nh of ['00000000', 'e0000001', 'ffffffff', '00010203']) {
    assertNotification(withdrawn(`${ORIGIN} ${AS_PATH} 40 03 04 ${nh}`).reason, { code: 3, subcode: 8, data: `40 03 04 ${nh}`, action: 'treat-as-withdraw' });
  }
  const reach = '80 0e 1a 0002 01 10 ff020000000000000000000000000001 00 20 20010db8';
  const r = withdrawn(`${reach} ${ORIGIN} ${AS_PATH}`, EBGP, '');
  assertNotification(r.reason, { code: 3, subcode: 8, action: 'treat-as-withdraw' });
  assert.deepEqual(r.withdrawn, [{ prefix: '2001:db8::/32' }]);
});

test('3/9: malformed MP_REACH_NLRI / MP_UNREACH_NLRI reset the session, an unknown family is discarded', () => {
  throwsNotification(() => decodeMessage(updateHex('80 0e 04 0002 01 00'), EBGP), { code: 3, subcode: 9, data: '80 0e 04 0002 01 00' });
  throwsNotification(() => decodeMessage(updateHex('80 0f 02 0002'), EBGP), { code: 3, subcode: 9 });
  // next hop length 12 is not 16 or 32 for IPv6; 16 is not 4 for IPv4
  throwsNotification(() => decodeMessage(updateHex(`80 0e 12 0002 01 0c ${'00'.repeat(12)} 00 00`), EBGP), { code: 3, subcode: 9 });
  throwsNotification(() => decodeMessage(updateHex(`80 0e 16 0001 01 10 ${'01'.repeat(16)} 00 00`), EBGP), { code: 3, subcode: 9 });
  // next hop length overrunning the attribute
  throwsNotification(() => decodeMessage(updateHex('80 0e 06 0002 01 10 2001'), EBGP), { code: 3, subcode: 9 });
  // IPv6 on a session that negotiated only IPv4: discarded; L2VPN EVPN: discarded
  const v4only = createContext();
  const [d] = discarded(`80 0f 03 0002 01 ${BASE}`, v4only);
  assertNotification(d, { code: 3, subcode: 9, action: 'attribute-discard' });
  assertNotification(discarded(`80 0f 03 0019 46 ${BASE}`)[0], { code: 3, subcode: 9, action: 'attribute-discard' });
  // AGGREGATOR with AS 0 (RFC 7607): discarded
  assertNotification(discarded(`${BASE} c0 07 06 0000 c0000201`)[0], { code: 3, subcode: 9, action: 'attribute-discard' });
});

test('3/10 session reset: NLRI, withdrawn routes or MP NLRI that do not parse', () => {
  throwsNotification(() => decodeMessage(updateHex(BASE, '21 c0000201ff'), EBGP), { code: 3, subcode: 10, data: '', err: 'NA_ERR_BGP_INVALID_NETWORK_FIELD' });
  throwsNotification(() => decodeMessage(updateHex(BASE, '18 c633'), EBGP), { code: 3, subcode: 10 });
  throwsNotification(() => decodeMessage(updateHex('', '', '21 c0000201ff'), EBGP), { code: 3, subcode: 10 });
  throwsNotification(() => decodeMessage(updateHex(`80 0f 05 0002 01 81 20`), EBGP), { code: 3, subcode: 10 });
  // add-path: a path identifier without the prefix after it
  const ap = createContext({ addPath: { receive: ['ipv4-unicast'] } });
  throwsNotification(() => decodeMessage(updateHex(BASE, '00000001'), ap), { code: 3, subcode: 10 });
});

test('3/11 treat-as-withdraw: malformed AS_PATH, AS 0, confederation segments from an external peer', () => {
  const paths = [
    '40 02 04 05 01 fde9', // segment type 5
    '40 02 02 02 00', // zero-length segment
    '40 02 04 02 02 fde9', // overrun
    '40 02 05 02 01 fde9 02', // one octet left
    '40 02 04 02 01 0000', // AS 0
    '40 02 04 03 01 fde9', // AS_CONFED_SEQUENCE from an external peer
  ];
  for (const p of paths) assertNotification(withdrawn(`${ORIGIN} ${p} ${NEXT_HOP}`).reason, { code: 3, subcode: 11, action: 'treat-as-withdraw' });
  // From an internal peer, confederation segments are fine.
  assert.equal(decode(updateHex(`${ORIGIN} 40 02 04 03 01 fde9 ${NEXT_HOP}`, NLRI), IBGP).kind, 'ok');
});

test('AS4_PATH: malformed is discarded, confederation segments dropped, ignored on 4-octet sessions (RFC 6793)', () => {
  assertNotification(discarded(`${BASE} c0 11 04 02 01 fde9`)[0], { code: 3, subcode: 5, action: 'attribute-discard' });
  assertNotification(discarded(`${BASE} c0 11 06 07 01 fa56ea00`)[0], { code: 3, subcode: 11, action: 'attribute-discard' });
  const r = decode(updateHex(`${BASE} c0 11 0c 03 01 0000fde9 02 01 fa56ea00`, NLRI));
  assert.ok(r.kind === 'ok-with-discards');
  assert.deepEqual(r.update.attributes.as4Path, [{ type: 'sequence', asns: [4200000000] }]);
  const on4 = discarded(`${ORIGIN} 40 02 06 02 01 0000fde9 ${NEXT_HOP} c0 11 06 02 01 fa56ea00`, ASN4);
  assertNotification(on4[0], { code: 3, subcode: 0, action: 'attribute-discard', err: 'NA_ERR_BGP_ATTRIBUTE_NOT_ACCEPTED' });
});

test('LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST from an external peer are discarded; from an internal one kept', () => {
  const attrs = `${BASE} 40 05 04 00000064 80 09 04 c0000202 80 0a 04 c0000203`;
  const d = discarded(attrs);
  assert.deepEqual(d.map((e) => [e.attributeType, e.notification.code, e.notification.subcode]), [[5, 3, 0], [9, 3, 0], [10, 3, 0]]);
  const r = decode(updateHex(attrs, NLRI), IBGP);
  assert.ok(r.kind === 'ok');
  assert.deepEqual([r.update.attributes.localPref, r.update.attributes.originatorId, r.update.attributes.clusterList], [100, '192.0.2.2', ['192.0.2.3']]);
});

test('ATOMIC_AGGREGATE and AGGREGATOR faults are attribute discard, the route stays', () => {
  const r = decode(updateHex(`${BASE} 40 06 01 00 c0 07 05 fde9c00002`, NLRI));
  assert.ok(r.kind === 'ok-with-discards');
  assert.equal(r.discarded.length, 2);
  assert.deepEqual(r.update.nlri, [{ prefix: '198.51.100.0/24' }]);
  assert.equal(r.update.attributes.atomicAggregate, undefined);
  assert.equal(r.update.attributes.aggregator, undefined);
});

test('unknown optional transitive attributes are kept, optional non-transitive dropped', () => {
  const r = decode(updateHex(`${BASE} e0 63 02 abcd c0 62 01 01 80 61 01 ff`, NLRI));
  assert.ok(r.kind === 'ok');
  assert.deepEqual(r.update.attributes.unknown, [
    { typeCode: 0x62, partial: false, value: hex('01') },
    { typeCode: 0x63, partial: true, value: hex('abcd') },
  ]);
});

test('several faults: the strongest action wins (RFC 7606 §3(h))', () => {
  // discard (ATOMIC_AGGREGATE) + withdraw (MED) → treat-as-withdraw, both reported
  const r = withdrawn(`${BASE} 40 06 01 00 80 04 02 0000`);
  assert.deepEqual(r.reason.attributeType, 4);
  const all = decode(updateHex(`${BASE} 40 06 01 00 80 04 02 0000`, NLRI));
  assert.ok(all.kind === 'treat-as-withdraw');
  assert.deepEqual(all.faults.map((f) => f.action), ['attribute-discard', 'treat-as-withdraw']);
  // withdraw (MED) + reset (bad NLRI) → reset
  throwsNotification(() => decodeMessage(updateHex(`${BASE} 80 04 02 0000`, '21 c0000201ff'), EBGP), { code: 3, subcode: 10 });
  // withdraw (MED) + reset (unrecognised well-known later on) → reset
  assertNotification(reset(updateHex(`${BASE} 80 04 02 0000 40 63 00`, NLRI)), { code: 3, subcode: 2 });
});

test('treat-as-withdraw lists every prefix of the UPDATE, all fields and families', () => {
  const reach = '80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
  const unreach = '80 0f 0a 0002 01 30 20010db80001';
  const r = decode(updateHex(`${reach} ${unreach} 40 01 01 09 ${AS_PATH} ${NEXT_HOP}`, NLRI, '08 0a'));
  assert.ok(r.kind === 'treat-as-withdraw');
  assert.deepEqual(r.withdrawn.map((n) => n.prefix), ['10.0.0.0/8', '2001:db8:1::/48', '198.51.100.0/24', '2001:db8::/32']);
});
