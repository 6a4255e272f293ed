// NOTIFICATION (with RFC 8203 / 9003 shutdown communication) and ROUTE-REFRESH (RFC 2918, 7313).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createContext } from './context.js';
import { NA_ERR_BGP_OPTIONAL_ATTRIBUTE, bgpError } from './errors.js';
import { decodeMessage, encodeMessage } from './message.js';
import { MAX_SHUTDOWN_COMMUNICATION, cease, notification, notificationFor, shutdownCommunication } from './notification.js';
import type { NotificationMessage } from './notification.js';
import { RouteRefreshSubtype, routeRefresh } from './route-refresh.js';
import { frameHex, hex, throwsNotification } from './testing/bytes.js';

const MARKER = 'ffffffffffffffffffffffffffffffff';

test('NOTIFICATION: code, subcode, data octet for octet', () => {
  const bytes = hex(`${MARKER} 0017 03 03 05 c001`);
  const msg = notification(3, 5, hex('c001'));
  assert.deepEqual(encodeMessage(msg), bytes);
  assert.deepEqual(decodeMessage(bytes)?.message, msg);
});

test('Cease with a shutdown communication (RFC 9003): length octet then UTF-8', () => {
  const msg = cease(2, 'maintenance → back at 10:00');
  const text = Buffer.from('maintenance → back at 10:00', 'utf8');
  assert.deepEqual(msg.data, Buffer.concat([Uint8Array.of(text.length), text]));
  const received = decodeMessage(encodeMessage(msg))?.message as NotificationMessage;
  assert.equal(shutdownCommunication(received), 'maintenance → back at 10:00');
  assert.equal(shutdownCommunication(cease(4, '')), undefined);
  assert.equal(shutdownCommunication(cease(4, 'x'.repeat(255))), 'x'.repeat(255));
  assert.throws(() => cease(2, 'é'.repeat(128)), /cease\.communication: 256 octets of UTF-8 exceed 255/);
  assert.throws(() => cease(3, 'bye'), /only subcodes 2 and 4 carry a shutdown communication/);
  assert.equal(MAX_SHUTDOWN_COMMUNICATION, 255);
});

test('a malformed shutdown communication is ignored, not an error (RFC 9003 §4)', () => {
  assert.equal(shutdownCommunication(notification(6, 2, hex('05 6869'))), undefined); // length overruns
  assert.equal(shutdownCommunication(notification(6, 2, hex('02 c328'))), undefined); // invalid UTF-8
  assert.equal(shutdownCommunication(notification(6, 3, hex('02 6869'))), undefined); // not subcode 2 / 4
  assert.equal(shutdownCommunication(notification(6, 4, hex('02 6869'))), 'hi');
  assert.equal((decodeMessage(frameHex(3, '06 02 ff 41'))?.message as NotificationMessage).data.toString('hex'), 'ff41');
});

test('notificationFor: the NOTIFICATION of an error, data cut to fit the message', () => {
  const err = bgpError(NA_ERR_BGP_OPTIONAL_ATTRIBUTE, { data: Buffer.alloc(5000, 1) }, 'UPDATE X', 'too big');
  const n = notificationFor(err);
  assert.deepEqual([n.code, n.subcode, n.data.length], [3, 9, 4096 - 21]);
  assert.equal(encodeMessage(n).length, 4096);
  assert.equal(notificationFor(err, createContext({ extendedMessages: true })).data.length, 5000);
});

test('ROUTE-REFRESH: request, BoRR and EoRR (RFC 7313)', () => {
  const ctx = createContext({ routeRefresh: true });
  for (const subtype of [RouteRefreshSubtype.Request, RouteRefreshSubtype.BeginningOfRouteRefresh, RouteRefreshSubtype.EndOfRouteRefresh]) {
    const msg = routeRefresh('ipv4-unicast', subtype);
    const bytes = encodeMessage(msg, ctx);
    assert.deepEqual(bytes, hex(`${MARKER} 0017 05 0001 0${subtype} 01`));
    assert.deepEqual(decodeMessage(bytes, ctx)?.message, msg);
  }
  assert.deepEqual(routeRefresh({ afi: 25, safi: 70 }), { type: 'route-refresh', afi: 25, safi: 70, subtype: 0 });
});

test('ROUTE-REFRESH length errors: 7/1 with the whole message for BoRR / EoRR, 1/2 for a request', () => {
  const ctx = createContext({ routeRefresh: true });
  const borr = frameHex(5, '0001 01 01 00');
  throwsNotification(() => decodeMessage(borr, ctx), { code: 7, subcode: 1, data: borr.toString('hex'), err: 'NA_ERR_BGP_ROUTE_REFRESH_LENGTH' });
  throwsNotification(() => decodeMessage(frameHex(5, '0001 00 01 00'), ctx), { code: 1, subcode: 2, data: '0018' });
  // another subtype is decoded (and must be ignored by the receiver), whatever its length
  assert.deepEqual(decodeMessage(frameHex(5, '0001 07 01 0000'), ctx)?.message, { type: 'route-refresh', afi: 1, safi: 1, subtype: 7 });
});
