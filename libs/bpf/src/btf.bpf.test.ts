/**
 * BPF layer (needs the toolchain and libbpf): the committed BTF fixture still matches its source,
 * and the TypeScript ELF fix-up of DATASEC offsets agrees with libbpf's own.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Btf } from './btf.js';
import { BpfObject } from './object.js';

const SOURCE = fileURLToPath(new URL('../fixtures/btf-types.bpf.c', import.meta.url));
const COMMITTED = fileURLToPath(new URL('../fixtures/btf-types.bpf.o', import.meta.url));

function layoutsOf(btf: Btf): unknown {
  const structs = btf.types.filter((t) => (t.kind === 'struct' || t.kind === 'union') && t.name !== '').map((t) => btf.structLayout(t.name));
  const secs = btf.types.filter((t) => t.kind === 'datasec').map((t) => [t.name, t.size, btf.datasecVariables(t.name).map((v) => [v.name, v.offset, v.size])]);
  return { structs, secs };
}

describe('BTF fixture', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netaccel-bpf-btf-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the committed object matches a fresh compile of its source', () => {
    const fresh = join(dir, 'btf-types.bpf.o');
    execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-Wall', '-Wextra', '-Werror', '-c', SOURCE, '-o', fresh]);
    assert.deepEqual(layoutsOf(Btf.fromFile(fresh)), layoutsOf(Btf.fromFile(COMMITTED)), 'regenerate fixtures/btf-types.bpf.o (see its source)');
  });

  test("Btf.fromElf fills in DATASEC sizes and offsets exactly as libbpf does", () => {
    const obj = BpfObject.openBuffer(readFileSync(COMMITTED), { name: 'btf_types' });
    try {
      const fromLibbpf = obj.btf();
      const fromElf = Btf.fromFile(COMMITTED);
      for (const sec of ['.rodata', '.data', '.bss']) {
        assert.deepEqual(fromElf.datasecVariables(sec), fromLibbpf.datasecVariables(sec), sec);
        assert.equal(fromElf.find(sec, 'datasec')?.size, fromLibbpf.find(sec, 'datasec')?.size, `${sec} size`);
      }
      assert.equal(obj.getGlobal('fixture_limit'), 1000);
      assert.equal(obj.getGlobal('fixture_port'), 7);
      obj.setGlobal('fixture_limit', 4000000000);
      assert.equal(obj.getGlobal('fixture_limit'), 4000000000);
      assert.equal(obj.getGlobal('fixture_port'), 7, 'the neighbour is untouched');
      assert.equal(obj.getGlobal('fixture_counter'), 0n);
    } finally {
      obj.close();
    }
  });
});
