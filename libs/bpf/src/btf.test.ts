import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Btf, checkStructLayout } from './btf.js';
import { ElfFile } from './elf.js';
import { NA_ERR_BPF_BTF, NA_ERR_BPF_NOT_FOUND } from './errors.js';

// fixtures/btf-types.bpf.o: compiled from fixtures/btf-types.bpf.c (committed, see its header).
const FIXTURE = readFileSync(new URL('../fixtures/btf-types.bpf.o', import.meta.url));

test('ElfFile finds the sections and symbols of a BPF object', () => {
  const elf = ElfFile.parse(FIXTURE, 'fixture');
  assert.equal(elf.littleEndian, true);
  for (const name of ['.BTF', '.rodata', '.data', '.bss', 'license', '.symtab']) assert.ok(elf.section(name), name);
  assert.equal(elf.section('.rodata')!.size, 8);
  const limit = elf.symbols().find((s) => s.name === 'fixture_limit');
  assert.deepEqual({ value: limit?.value, size: limit?.size, binding: limit?.binding }, { value: 4, size: 4, binding: 1 });
  assert.equal(limit?.sectionIndex, elf.section('.rodata')!.index);
});

test('struct layout: offsets, sizes, bitfields, nested struct, union, enum, pointer', () => {
  const btf = Btf.fromElf(FIXTURE, 'fixture');
  const rec = btf.structLayout('fixture_record');
  assert.equal(rec.size, 48);
  assert.deepEqual(
    rec.members.map((m) => [m.name, m.offset, m.bitOffset, m.bitSize, m.size, m.type]),
    [
      ['id', 0, 0, 0, 8, '__u64'],
      ['inner', 8, 64, 0, 4, 'struct fixture_inner'],
      ['flags', 12, 96, 3, 4, '__u32'],
      ['mode', 12, 99, 5, 4, '__u32'],
      ['values', 16, 128, 0, 12, '__s32[3]'],
      ['u', 28, 224, 0, 4, 'union (anon)'],
      ['color', 32, 256, 0, 4, 'enum fixture_color'],
      ['ptr', 40, 320, 0, 8, 'const volatile __u16 *'],
    ],
  );
  assert.deepEqual(btf.structLayout('fixture_inner').members.map((m) => m.offset), [0, 2]);
  const color = btf.find('fixture_color', 'enum');
  assert.deepEqual(color?.enumValues?.map((v) => [v.name, v.value]), [['FIXTURE_RED', 0n], ['FIXTURE_GREEN', 5n], ['FIXTURE_BLUE', 4294967295n]]);
  const u16 = btf.resolve(btf.find('__u16', 'typedef')!.id);
  assert.deepEqual([u16.kind, u16.size, u16.int?.signed], ['int', 2, false]);
});

test('fromElf fills in DATASEC sizes and variable offsets that clang leaves 0', () => {
  const raw = Btf.parse(ElfFile.parse(FIXTURE).sectionData('.BTF')!, 'raw');
  assert.deepEqual(raw.datasecVariables('.rodata').map((v) => v.offset), [0, 0], 'clang 14 emits zero offsets');
  assert.equal(raw.find('.rodata', 'datasec')?.size, 0);
  const btf = Btf.fromElf(FIXTURE, 'fixture');
  assert.deepEqual(btf.datasecVariables('.rodata'), [
    { name: 'fixture_port', typeId: btf.find('fixture_port', 'var')!.id, offset: 0, size: 2 },
    { name: 'fixture_limit', typeId: btf.find('fixture_limit', 'var')!.id, offset: 4, size: 4 },
  ]);
  assert.equal(btf.find('.rodata', 'datasec')?.size, 8);
  assert.equal(btf.sizeOf(btf.find('fixture_record', 'var')!.id), 48);
});

test('checkStructLayout reports every difference between a codec and the BTF', () => {
  const btf = Btf.fromElf(FIXTURE, 'fixture');
  assert.deepEqual(checkStructLayout(btf, { name: 'fixture_inner', size: 4, members: { a: 0, b: 2 } }), []);
  assert.deepEqual(checkStructLayout(btf, { name: 'fixture_inner', size: 8, members: { a: 0, b: 1, c: 4 } }), [
    'struct fixture_inner: size is 4 bytes, the codec says 8',
    'struct fixture_inner.b: offset is 2, the codec says 1',
    'struct fixture_inner.c: in the codec, not in the BTF',
  ]);
  assert.deepEqual(checkStructLayout(btf, { name: 'fixture_inner', size: 4, members: { a: 0 } }), [
    'struct fixture_inner.b: at offset 2, missing from the codec',
  ]);
  assert.deepEqual(checkStructLayout(btf, { name: 'nope', size: 1, members: {} }), ['struct nope: not in the BTF of fixture']);
});

test('malformed BTF and ELF fail with NA_ERR_BPF_BTF, unknown names with NOT_FOUND', () => {
  const btfBytes = ElfFile.parse(FIXTURE).sectionData('.BTF')!;
  assert.throws(() => Btf.parse(btfBytes.subarray(0, 10), 'short'), (e: unknown) => NA_ERR_BPF_BTF.is(e) && /shorter than a BTF header/.test(e.message));
  const badMagic = Buffer.from(btfBytes);
  badMagic[0] = 0;
  assert.throws(() => Btf.parse(badMagic, 'm'), (e: unknown) => NA_ERR_BPF_BTF.is(e) && /bad magic/.test(e.message));
  const truncated = Buffer.from(btfBytes);
  truncated.writeUInt32LE(truncated.readUInt32LE(12) + 400, 12); // type_len beyond the data
  assert.throws(() => Btf.parse(truncated, 't'), (e: unknown) => NA_ERR_BPF_BTF.is(e) && /past the end/.test(e.message));
  assert.throws(() => ElfFile.parse(Buffer.from('not an elf file, clearly not one at all, no no no no no no no no')), (e: unknown) => NA_ERR_BPF_BTF.is(e) && /no ELF magic/.test(e.message));
  const btf = Btf.fromElf(FIXTURE, 'fixture');
  assert.throws(() => btf.structLayout('missing'), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e));
  assert.throws(() => btf.type(9999), (e: unknown) => NA_ERR_BPF_BTF.is(e) && /out of range/.test(e.message));
});
