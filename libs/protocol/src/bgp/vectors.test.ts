// Known-answer vectors: hand-assembled octets, checked both ways (decode to the expected value,
// encode back to the very same octets).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { asSequence } from './as-path.js';
import { createContext } from './context.js';
import { decodeMessage, encodeMessage, keepalive } from './message.js';
import { open } from './open.js';
import type { OpenMessage } from './open.js';
import { endOfRib } from './update.js';
import type { UpdateMessage } from './update.js';
import { hex } from './testing/bytes.js';

const MARKER = 'ffffffffffffffffffffffffffffffff';

test('KEEPALIVE is the 19-octet header alone', () => {
  const bytes = hex(`${MARKER} 0013 04`);
  assert.deepEqual(encodeMessage(keepalive()), bytes);
  assert.deepEqual(decodeMessage(bytes), { message: { type: 'keepalive' }, consumed: 19 });
});

// An OPEN as BIRD 2 sends it for a peer with IPv4 and IPv6 channels, add-path both ways, graceful
// restart, 4-octet AS, enhanced route refresh and long-lived GR (code 71, unknown to us).
const BIRD_OPEN = hex(`${MARKER} 004f 01
  04 fde9 00f0 c0000201 32
  02 30
     01 04 0001 00 01
     01 04 0002 00 01
     02 00
     06 00
     40 0a 0078 0001 01 80 0002 01 80
     41 04 0000fde9
     45 08 0001 01 03 0002 01 03
     46 00
     47 00`);

const BIRD_OPEN_VALUE: OpenMessage = {
  type: 'open',
  myAs: 65001,
  holdTime: 240,
  routerId: '192.0.2.1',
  capabilities: [
    { type: 'multiprotocol', afi: 1, safi: 1 },
    { type: 'multiprotocol', afi: 2, safi: 1 },
    { type: 'route-refresh' },
    { type: 'extended-message' },
    {
      type: 'graceful-restart',
      restarting: false,
      notification: false,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwardingPreserved: true },
        { afi: 2, safi: 1, forwardingPreserved: true },
      ],
    },
    { type: 'four-octet-as', asn: 65001 },
    {
      type: 'add-path',
      families: [
        { afi: 1, safi: 1, send: true, receive: true },
        { afi: 2, safi: 1, send: true, receive: true },
      ],
    },
    { type: 'enhanced-route-refresh' },
    { type: 'unknown', code: 71, value: Buffer.alloc(0) },
  ],
};

test('a BIRD-like OPEN decodes to its capabilities and encodes back to the same octets', () => {
  const d = decodeMessage(BIRD_OPEN);
  assert.ok(d !== null);
  assert.equal(d.consumed, 79);
  assert.deepEqual(d.message, BIRD_OPEN_VALUE);
  assert.deepEqual(encodeMessage(BIRD_OPEN_VALUE), BIRD_OPEN);
});

test('open() builds the same OPEN from options (without the unknown capability)', () => {
  const built = open({
    asn: 65001,
    holdTime: 240,
    routerId: '192.0.2.1',
    families: ['ipv4-unicast', 'ipv6-unicast'],
    extendedMessages: true,
    gracefulRestart: { restartTime: 120, forwardingPreserved: ['ipv4-unicast', 'ipv6-unicast'] },
    addPath: { 'ipv4-unicast': 'both', 'ipv6-unicast': 'both' },
    enhancedRouteRefresh: true,
  });
  const expected = hex(`${MARKER} 004d 01 04 fde9 00f0 c0000201 30 02 2e
    01 04 0001 00 01  01 04 0002 00 01  02 00  06 00  40 0a 0078 0001 01 80 0002 01 80
    41 04 0000fde9  45 08 0001 01 03 0002 01 03  46 00`);
  assert.deepEqual(encodeMessage(built), expected);
});

// UPDATE on a 4-octet AS session: ORIGIN IGP, AS_PATH (65001 65002), NEXT_HOP 192.0.2.1,
// MED 100, COMMUNITIES 65001:100 65001:200, NLRI 198.51.100.0/24 and 203.0.113.5/32.
const UPDATE = hex(`${MARKER} 004a 02
  0000
  002a
    40 01 01 00
    40 02 0a 02 02 0000fde9 0000fdea
    40 03 04 c0000201
    80 04 04 00000064
    c0 08 08 fde90064 fde900c8
  18 c63364
  20 cb007105`);

const UPDATE_VALUE: UpdateMessage = {
  type: 'update',
  withdrawn: [],
  attributes: {
    origin: 'igp',
    asPath: asSequence(65001, 65002),
    nextHop: '192.0.2.1',
    med: 100,
    communities: [(65001 << 16) + 100, (65001 << 16) + 200].map((c) => c >>> 0),
  },
  nlri: [{ prefix: '198.51.100.0/24' }, { prefix: '203.0.113.5/32' }],
};

test('an UPDATE with ORIGIN, AS_PATH, NEXT_HOP, MED, COMMUNITIES and 2 NLRI, octet for octet', () => {
  const ctx = createContext({ asn4: true });
  assert.deepEqual(encodeMessage(UPDATE_VALUE, ctx), UPDATE);
  assert.deepEqual(decodeMessage(UPDATE, ctx), { message: { type: 'update', kind: 'ok', update: UPDATE_VALUE }, consumed: 74 });
});

test('the same UPDATE on a 2-octet AS session carries 2-octet AS numbers', () => {
  const bytes = hex(`${MARKER} 0046 02 0000 0026
    40 01 01 00  40 02 06 02 02 fde9 fdea  40 03 04 c0000201  80 04 04 00000064  c0 08 08 fde90064 fde900c8
    18 c63364 20 cb007105`);
  assert.deepEqual(encodeMessage(UPDATE_VALUE), bytes);
  assert.deepEqual(decodeMessage(bytes)?.message, { type: 'update', kind: 'ok', update: UPDATE_VALUE });
});

test('an IPv6 UPDATE: MP_REACH_NLRI first, 32-octet next hop with link-local, add-path id', () => {
  const ctx = createContext({ asn4: true, families: ['ipv4-unicast', 'ipv6-unicast'], addPath: { send: ['ipv6-unicast'], receive: ['ipv6-unicast'] } });
  const msg: UpdateMessage = {
    type: 'update',
    withdrawn: [],
    attributes: { origin: 'igp', asPath: asSequence(65001) },
    nlri: [],
    mpReach: { family: 'ipv6-unicast', nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: [{ prefix: '2001:db8::/32', pathId: 7 }] },
  };
  const bytes = hex(`${MARKER} 0055 02 0000 003e
    80 0e 2e 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00 00000007 20 20010db8
    40 01 01 00
    40 02 06 02 01 0000fde9`);
  assert.deepEqual(encodeMessage(msg, ctx), bytes);
  assert.deepEqual(decodeMessage(bytes, ctx)?.message, { type: 'update', kind: 'ok', update: msg });
});

test('End-of-RIB markers: an empty UPDATE for IPv4, an empty MP_UNREACH_NLRI for IPv6', () => {
  const ctx = createContext({ families: ['ipv4-unicast', 'ipv6-unicast'] });
  assert.deepEqual(encodeMessage(endOfRib('ipv4-unicast'), ctx), hex(`${MARKER} 0017 02 0000 0000`));
  assert.deepEqual(encodeMessage(endOfRib('ipv6-unicast'), ctx), hex(`${MARKER} 001d 02 0000 0006 80 0f 03 0002 01`));
});
