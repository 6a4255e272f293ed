// OPEN errors (RFC 4271 §6.2, RFC 5492, RFC 7607, RFC 9072) and the open() builder.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { AS_TRANS } from './constants.js';
import { decodeMessage, encodeMessage } from './message.js';
import { open, openAsn } from './open.js';
import type { OpenMessage } from './open.js';
import { frameHex, hex, throwsNotification } from './testing/bytes.js';

/** An OPEN body: version, AS, hold time, identifier, then the optional parameters (hex). */
function openHex(params: string, { version = '04', as = 'fde9', hold = '005a', id = 'c0000201' } = {}): Buffer {
  const p = hex(params);
  return frameHex(1, Buffer.concat([hex(`${version} ${as} ${hold} ${id}`), Buffer.from([p.length]), p]));
}

function decodeOpenMessage(bytes: Buffer): OpenMessage {
  const m = decodeMessage(bytes)?.message;
  assert.ok(m !== undefined && m.type === 'open');
  return m;
}

test('2/1: version other than 4, data = 0x0004, the largest version supported', () => {
  throwsNotification(() => decodeMessage(openHex('', { version: '03' })), { code: 2, subcode: 1, data: '0004', err: 'NA_ERR_BGP_UNSUPPORTED_VERSION' });
  throwsNotification(() => decodeMessage(openHex('', { version: '05' })), { code: 2, subcode: 1, data: '0004' });
});

test('2/2: My AS 0, or a 4-octet AS capability carrying AS 0 (RFC 7607)', () => {
  throwsNotification(() => decodeMessage(openHex('', { as: '0000' })), { code: 2, subcode: 2, data: '', err: 'NA_ERR_BGP_BAD_PEER_AS' });
  throwsNotification(() => decodeMessage(openHex('02 06 41 04 00000000')), { code: 2, subcode: 2 });
});

test('2/3: BGP identifier 0', () => {
  throwsNotification(() => decodeMessage(openHex('', { id: '00000000' })), { code: 2, subcode: 3, data: '', err: 'NA_ERR_BGP_BAD_BGP_IDENTIFIER' });
});

test('2/4: an optional parameter other than Capabilities', () => {
  throwsNotification(() => decodeMessage(openHex('01 02 0102')), { code: 2, subcode: 4, data: '', err: 'NA_ERR_BGP_UNSUPPORTED_OPTIONAL_PARAMETER' });
});

test('2/6: hold time 1 or 2 s; 0 and 3 are fine', () => {
  throwsNotification(() => decodeMessage(openHex('', { hold: '0001' })), { code: 2, subcode: 6, data: '', err: 'NA_ERR_BGP_UNACCEPTABLE_HOLD_TIME' });
  throwsNotification(() => decodeMessage(openHex('', { hold: '0002' })), { code: 2, subcode: 6 });
  assert.equal(decodeOpenMessage(openHex('', { hold: '0000' })).holdTime, 0);
  assert.equal(decodeOpenMessage(openHex('', { hold: '0003' })).holdTime, 3);
});

test('2/0: optional parameters or capabilities inconsistent with their lengths, malformed known capabilities', () => {
  const bad = [
    '02 05 02 00', // parameter longer than the rest
    '02 02 02 01', // capability longer than its parameter
    '02 01 02', // capability header cut
    '02 05 01 03 000101', // multiprotocol of 3 octets
    '02 03 02 01 00', // route refresh with a value
    '02 05 41 03 00fde9', // 4-octet AS of 3 octets
    '02 05 40 03 007800', // graceful restart of 3 octets
    '02 04 45 02 0001', // add-path not a multiple of 4
  ];
  for (const p of bad) throwsNotification(() => decodeMessage(openHex(p)), { code: 2, subcode: 0, err: 'NA_ERR_BGP_OPEN_MALFORMED' });
  // optional parameters length shorter than the message: trailing octets
  const trailing = Buffer.concat([openHex(''), hex('00')]);
  trailing.writeUInt16BE(trailing.length, 16);
  throwsNotification(() => decodeMessage(trailing), { code: 2, subcode: 0 });
});

test('unknown capabilities and add-path with an undefined mode are kept as unknown (RFC 5492, RFC 7911 §4)', () => {
  const m = decodeOpenMessage(openHex('02 0c 80 00 49 02 6869 45 04 0001 01 07'));
  assert.deepEqual(m.capabilities, [
    { type: 'unknown', code: 0x80, value: Buffer.alloc(0) },
    { type: 'unknown', code: 0x49, value: hex('6869') },
    { type: 'unknown', code: 0x45, value: hex('0001 01 07') },
  ]);
  assert.deepEqual(encodeMessage(m), openHex('02 0c 80 00 49 02 6869 45 04 0001 01 07'));
});

