/**
 * BPF layer: typed views against real objects. The selftest's verdict_stats values decode through
 * the BTF codec exactly as the hand-written codec of selftest.fixtures.ts decodes them, and a
 * registered codec is used in its place; map key/value types come from the `.maps` section.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { SELFTEST_COUNTER_LAYOUT, XDP_VERDICT, decodeSelftestCounter, selftestFixtures } from '@netaccel/bpf-programs/selftest/testing';
import { CodecRegistry, codecName, mapBtfTypes } from './btf-codec.js';
import { BpfObject } from './object.js';

const SELFTEST = fileURLToPath(new URL('../../../bpf/build/selftest/selftest.bpf.o', import.meta.url));

test('verdict_stats: key __u32, value struct selftest_counter, decoded per CPU like the TypeScript codec', () => {
  const obj = BpfObject.openFile(SELFTEST);
  try {
    obj.setGlobal('drop_udp_port', 4789);
    obj.load();
    const btf = obj.btf();
    const types = mapBtfTypes(btf, 'verdict_stats');
    assert.equal(codecName(btf, types.key!), '__u32');
    assert.equal(codecName(btf, types.value!), SELFTEST_COUNTER_LAYOUT.name);
    const registry = new CodecRegistry();
    const generic = registry.codecFor(btf, types.value!);
    assert.equal(generic.size, SELFTEST_COUNTER_LAYOUT.size);

    const prog = obj.program('selftest_xdp');
    for (const f of selftestFixtures(4789)) prog.testRun({ data: f.packet, repeat: 3 });
    const key = Buffer.alloc(4);
    key.writeUInt32LE(XDP_VERDICT.DROP);
    const perCpu = obj.map('verdict_stats').lookupPerCpu(key)!;
    assert.deepEqual(perCpu.map((v) => generic.decode(v)), perCpu.map((v) => decodeSelftestCounter(v)));
    assert.ok(perCpu.some((v) => decodeSelftestCounter(v).packets > 0n), 'the drops were counted');

    registry.register(SELFTEST_COUNTER_LAYOUT.name, { size: 16, decode: decodeSelftestCounter, encode: () => Buffer.alloc(16) });
    assert.deepEqual(registry.codecFor(btf, types.value!).decode(perCpu[0]!), decodeSelftestCounter(perCpu[0]!));
    assert.deepEqual(mapBtfTypes(btf, 'selftest.rodata'), { key: undefined, value: undefined }, 'internal maps are not in .maps');
  } finally {
    obj.close();
  }
});
