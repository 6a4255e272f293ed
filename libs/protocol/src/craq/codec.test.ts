import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CRAQ_HEADER_LEN, CRAQ_MAX_VALUE, CRAQ_OPS_WITH_TRAILER, CRAQ_OPS_WITH_VALUE, CRAQ_TRAILER_LEN, CraqFlag, CraqOp, CraqStatus } from './constants.js';
import type { CraqOpCode, CraqStatusCode } from './constants.js';
import { decodeCraq, encodeCraq } from './codec.js';
import type { CraqClientAddress, CraqMessage } from './codec.js';
import { craqWireErrors } from './errors.js';
import { craqReadRequest, craqReply, craqWriteRequest } from './requests.js';

const CLIENT4: CraqClientAddress = { family: 4, address: '10.77.0.9', port: 40000, mac: '02:00:00:00:00:09' };
const CLIENT6: CraqClientAddress = { family: 6, address: 'fd00:77::9', port: 40001, mac: '02:00:00:00:00:0a' };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'no error';
}

test('a WRITE request encodes to the documented layout', () => {
  const msg = craqWriteRequest({ key: 'k', reqId: 0x0102030405060708n, value: Uint8Array.of(0xaa, 0xbb, 0xcc) });
  const b = encodeCraq(msg);
  assert.equal(b.length, CRAQ_HEADER_LEN + 3);
  assert.deepEqual([...b.subarray(0, 8)], [0x4e, 0x43, 1, 2, 0, 0, 0, 3]);
  assert.deepEqual([...b.subarray(8, 16)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(new DataView(b.buffer).getBigUint64(16), msg.keyId);
  assert.equal(new DataView(b.buffer).getUint32(24), msg.keyCheck);
  assert.deepEqual([...b.subarray(40)], [0xaa, 0xbb, 0xcc]);
  assert.deepEqual(decodeCraq(b), msg);
});

test('a PROPAGATE carries the value padded to 4 and the 28-byte client trailer', () => {
  const b = encodeCraq({ op: CraqOp.PROPAGATE, keyId: 7n, version: 9n, epoch: 3, value: Uint8Array.of(1, 2, 3, 4, 5), client: CLIENT4 });
  assert.equal(b.length, CRAQ_HEADER_LEN + 8 + CRAQ_TRAILER_LEN);
  assert.equal(b[5], CraqFlag.CLIENT);
  const t = b.subarray(48);
  assert.deepEqual([...t.subarray(0, 8)], [4, 0, 0x9c, 0x40, 10, 77, 0, 9]);
  assert.deepEqual([...t.subarray(20, 28)], [2, 0, 0, 0, 0, 9, 0, 0]);
  const d = decodeCraq(b);
  assert.deepEqual(d.client, CLIENT4);
  assert.deepEqual([...d.value], [1, 2, 3, 4, 5]);
  assert.deepEqual(decodeCraq(encodeCraq({ op: CraqOp.ACK, version: 9n, client: CLIENT6 })).client, CLIENT6);
});

test('a reply echoes req_id, key and epoch; only an OK READ_REPLY carries the value', () => {
  const req = craqReadRequest({ key: '/a', reqId: 5n, epoch: 2 });
  const ok = craqReply(req, CraqStatus.OK, { version: 4n, value: Uint8Array.of(9) });
  assert.deepEqual(decodeCraq(encodeCraq(ok)), ok);
  assert.equal(ok.op, CraqOp.READ_REPLY);
  const nf = craqReply(req, CraqStatus.NOT_FOUND, { version: 4n, value: Uint8Array.of(9) });
  assert.equal(nf.value.length, 0);
  assert.throws(() => craqReply({ ...req, op: CraqOp.ACK }, CraqStatus.OK), /not a client request/);
});

test('every malformed input is a typed error with its code', () => {
  const good = encodeCraq(craqWriteRequest({ key: 'k', reqId: 1n, value: Uint8Array.of(1, 2) }));
  const mut = (i: number, v: number): Uint8Array => {
    const c = good.slice();
    c[i] = v;
    return c;
  };
  assert.equal(code(() => decodeCraq(good.subarray(0, 39))), 'NA_ERR_CRAQWIRE_TRUNCATED');
  assert.equal(code(() => decodeCraq(good.subarray(0, 41))), 'NA_ERR_CRAQWIRE_TRUNCATED');
  assert.equal(code(() => decodeCraq(mut(0, 0))), 'NA_ERR_CRAQWIRE_BAD_MAGIC');
  assert.equal(code(() => decodeCraq(mut(2, 2))), 'NA_ERR_CRAQWIRE_BAD_VERSION');
  assert.equal(code(() => decodeCraq(mut(3, 9))), 'NA_ERR_CRAQWIRE_UNKNOWN_OP');
  assert.equal(code(() => decodeCraq(mut(3, 0x84))), 'NA_ERR_CRAQWIRE_UNKNOWN_OP');
  assert.equal(code(() => decodeCraq(mut(4, 1))), 'NA_ERR_CRAQWIRE_BAD_STATUS');
  assert.equal(code(() => decodeCraq(mut(5, 0x40))), 'NA_ERR_CRAQWIRE_BAD_FLAGS');
  assert.equal(code(() => decodeCraq(mut(5, CraqFlag.CLIENT))), 'NA_ERR_CRAQWIRE_BAD_FLAGS');
  const big = new Uint8Array(CRAQ_HEADER_LEN + CRAQ_MAX_VALUE + 1);
  big.set(good.subarray(0, 40));
  new DataView(big.buffer).setUint16(6, CRAQ_MAX_VALUE + 1);
  assert.equal(code(() => decodeCraq(big)), 'NA_ERR_CRAQWIRE_VALUE_TOO_LARGE');
  assert.equal(code(() => decodeCraq(mut(3, CraqOp.READ))), 'NA_ERR_CRAQWIRE_UNEXPECTED_VALUE');
  assert.equal(code(() => decodeCraq(Uint8Array.of(...good, 0))), 'NA_ERR_CRAQWIRE_BAD_LENGTH');
  const ack = encodeCraq({ op: CraqOp.ACK, client: CLIENT4 });
  const badFamily = ack.slice();
  badFamily[40] = 5;
  assert.equal(code(() => decodeCraq(badFamily)), 'NA_ERR_CRAQWIRE_BAD_TRAILER');
  const badV4 = ack.slice();
  badV4[50] = 1;
  assert.equal(code(() => decodeCraq(badV4)), 'NA_ERR_CRAQWIRE_BAD_TRAILER');
  const prop = encodeCraq({ op: CraqOp.PROPAGATE, value: Uint8Array.of(1), client: CLIENT4 });
  prop[42] = 1;
  assert.equal(code(() => decodeCraq(prop)), 'NA_ERR_CRAQWIRE_BAD_TRAILER');
  for (const c of ['NA_ERR_CRAQWIRE_TRUNCATED', 'NA_ERR_CRAQWIRE_BAD_TRAILER']) assert.ok(c in craqWireErrors);
});

test('encoding refuses fields out of range, naming the field', () => {
  const bad = (init: Parameters<typeof encodeCraq>[0]): string => code(() => encodeCraq(init));
  assert.equal(bad({ op: 9 as CraqOpCode }), 'NA_ERR_CRAQWIRE_INVALID_MESSAGE');
  assert.equal(bad({ op: CraqOp.READ, epoch: -1 }), 'NA_ERR_CRAQWIRE_INVALID_MESSAGE');
  assert.equal(bad({ op: CraqOp.READ, reqId: 1n << 64n }), 'NA_ERR_CRAQWIRE_INVALID_MESSAGE');
  assert.equal(bad({ op: CraqOp.WRITE, value: new Uint8Array(CRAQ_MAX_VALUE + 1) }), 'NA_ERR_CRAQWIRE_INVALID_MESSAGE');
  assert.equal(bad({ op: CraqOp.READ, value: Uint8Array.of(1) }), 'NA_ERR_CRAQWIRE_INVALID_MESSAGE');
  assert.equal(bad({ op: CraqOp.PROPAGATE }), 'NA_ERR_CRAQWIRE_INVALID_MESSAGE');
  assert.equal(bad({ op: CraqOp.WRITE, client: CLIENT4 }), 'NA_ERR_CRAQWIRE_INVALID_MESSAGE');
  assert.equal(bad({ op: CraqOp.ACK, client: { ...CLIENT4, address: '::1' } }), 'NA_ERR_PACKET_BAD_ADDRESS');
  assert.throws(() => encodeCraq({ op: CraqOp.READ, keyCheck: 2 ** 32 }), /keyCheck/);
});

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const clientArb: fc.Arbitrary<CraqClientAddress> = fc.oneof(
  fc.record({ family: fc.constant(4 as const), address: fc.ipV4(), port: fc.integer({ min: 0, max: 0xffff }), mac: fc.constant('02:00:00:00:00:01') }),
  fc.record({ family: fc.constant(6 as const), address: fc.constant('fd00::1'), port: fc.integer({ min: 0, max: 0xffff }), mac: fc.constant('0a:0b:0c:0d:0e:0f') }),
);
const opArb = fc.constantFrom(...(Object.values(CraqOp) as CraqOpCode[]));
const messageArb: fc.Arbitrary<CraqMessage> = fc
  .record({
    op: opArb,
    status: fc.constantFrom(...(Object.values(CraqStatus) as CraqStatusCode[])),
    fromTail: fc.boolean(),
    tombstone: fc.boolean(),
    reqId: u64,
    keyId: u64,
    keyCheck: fc.integer({ min: 0, max: 0xffffffff }),
    epoch: fc.integer({ min: 0, max: 0xffffffff }),
    version: u64,
    value: fc.uint8Array({ maxLength: CRAQ_MAX_VALUE }),
    client: clientArb,
    readWithClient: fc.boolean(),
  })
  .map((r) => {
    const withClient = CRAQ_OPS_WITH_TRAILER.has(r.op) || (r.op === CraqOp.READ && r.readWithClient);
    const flags = (r.fromTail ? CraqFlag.FROM_TAIL : 0) | (r.tombstone ? CraqFlag.TOMBSTONE : 0) | (withClient ? CraqFlag.CLIENT : 0);
    const m: CraqMessage = {
      op: r.op,
      status: r.op < 0x80 ? 0 : r.status,
      flags,
      reqId: r.reqId,
      keyId: r.keyId,
      keyCheck: r.keyCheck,
      epoch: r.epoch,
      version: r.version,
      value: CRAQ_OPS_WITH_VALUE.has(r.op) ? r.value : new Uint8Array(0),
    };
    return withClient ? { ...m, client: { ...r.client } } : m;
  });

test('property: every valid message round-trips, byte for byte', () => {
  fc.assert(
    fc.property(messageArb, (m) => {
      const b = encodeCraq(m);
      const d = decodeCraq(b);
      assert.deepEqual(d, m);
      assert.deepEqual(encodeCraq(d), b);
    }),
    { numRuns: 400 },
  );
});

test('property: any byte string decodes to a message that re-encodes to it, or throws a CRAQWIRE/PACKET code', () => {
  fc.assert(
    fc.property(messageArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(80), (m, pos, byte, cut) => {
      const b = encodeCraq(m).slice();
      b[pos % b.length] = byte;
      const input = b.subarray(0, Math.max(0, b.length - (cut % 3 === 0 ? cut % 45 : 0)));
      try {
        const d = decodeCraq(input);
        assert.deepEqual(encodeCraq(d), input);
      } catch (err) {
        assert.match((err as { code?: string }).code ?? String(err), /^NA_ERR_CRAQWIRE_/);
      }
    }),
    { numRuns: 1000 },
  );
});
