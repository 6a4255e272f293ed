import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SessionContext } from './context.js';
import { createContext, maxMessageLength } from './context.js';
import { decodeMessage, encodeMessage } from './message.js';
import type { BgpMessage, ReceivedMessage } from './message.js';
import { capabilityArb, contextArb, messageArb, notificationArb, openArb, routeRefreshArb, updateArb } from './testing/arbitraries.js';

/** Encodes, decodes, and checks the result is the same message, consuming every octet. */
function roundTrip(msg: BgpMessage, ctx: SessionContext): ReceivedMessage {
  const bytes = encodeMessage(msg, ctx);
  assert.ok(bytes.length <= maxMessageLength(ctx, 'send'));
  assert.equal(bytes.readUInt16BE(16), bytes.length);
  const d = decodeMessage(bytes, ctx);
  assert.ok(d !== null);
  assert.equal(d.consumed, bytes.length);
  return d.message;
}

const runs = { numRuns: 300 };

test('UPDATE round trip: attributes, v4/v6 NLRI with path ids, MP_REACH / MP_UNREACH, every context', () => {
  fc.assert(
    fc.property(
      contextArb.chain((ctx) => fc.tuple(fc.constant(ctx), updateArb(ctx))),
      ([ctx, msg]) => {
        const got = roundTrip(msg, ctx);
        assert.equal(got.type, 'update');
        assert.ok(got.type === 'update' && got.kind === 'ok', `expected ok, got ${JSON.stringify(got)}`);
        assert.deepEqual(got.update, msg);
      },
    ),
    { numRuns: 600 },
  );
});

test('OPEN round trip with arbitrary capabilities, including the RFC 9072 extended parameters length', () => {
  fc.assert(
    fc.property(fc.oneof(openArb(), openArb(60)), (msg) => {
      assert.deepEqual(roundTrip(msg, contextWith()), msg);
    }),
    runs,
  );
});

test('capabilities round trip one by one', () => {
  fc.assert(
    fc.property(capabilityArb, (cap) => {
      const msg = { type: 'open' as const, myAs: 65001, holdTime: 90, routerId: '192.0.2.1', capabilities: [cap] };
      assert.deepEqual(roundTrip(msg, contextWith()), msg);
    }),
    runs,
  );
});

test('NOTIFICATION, ROUTE-REFRESH and KEEPALIVE round trip', () => {
  const ctx = contextWith();
  fc.assert(fc.property(notificationArb, (msg) => assert.deepEqual(roundTrip(msg, ctx), msg)), runs);
  fc.assert(fc.property(routeRefreshArb, (msg) => assert.deepEqual(roundTrip(msg, ctx), msg)), runs);
  assert.deepEqual(roundTrip({ type: 'keepalive' }, ctx), { type: 'keepalive' });
});

test('any message, any context: encode → decode → encode gives the same octets', () => {
  fc.assert(
    fc.property(
      contextArb.chain((ctx) => fc.tuple(fc.constant(ctx), messageArb(ctx))),
      ([ctx, msg]) => {
        const bytes = encodeMessage(msg, ctx);
        const got = decodeMessage(bytes, ctx)!.message;
        const again = got.type === 'update' ? (got.kind === 'ok' ? got.update : assert.fail(got.kind)) : got;
        assert.deepEqual(encodeMessage(again, ctx), bytes);
      },
    ),
    runs,
  );
});

function contextWith(): SessionContext {
  return createContext({ routeRefresh: true });
}
