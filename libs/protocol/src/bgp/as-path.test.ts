// AS_PATH / AS4_PATH and the 2-octet / 4-octet reconciliation of RFC 6793.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { asPathLength, asSequence, reconcileAs4, reconcileAsPath } from './as-path.js';
import type { AsPath } from './as-path.js';
import { AS_TRANS } from './constants.js';
import { createContext } from './context.js';
import { decodeMessage, encodeMessage } from './message.js';
import type { UpdateMessage } from './update.js';
import { asPathArb } from './testing/arbitraries.js';
import { hex } from './testing/bytes.js';

const OLD = createContext();
const NEW = createContext({ asn4: true });
const T = AS_TRANS;

test('path length: AS_SET counts one, confederation segments none', () => {
  assert.equal(asPathLength([{ type: 'confed-sequence', asns: [1, 2] }, { type: 'sequence', asns: [3, 4, 5] }, { type: 'set', asns: [6, 7] }]), 4);
});

test('reconcile: leading AS_PATH numbers prepended to AS4_PATH (RFC 6793 §4.2.3)', () => {
  assert.deepEqual(reconcileAsPath(asSequence(65010, T, T), asSequence(4200000000, 4200000001)), asSequence(65010, 4200000000, 4200000001));
  // AS_PATH shorter than AS4_PATH: AS_PATH alone
  assert.deepEqual(reconcileAsPath(asSequence(T), asSequence(4200000000, 65001)), asSequence(T));
  // AS_SET counts one; leading confederation segment kept
  const asPath: AsPath = [{ type: 'confed-sequence', asns: [64512] }, { type: 'sequence', asns: [65010, T] }, { type: 'set', asns: [T, 65020] }];
  const as4: AsPath = [{ type: 'sequence', asns: [4200000000] }, { type: 'set', asns: [4200000001, 65020] }];
  assert.deepEqual(reconcileAsPath(asPath, as4), [
    { type: 'confed-sequence', asns: [64512] },
    { type: 'sequence', asns: [65010, 4200000000] },
    { type: 'set', asns: [4200000001, 65020] },
  ]);
});

test('reconcile: AGGREGATOR other than AS_TRANS means AS4_PATH and AS4_AGGREGATOR are ignored', () => {
  const attrs = { origin: 'igp' as const, asPath: asSequence(65010, T), as4Path: asSequence(4200000000), aggregator: { asn: 65010, address: '192.0.2.1' }, as4Aggregator: { asn: 4200000000, address: '192.0.2.9' } };
  assert.deepEqual(reconcileAs4(attrs), { origin: 'igp', asPath: asSequence(65010, T), aggregator: { asn: 65010, address: '192.0.2.1' } });
  const viaTrans = reconcileAs4({ ...attrs, aggregator: { asn: T, address: '192.0.2.1' } });
  assert.deepEqual(viaTrans, { origin: 'igp', asPath: asSequence(65010, 4200000000), aggregator: { asn: 4200000000, address: '192.0.2.9' } });
});

test('a 4-octet path sent on a 2-octet session comes back whole through AS_TRANS and AS4_PATH', () => {
  const msg: UpdateMessage = {
    type: 'update',
    withdrawn: [],
    attributes: { origin: 'igp', asPath: asSequence(4200000000, 65010, 4200000001), nextHop: '192.0.2.1', aggregator: { asn: 4200000002, address: '192.0.2.7' } },
    nlri: [{ prefix: '198.51.100.0/24' }],
  };
  const bytes = encodeMessage(msg, OLD);
  const attrs = hex('40 01 01 00 40 02 08 02 03 5ba0 fdf2 5ba0 40 03 04 c0000201 c0 07 06 5ba0 c0000207 c0 11 0e 02 03 fa56ea00 0000fdf2 fa56ea01 c0 12 08 fa56ea02 c0000207');
  assert.ok(bytes.includes(attrs), bytes.toString('hex'));
  const got = decodeMessage(bytes, OLD)?.message;
  assert.ok(got !== undefined && got.type === 'update' && got.kind === 'ok');
  assert.deepEqual(got.update.attributes.asPath, asSequence(T, 65010, T));
  assert.deepEqual(reconcileAs4(got.update.attributes), msg.attributes);
});

test('property: on a 2-octet session any 4-octet AS path survives encode → decode → reconcileAs4', () => {
  fc.assert(
    fc.property(asPathArb(true, false, 5), (asPath) => {
      const msg: UpdateMessage = { type: 'update', withdrawn: [], attributes: { origin: 'igp', asPath, nextHop: '192.0.2.1' }, nlri: [{ prefix: '10.0.0.0/8' }] };
      const got = decodeMessage(encodeMessage(msg, OLD), OLD)?.message;
      assert.ok(got !== undefined && got.type === 'update' && got.kind === 'ok');
      const merged = reconcileAs4(got.update.attributes).asPath!;
      assert.deepEqual(merged.flatMap((s) => s.asns), asPath.flatMap((s) => s.asns));
      assert.equal(asPathLength(merged), asPathLength(asPath));
    }),
    { numRuns: 300 },
  );
});

test('on a 4-octet session AS4_PATH is never sent', () => {
  assert.throws(
    () => encodeMessage({ type: 'update', withdrawn: [], attributes: { as4Path: asSequence(4200000000) }, nlri: [] }, NEW),
    /update\.attributes\.as4Path: is not sent on a 4-octet AS session/,
  );
});

test('AS 0 and confederation segments to external peers are refused on encoding', () => {
  const send = (asPath: AsPath): Buffer => encodeMessage({ type: 'update', withdrawn: [], attributes: { origin: 'igp', asPath }, nlri: [] }, NEW);
  assert.throws(() => send(asSequence(65001, 0)), /update\.attributes\.asPath\[0\]\.asns\[1\]: expected an AS number 1\.\.4294967295, got 0/);
  assert.throws(() => send([{ type: 'confed-set', asns: [64512] }]), /confederation segments are not sent to an external peer/);
  assert.throws(() => send([{ type: 'set', asns: Array.from({ length: 256 }, (_, i) => i + 1) }]), /a set holds at most 255 AS numbers/);
  // a sequence of 300 is split in two segments
  const long = asSequence(...Array.from({ length: 300 }, (_, i) => i + 1));
  const got = decodeMessage(send(long), NEW)?.message;
  assert.ok(got !== undefined && got.type === 'update' && got.kind === 'ok');
  assert.deepEqual(got.update.attributes.asPath!.map((s) => s.asns.length), [255, 45]);
});
