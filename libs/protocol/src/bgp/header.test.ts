// Message header errors (RFC 4271 §6.1), per-type lengths, stream decoding and size limits.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createContext } from './context.js';
import { decodeMessage, encodeMessage, keepalive } from './message.js';
import { notification } from './notification.js';
import { routeRefresh } from './route-refresh.js';
import { frameHex, hex, throwsNotification } from './testing/bytes.js';

const MARKER = 'ffffffffffffffffffffffffffffffff';

test('1/1: a marker that is not all ones, detected from its first bad octet', () => {
  const bad = hex(`${MARKER} 0013 04`);
  bad[3] = 0xfe;
  throwsNotification(() => decodeMessage(bad), { code: 1, subcode: 1, data: '', err: 'NA_ERR_BGP_NOT_SYNCHRONIZED' });
  throwsNotification(() => decodeMessage(hex('ffff00')), { code: 1, subcode: 1 });
});

test('1/2: a length below 19 or above the maximum, data = the length field', () => {
  throwsNotification(() => decodeMessage(hex(`${MARKER} 0012`)), { code: 1, subcode: 2, data: '0012', err: 'NA_ERR_BGP_BAD_MESSAGE_LENGTH' });
  throwsNotification(() => decodeMessage(hex(`${MARKER} 1001 02`)), { code: 1, subcode: 2, data: '1001' });
  // With extended messages received, 4097 is fine for an UPDATE (and only more octets are needed).
  assert.equal(decodeMessage(hex(`${MARKER} 1001 02`), createContext({ extendedMessages: true })), null);
});

test('1/2: lengths the message type does not allow', () => {
  throwsNotification(() => decodeMessage(frameHex(4, '00')), { code: 1, subcode: 2, data: '0014' });
  throwsNotification(() => decodeMessage(frameHex(1, '04fde900f0c0000201')), { code: 1, subcode: 2, data: '001c' });
  throwsNotification(() => decodeMessage(frameHex(2, '000000')), { code: 1, subcode: 2, data: '0016' });
  throwsNotification(() => decodeMessage(frameHex(3, '06')), { code: 1, subcode: 2, data: '0014' });
  // OPEN stays within 4096 octets even with extended messages (RFC 8654 §4)
  const big = frameHex(1, Buffer.alloc(4100));
  throwsNotification(() => decodeMessage(big, createContext({ extendedMessages: true })), { code: 1, subcode: 2, data: '1017' });
});

test('1/3: an undefined type, data = the type; ROUTE-REFRESH when route refresh was not advertised', () => {
  throwsNotification(() => decodeMessage(frameHex(0, '')), { code: 1, subcode: 3, data: '00', err: 'NA_ERR_BGP_BAD_MESSAGE_TYPE' });
  throwsNotification(() => decodeMessage(frameHex(6, '00000000')), { code: 1, subcode: 3, data: '06' });
  throwsNotification(() => decodeMessage(frameHex(5, '00010001')), { code: 1, subcode: 3, data: '05' });
  assert.ok(decodeMessage(frameHex(5, '00010001'), createContext({ routeRefresh: true })) !== null);
});

test('decodeMessage returns null until a whole message is there, and reads at an offset', () => {
  const ka = encodeMessage(keepalive());
  const two = Buffer.concat([ka, encodeMessage(notification(6, 2))]);
  for (let n = 0; n < 19; n++) assert.equal(decodeMessage(two.subarray(0, n)), null);
  assert.deepEqual(decodeMessage(two), { message: { type: 'keepalive' }, consumed: 19 });
  assert.deepEqual(decodeMessage(two, undefined, 19), { message: { type: 'notification', code: 6, subcode: 2, data: Buffer.alloc(0) }, consumed: 21 });
  assert.equal(decodeMessage(two.subarray(0, 39), undefined, 19), null);
});

test('encoding beyond the session maximum is refused; extended messages allow 65535', () => {
  const big = notification(6, 0, Buffer.alloc(5000));
  assert.throws(() => encodeMessage(big), (err: Error & { code?: string }) => err.code === 'NA_ERR_BGP_MESSAGE_TOO_LARGE' && /NOTIFICATION: 5021 octets exceed .* 4096/.test(err.message));
  assert.equal(encodeMessage(big, createContext({ extendedMessages: true })).length, 5021);
  assert.throws(() => encodeMessage(notification(6, 0, Buffer.alloc(65535 - 20)), createContext({ extendedMessages: true })), { code: 'NA_ERR_BGP_MESSAGE_TOO_LARGE' });
});

test('ROUTE-REFRESH is only sent to a peer that advertised it', () => {
  assert.throws(() => encodeMessage(routeRefresh('ipv4-unicast')), { code: 'NA_ERR_BGP_INVALID_MESSAGE' });
  assert.deepEqual(encodeMessage(routeRefresh('ipv6-unicast'), createContext({ routeRefresh: true })), hex(`${MARKER} 0017 05 0002 00 01`));
});

test('encoding rejects malformed messages with the path of the field', () => {
  assert.throws(() => encodeMessage({ type: 'open', myAs: 65001, holdTime: 1, routerId: '192.0.2.1', capabilities: [] }), /^NetaccelError: open\.holdTime: expected 0 or 3\.\.65535, got 1$/);
  assert.throws(
    () => encodeMessage({ type: 'update', withdrawn: [], attributes: { origin: 'igp', asPath: [] }, nlri: [{ prefix: '10.0.0.1/8' }] }),
    /update\.attributes\.nextHop: is required with the NLRI field/,
  );
  assert.throws(
    () => encodeMessage({ type: 'update', withdrawn: [{ prefix: '10.0.0.1/8' }], attributes: {}, nlri: [] }),
    /update\.withdrawn\[0\]\.prefix: 10\.0\.0\.1\/8 has host bits set beyond \/8/,
  );
  assert.throws(() => encodeMessage({ type: 'bogus' } as never), /message\.type: unknown type "bogus"/);
});
