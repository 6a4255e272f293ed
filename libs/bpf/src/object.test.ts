import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { BtfType } from './btf.js';
import { NA_ERR_BPF_INVALID } from './errors.js';
import { decodeGlobal, encodeGlobal, resolveOpenOptions, verifierSummary } from './object.js';

const u16: BtfType = { id: 1, kind: 'int', name: 'unsigned short', kindFlag: false, vlen: 0, size: 2, int: { signed: false, char: false, bool: false, bits: 16, offset: 0 } };
const s32: BtfType = { id: 2, kind: 'int', name: 'int', kindFlag: false, vlen: 0, size: 4, int: { signed: true, char: false, bool: false, bits: 32, offset: 0 } };
const u64: BtfType = { id: 3, kind: 'int', name: 'unsigned long long', kindFlag: false, vlen: 0, size: 8, int: { signed: false, char: false, bool: false, bits: 64, offset: 0 } };
const rec: BtfType = { id: 4, kind: 'struct', name: 'cfg', kindFlag: false, vlen: 0, size: 3, members: [] };

test('open options: defaults, validation with the field path, frozen result', () => {
  const o = resolveOpenOptions();
  assert.deepEqual({ ...o }, { name: undefined, logger: undefined, verifierLogSize: 1048576, verifierLogLevel: 0 });
  assert.ok(Object.isFrozen(o));
  assert.throws(() => resolveOpenOptions({ verifierLogSize: 3 }), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message.startsWith('open.verifierLogSize: expected'));
  assert.throws(() => resolveOpenOptions({ verifierLogLevel: 7 as 1 }), /open.verifierLogLevel: expected 0, 1 or 2, got 7/);
  assert.throws(() => resolveOpenOptions({ name: '' }), /open.name: expected a non-empty string/);
  assert.throws(() => resolveOpenOptions({ nmae: 'x' } as never), /open.nmae: unknown option/);
});

test('verifierSummary picks the reason, not the statistics', () => {
  const log = [
    'func#0 @0',
    '0: R1=ctx() R10=fp0',
    '; return *(__u16 *)(data + 12) == 0x0008 ? XDP_DROP : XDP_PASS;',
    '2: (69) r1 = *(u16 *)(r1 +12)',
    'invalid access to packet, off=12 size=2, R1(id=0,off=12,r=0)',
    'R1 offset is outside of the packet',
    'processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
    '',
  ].join('\n');
  assert.equal(verifierSummary(log), 'R1 offset is outside of the packet');
  assert.equal(verifierSummary(''), 'no verifier output');
});

test('globals are encoded little-endian with range checks naming the global', () => {
  const out = Buffer.alloc(16, 0xee);
  encodeGlobal('globals.port', u16, 2, 4789, out, 2);
  assert.deepEqual([...out.subarray(0, 5)], [0xee, 0xee, 0xb5, 0x12, 0xee]);
  assert.equal(decodeGlobal(u16, 2, out, 2), 4789);
  encodeGlobal('globals.delta', s32, 4, -2, out, 4);
  assert.equal(decodeGlobal(s32, 4, out, 4), -2);
  encodeGlobal('globals.big', u64, 8, 2n ** 64n - 1n, out, 8);
  assert.equal(decodeGlobal(u64, 8, out, 8), 2n ** 64n - 1n);
  encodeGlobal('globals.flag', u16, 2, true, out, 0);
  assert.equal(decodeGlobal(u16, 2, out, 0), 1);
  assert.throws(() => encodeGlobal('globals.port', u16, 2, 65536, out, 0), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'globals.port: expected 0..65535, got 65536');
  assert.throws(() => encodeGlobal('globals.delta', s32, 4, 2 ** 31, out, 0), /globals.delta: expected -2147483648..2147483647, got 2147483648/);
  assert.throws(() => encodeGlobal('globals.port', u16, 2, 1.5, out, 0), /globals.port: expected an integer, got 1.5/);
  encodeGlobal('globals.cfg', rec, 3, Buffer.from([1, 2, 3]), out, 0);
  assert.deepEqual(decodeGlobal(rec, 3, out, 0), Buffer.from([1, 2, 3]));
  assert.throws(() => encodeGlobal('globals.cfg', rec, 3, Buffer.alloc(2), out, 0), /globals.cfg: expected 3 bytes, got 2/);
  assert.throws(() => encodeGlobal('globals.cfg', rec, 3, 5, out, 0), /globals.cfg: a struct of 3 bytes needs a Buffer/);
});