test('capabilities in several optional parameters are read in order (one per parameter, as FRR sends)', () => {
  const m = decodeOpenMessage(openHex('02 06 01 04 0001 00 01  02 02 02 00  02 06 41 04 fa56ea00'));
  assert.deepEqual(m.capabilities, [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'route-refresh' }, { type: 'four-octet-as', asn: 4200000000 }]);
  assert.equal(openAsn(m), 4200000000);
});

test('RFC 9072 extended optional parameters length: decoded, and used when parameters exceed 255 octets', () => {
  // 255, 255, extended length 0x000b, then one parameter with a 2-octet length
  const ext = decodeOpenMessage(frameHex(1, hex('04 fde9 005a c0000201 ff ff 000b 02 0008 41 04 0000fde9 02 00')));
  assert.deepEqual(ext.capabilities, [{ type: 'four-octet-as', asn: 65001 }, { type: 'route-refresh' }]);
  const many: OpenMessage = {
    type: 'open',
    myAs: 65001,
    holdTime: 90,
    routerId: '192.0.2.1',
    capabilities: Array.from({ length: 30 }, (_, i) => ({ type: 'unknown' as const, code: 200 + i, value: Buffer.alloc(8, i) })),
  };
  const bytes = encodeMessage(many);
  assert.deepEqual([bytes[28], bytes[29], bytes.readUInt16BE(30)], [255, 255, 3 + 30 * 10]);
  assert.deepEqual(decodeOpenMessage(bytes), many);
});

test('open(): AS above 65535 goes in the 4-octet AS capability with AS_TRANS in My AS', () => {
  const m = open({ asn: 4200000000, routerId: '192.0.2.1' });
  assert.equal(m.myAs, AS_TRANS);
  assert.equal(openAsn(m), 4200000000);
  assert.equal(m.holdTime, 90);
  assert.ok(Object.isFrozen(m));
  assert.deepEqual(m.capabilities, [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'route-refresh' }, { type: 'four-octet-as', asn: 4200000000 }]);
});

test('open(): explicit capabilities, validated options with the path of the field', () => {
  const m = open({ asn: 65001, routerId: '192.0.2.1', holdTime: 0, capabilities: [{ type: 'route-refresh' }] });
  assert.deepEqual(m.capabilities, [{ type: 'route-refresh' }]);
  const bad: [object, RegExp][] = [
    [{ asn: 65001, routerId: '192.0.2.1', holdTime: 1 }, /^open\.holdTime: expected 0 or 3\.\.65535, got 1$/],
    [{ asn: 0, routerId: '192.0.2.1' }, /^open\.asn: expected an integer 1\.\.4294967295, got 0$/],
    [{ asn: 65001, routerId: '0.0.0.0' }, /^open\.routerId: expected a non-zero IPv4 address/],
    [{ asn: 65001, routerId: '192.0.2.1', families: ['l2vpn'] }, /^open\.families\[0\]: expected ipv4-unicast or ipv6-unicast/],
    [{ asn: 65001, routerId: '192.0.2.1', capabilities: [], routeRefresh: true }, /^open\.routeRefresh: must be absent when capabilities are given/],
    [{ asn: 4200000000, routerId: '192.0.2.1', capabilities: [] }, /^open\.capabilities: AS 4200000000 needs a four-octet-as capability/],
    [{ asn: 4200000000, routerId: '192.0.2.1', fourOctetAs: false }, /^open\.fourOctetAs: must be true for AS 4200000000/],
    [{ asn: 65001, routerId: '192.0.2.1', addPath: { 'ipv6-unicast': 'both' } }, /^open\.addPath\.ipv6-unicast: expected one of the families ipv4-unicast/],
    [{ asn: 65001, routerId: '192.0.2.1', gracefulRestart: { restartTime: 5000 } }, /^open\.gracefulRestart\.restartTime: expected 0\.\.4095 s, got 5000/],
    [{ asn: 65001, routerId: '192.0.2.1', holdtime: 30 }, /^open\.holdtime: unknown option/],
  ];
  for (const [opts, re] of bad) assert.throws(() => open(opts as never), (err: Error & { code?: string }) => err.code === 'NA_ERR_BGP_INVALID_OPTIONS' && re.test(err.message), JSON.stringify(opts));
});
