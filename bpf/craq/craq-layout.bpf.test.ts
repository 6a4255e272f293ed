/**
 * BPF layer: the TypeScript codecs of craq_kern_user.h against the compiled object's BTF (sizes
 * and member offsets), the maps' key and value sizes, and the wire header against the
 * @netaccel/protocol codec's constants.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { BpfObject, Btf, checkStructLayout } from '@netaccel/bpf';
import { craq } from '@netaccel/protocol';
import { CRAQ_LAYOUTS, CRAQ_REQ_RING, keyEntrySize } from './codec.js';
import { CRAQ_OBJECT_PATH } from './craq-harness.js';
import { craqHeaderText, structNames } from './header-text.js';
import { CRAQ_REASON_MAX, CRAQ_STAT_MAX } from './reasons.js';

let obj: BpfObject;
beforeAll(() => {
  obj = BpfObject.openFile(CRAQ_OBJECT_PATH);
});
afterAll(() => obj?.close());

test('every struct of craq_kern_user.h has a codec layout', () => {
  const inHeader = structNames(craqHeaderText('craq_kern_user.h'), 'craq_');
  assert.deepEqual(inHeader, Object.values(CRAQ_LAYOUTS).map((l) => l.name).sort());
});

test('struct sizes and member offsets agree with the BTF', () => {
  const btf = Btf.fromFile(CRAQ_OBJECT_PATH);
  for (const layout of Object.values(CRAQ_LAYOUTS)) assert.deepEqual(checkStructLayout(btf, layout), [], layout.name);
});

test('map key/value sizes and entries match the codecs and the tables', () => {
  const m = (name: string): { k: number; v: number; n: number } => {
    const map = obj.map(name);
    return { k: map.keySize, v: map.valueSize, n: map.maxEntries };
  };
  assert.deepEqual(m('craq_config'), { k: 4, v: CRAQ_LAYOUTS.config.size, n: 1 });
  assert.deepEqual({ ...m('craq_keys'), n: 0 }, { k: 8, v: keyEntrySize(), n: 0 });
  assert.equal(CRAQ_LAYOUTS.key.members.reqs + CRAQ_LAYOUTS.reqRec.size * CRAQ_REQ_RING, m('craq_keys').v, 'craq_key.reqs ends the entry: CRAQ_REQ_RING of the default build (README: the window)');
  assert.deepEqual(m('craq_reasons'), { k: 4, v: CRAQ_LAYOUTS.counter.size, n: CRAQ_REASON_MAX });
  assert.deepEqual(m('craq_stats'), { k: 4, v: CRAQ_LAYOUTS.counter.size, n: CRAQ_STAT_MAX });
});

test('the wire header and trailer match the protocol codec', () => {
  assert.equal(CRAQ_LAYOUTS.hdr.size, craq.CRAQ_HEADER_LEN);
  assert.equal(CRAQ_LAYOUTS.trailer.size, craq.CRAQ_TRAILER_LEN);
  const b = craq.encodeCraq({ op: craq.CraqOp.READ, reqId: 0x0102030405060708n, keyId: 0x1112131415161718n, keyCheck: 0x21222324, epoch: 0x31323334, version: 0x4142434445464748n });
  const h = CRAQ_LAYOUTS.hdr.members;
  assert.equal(b[h.req_id], 0x01);
  assert.equal(b[h.key_id], 0x11);
  assert.equal(b[h.key_check], 0x21);
  assert.equal(b[h.epoch], 0x31);
  assert.equal(b[h.ver], 0x41);
  assert.equal(b[h.op], craq.CraqOp.READ);
});
