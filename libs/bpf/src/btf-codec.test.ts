import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Btf } from './btf.js';
import { CodecRegistry, btfCodec, codecName, decodeBtf, encodeBtf, mapBtfTypes } from './btf-codec.js';
import type { StructCodec } from './btf-codec.js';
import { NA_ERR_BPF_BTF, NA_ERR_BPF_INVALID } from './errors.js';

// fixtures/btf-types.bpf.o: compiled from fixtures/btf-types.bpf.c (committed, see its header).
const BTF = Btf.fromElf(readFileSync(new URL('../fixtures/btf-types.bpf.o', import.meta.url)), 'fixture');
const RECORD = BTF.find('fixture_record', 'struct')!.id;
const INNER = BTF.find('fixture_inner', 'struct')!.id;

/** struct fixture_record laid out by hand (see the offsets in btf-types.bpf.c). */
function recordBytes(): Buffer {
  const b = Buffer.alloc(48);
  b.writeBigUInt64LE(0x0102030405060708n, 0); // id
  b.writeUInt8(1, 8); // inner.a
  b.writeUInt16LE(0x203, 10); // inner.b
  b.writeUInt32LE(5 | (17 << 3), 12); // flags:3 = 5, mode:5 = 17
  b.writeInt32LE(-1, 16); // values
  b.writeInt32LE(2, 20);
  b.writeInt32LE(3, 24);
  b.writeUInt32LE(0x04030201, 28); // u
  b.writeUInt32LE(5, 32); // color = FIXTURE_GREEN
  b.writeBigUInt64LE(0xdeadn, 40); // ptr
  return b;
}

test('decodeBtf: integers, bigint for 8 bytes, nested struct, bitfields, signed arrays, union views, enum names, pointers', () => {
  assert.deepEqual(decodeBtf(BTF, RECORD, recordBytes()), {
    id: 0x0102030405060708n,
    inner: { a: 1, b: 0x203 },
    flags: 5,
    mode: 17,
    values: [-1, 2, 3],
    u: { word: 0x04030201, bytes: [1, 2, 3, 4] },
    color: 'FIXTURE_GREEN',
    ptr: 0xdeadn,
  });
  const unnamed = recordBytes();
  unnamed.writeUInt32LE(9, 32);
  assert.equal((decodeBtf(BTF, RECORD, unnamed) as Record<string, unknown>).color, 9, 'an enum value without a name is its number');
});

test('encodeBtf is the inverse of decodeBtf; fields left out are zero', () => {
  const codec = btfCodec(BTF, RECORD);
  assert.equal(codec.size, 48);
  const bytes = recordBytes();
  assert.deepEqual(codec.encode(codec.decode(bytes)), bytes);
  const partial = codec.encode({ id: 7, mode: 31, color: 'FIXTURE_BLUE', values: [4] });
  assert.deepEqual(codec.decode(partial), {
    id: 7n, inner: { a: 0, b: 0 }, flags: 0, mode: 31, values: [4, 0, 0], u: { word: 0, bytes: [0, 0, 0, 0] }, color: 'FIXTURE_BLUE', ptr: 0n,
  });
  assert.deepEqual(codec.decode(codec.encode({ id: '0x10', inner: { b: '513' } })), codec.decode(codec.encode({ id: 16n, inner: { b: 513 } })), 'integers may be written as text');
});

test('encodeBtf errors start with the path of the bad field', () => {
  const codec = btfCodec(BTF, RECORD);
  const fails = (value: unknown, message: string) =>
    assert.throws(() => codec.encode(value as never), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === message);
  fails({ nope: 1 }, 'value.nope: unknown field; struct fixture_record has id, inner, flags, mode, values, u, color, ptr');
  fails({ flags: 8 }, 'value.flags: expected 0..7, got 8');
  fails({ inner: { b: 70000 } }, 'value.inner.b: expected 0..65535, got 70000');
  fails({ values: [1, 2, 3, 4] }, 'value.values: expected at most 3 elements, got 4');
  fails({ values: [2147483648] }, 'value.values[0]: expected -2147483648..2147483647, got 2147483648');
  fails({ inner: 3 }, 'value.inner: expected an object with the fields of struct fixture_inner, got 3');
  fails({ id: 1.5 }, 'value.id: expected an integer, got 1.5');
  assert.throws(() => codec.decode(Buffer.alloc(10)), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'value: struct fixture_record needs 48 bytes, got 10');
});

test('globals decode through their DATASEC variables', () => {
  const rodata = Buffer.alloc(8);
  rodata.writeUInt16LE(7, 0);
  rodata.writeUInt32LE(1000, 4);
  const vars = BTF.datasecVariables('.rodata');
  assert.deepEqual(vars.map((v) => [v.name, decodeBtf(BTF, v.typeId, rodata, v.offset)]), [['fixture_port', 7], ['fixture_limit', 1000]]);
  const out = Buffer.alloc(8);
  encodeBtf(BTF, vars[1]!.typeId, 4000000000, out, vars[1]!.offset);
  assert.equal(out.readUInt32LE(4), 4000000000);
});

test('the registry: a registered codec wins, its size is checked against the BTF, names are unique', () => {
  const registry = new CodecRegistry();
  const inner: StructCodec<{ a: number; b: number }> = {
    size: 4,
    decode: (b) => ({ a: b[0]!, b: Buffer.from(b).readUInt16LE(2) }),
    encode: (v) => {
      const b = Buffer.alloc(4);
      b[0] = v.a;
      b.writeUInt16LE(v.b, 2);
      return b;
    },
  };
  registry.register('fixture_inner', inner);
  assert.equal(registry.codecFor(BTF, INNER), inner);
  assert.deepEqual(registry.names(), ['fixture_inner']);
  assert.equal(codecName(BTF, INNER), 'fixture_inner');
  assert.notEqual(registry.codecFor(BTF, RECORD), undefined, 'unregistered types get the BTF codec');
  assert.equal(registry.codecFor(BTF, RECORD).size, 48);
  assert.throws(() => registry.register('fixture_inner', inner), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'codecs.fixture_inner: registered already');
  const wrong = new CodecRegistry();
  wrong.register('fixture_inner', { ...inner, size: 6 });
  assert.throws(
    () => wrong.codecFor(BTF, INNER),
    (e: unknown) => NA_ERR_BPF_BTF.is(e) && e.message === 'BTF of fixture: the codec registered for fixture_inner has 6 bytes, the BTF says 4',
  );
  assert.throws(() => registry.register('x', { ...inner, size: 0 }), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /^codecs\.x\.size: expected an integer >= 1/.test(e.message));
});

test('mapBtfTypes: an object without .maps has no typed maps', () => {
  assert.deepEqual(mapBtfTypes(BTF, 'anything'), { key: undefined, value: undefined });
});
