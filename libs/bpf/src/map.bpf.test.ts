/**
 * BPF layer: map operations against the kernel — per-CPU values of the selftest's counters, and
 * hash / per-CPU hash / array maps made with bpf_map_create for update flags, delete, iteration,
 * batches, size errors, a full map and pinning.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SELFTEST_COUNTER_LAYOUT, XDP_VERDICT, decodeSelftestCounter, selftestFixtures } from '@netaccel/bpf-programs/selftest/testing';
import { ensureBpffs } from './bpffs.js';
import {
  NA_ERR_BPF_EXISTS, NA_ERR_BPF_INVALID, NA_ERR_BPF_KEY_SIZE, NA_ERR_BPF_MAP_FULL, NA_ERR_BPF_NOT_FOUND, NA_ERR_BPF_VALUE_SIZE,
} from './errors.js';
import { BpfMap } from './map.js';
import { BpfObject } from './object.js';
import { BpfProgram } from './program.js';

const SELFTEST = fileURLToPath(new URL('../../../bpf/build/selftest/selftest.bpf.o', import.meta.url));
const PIN_DIR = `/sys/fs/bpf/netaccel-test-${process.pid}-map`;
const REPO = fileURLToPath(new URL('../../..', import.meta.url));

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}
function counter(packets: bigint, bytes: bigint): Buffer {
  return Buffer.concat([u64(packets), u64(bytes)]);
}

describe('per-CPU counters of the selftest', () => {
  let obj: BpfObject;
  beforeAll(() => {
    obj = BpfObject.openFile(SELFTEST);
    obj.setGlobal('drop_udp_port', 9);
    obj.load();
  });
  afterAll(() => obj.close());

  test('one value per possible CPU, value size rounded to 8; updatePerCpu writes each CPU', () => {
    const stats = obj.map('verdict_stats');
    assert.equal(stats.perCpuStride, 16);
    const drop = selftestFixtures(9)[0]!;
    obj.program('selftest_xdp').testRun({ data: drop.packet, repeat: 7 });
    const before = stats.lookupPerCpu(u32(XDP_VERDICT.DROP))!.map((b) => decodeSelftestCounter(b));
    assert.equal(before.reduce((s, c) => s + c.packets, 0n), 7n);

    const values = Array.from({ length: stats.cpus }, (_, cpu) => counter(BigInt(cpu + 1), BigInt(100 * (cpu + 1))));
    stats.updatePerCpu(u32(XDP_VERDICT.DROP), values);
    assert.deepEqual(stats.lookupPerCpu(u32(XDP_VERDICT.DROP)), values);
    stats.updatePerCpu(u32(XDP_VERDICT.DROP), counter(0n, 0n)); // one value for every CPU
    assert.ok(stats.lookupPerCpu(u32(XDP_VERDICT.DROP))!.every((b) => b.equals(counter(0n, 0n))));

    const keys = [...stats.keys()].map((k) => k.readUInt32LE());
    assert.deepEqual(keys, [0, 1, 2, 3, 4]);
    assert.deepEqual([...stats.keys(u32(2))].map((k) => k.readUInt32LE()), [3, 4], 'resumed after a key');
    assert.throws(() => [...stats.keys(Buffer.alloc(8))], (e: unknown) => NA_ERR_BPF_KEY_SIZE.is(e));
    assert.equal([...stats.entriesPerCpu()].length, 5);
    const batch = stats.lookupBatch(2);
    assert.equal(batch.length, 5);
    assert.deepEqual(stats.splitPerCpu(batch[1]![1]), stats.lookupPerCpu(u32(1)));
  });

  test('size and kind errors are caught before the syscall', () => {
    const stats = obj.map('verdict_stats');
    assert.throws(() => stats.lookupPerCpu(Buffer.alloc(8)), (e: unknown) => NA_ERR_BPF_KEY_SIZE.is(e) && e.message === 'map verdict_stats: key has 8 bytes, expected 4');
    assert.throws(() => stats.updatePerCpu(u32(0), Buffer.alloc(SELFTEST_COUNTER_LAYOUT.size - 1)), (e: unknown) => NA_ERR_BPF_VALUE_SIZE.is(e) && /value has 15 bytes, expected 16/.test(e.message));
    assert.throws(() => stats.updatePerCpu(u32(0), [counter(1n, 1n)].concat(Array.from({ length: stats.cpus }, () => counter(1n, 1n)))), (e: unknown) => NA_ERR_BPF_VALUE_SIZE.is(e));
    assert.throws(() => stats.lookup(u32(0)), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /per-CPU, use lookupPerCpu/.test(e.message));
    assert.throws(() => stats.updatePerCpu(u32(99), counter(0n, 0n)), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /index out of range 0..4/.test(e.message));
  });
});

describe('maps made with bpf_map_create', () => {
  test('hash: update flags, lookup, delete, iteration', () => {
    const m = BpfMap.create({ type: 'hash', name: 'na_test_hash', keySize: 4, valueSize: 8, maxEntries: 3 });
    try {
      assert.equal(m.lookup(u32(1)), undefined);
      m.update(u32(1), u64(10n));
      m.update(u32(2), u64(20n), 'noexist');
      assert.throws(() => m.update(u32(2), u64(21n), 'noexist'), (e: unknown) => NA_ERR_BPF_EXISTS.is(e) && e.kind === 'already-exists');
      assert.throws(() => m.update(u32(7), u64(70n), 'exist'), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e));
      m.update(u32(2), u64(22n), 'exist');
      assert.deepEqual(m.lookup(u32(2)), u64(22n));
      m.update(u32(3), u64(30n));
      assert.throws(() => m.update(u32(4), u64(40n)), (e: unknown) => NA_ERR_BPF_MAP_FULL.is(e) && e.message === 'map na_test_hash is full (3 entries)');
      const entries = [...m.entries()].map(([k, v]) => [k.readUInt32LE(), v.readBigUInt64LE()]).sort((a, b) => Number(a[0]) - Number(b[0]));
      assert.deepEqual(entries, [[1, 10n], [2, 22n], [3, 30n]]);
      assert.equal(m.delete(u32(2)), true);
      assert.equal(m.delete(u32(2)), false);
      assert.equal([...m.keys()].length, 2);
      assert.throws(() => m.update(u32(1), Buffer.alloc(4)), (e: unknown) => NA_ERR_BPF_VALUE_SIZE.is(e));
      assert.throws(() => m.delete(Buffer.alloc(2)), (e: unknown) => NA_ERR_BPF_KEY_SIZE.is(e));
      const info = m.info();
      assert.deepEqual([info.name, info.typeName, info.keySize, info.valueSize, info.maxEntries], ['na_test_hash', 'hash', 4, 8, 3]);
    } finally {
      m.close();
    }
  });

  test('batch update and lookup, per-CPU hash included', () => {
    const m = BpfMap.create({ type: 'percpu_hash', name: 'na_test_pch', keySize: 4, valueSize: 4, maxEntries: 64 });
    try {
      assert.equal(m.perCpuStride, 8, 'a 4-byte per-CPU value takes 8 bytes per CPU');
      const entries = Array.from({ length: 40 }, (_, i) => [u32(i), u32(i * 3)] as const);
      m.updateBatch(entries);
      const got = m.lookupBatch(16).map(([k, v]) => [k.readUInt32LE(), m.splitPerCpu(v).map((b) => b.readUInt32LE())] as const);
      assert.equal(got.length, 40);
      for (const [k, perCpu] of got) assert.deepEqual(perCpu, Array.from({ length: m.cpus }, () => k * 3));
      assert.deepEqual(m.lookupPerCpu(u32(5))!.map((b) => b.readUInt32LE()), Array.from({ length: m.cpus }, () => 15));
      m.updateBatch([[u32(5), u32(1)]]);
      assert.deepEqual(m.lookupPerCpu(u32(5))!.map((b) => b.readUInt32LE()), Array.from({ length: m.cpus }, () => 1), 'batches overwrite');
    } finally {
      m.close();
    }
  });

  test('packed batch update: one syscall on contiguous keys and values, array and per-CPU; sizes checked before the syscall', () => {
    const arr = BpfMap.create({ type: 'array', name: 'na_test_pack', keySize: 4, valueSize: 4, maxEntries: 70_000 });
    const pc = BpfMap.create({ type: 'percpu_array', name: 'na_test_pcpk', keySize: 4, valueSize: 4, maxEntries: 8 });
    try {
      const n = 65_537;
      const keys = Buffer.alloc(4 * n);
      const values = Buffer.alloc(4 * n);
      for (let i = 0; i < n; i++) {
        keys.writeUInt32LE(i, 4 * i);
        values.writeUInt32LE((i * 7919) >>> 0, 4 * i);
      }
      arr.updateBatchPacked(n, keys, values);
      for (const i of [0, 1, 4096, n - 1]) assert.equal(arr.lookup(u32(i))!.readUInt32LE(), (i * 7919) >>> 0, `entry ${i}`);
      assert.equal(arr.lookup(u32(n))!.readUInt32LE(), 0, 'nothing written past the batch');
      assert.throws(() => arr.updateBatchPacked(2, Buffer.alloc(7), Buffer.alloc(8)), (e: unknown) => NA_ERR_BPF_KEY_SIZE.is(e));
      assert.throws(() => arr.updateBatchPacked(2, Buffer.alloc(8), Buffer.alloc(9)), (e: unknown) => NA_ERR_BPF_VALUE_SIZE.is(e));
      assert.throws(() => arr.updateBatchPacked(1, u32(70_000), u32(1)), (e: unknown) => (e as { details?: { applied?: number } }).details?.applied === 0, 'an index past the array fails, nothing applied');
      assert.equal(arr.lookup(u32(0))!.readUInt32LE(), 0, 'a refused batch leaves the map as it was');
      arr.updateBatchPacked(0, Buffer.alloc(0), Buffer.alloc(0));

      // per-CPU: one value per key for every CPU, or every CPU's slot given
      pc.updateBatchPacked(2, Buffer.concat([u32(1), u32(2)]), Buffer.concat([u32(11), u32(22)]));
      assert.deepEqual(pc.lookupPerCpu(u32(2))!.map((b) => b.readUInt32LE()), Array.from({ length: pc.cpus }, () => 22));
      const slots = Buffer.alloc(pc.perCpuStride * pc.cpus);
      for (let cpu = 0; cpu < pc.cpus; cpu++) slots.writeUInt32LE(100 + cpu, cpu * pc.perCpuStride);
      pc.updateBatchPacked(1, u32(3), slots);
      assert.deepEqual(pc.lookupPerCpu(u32(3))!.map((b) => b.readUInt32LE()), Array.from({ length: pc.cpus }, (_, cpu) => 100 + cpu));
    } finally {
      arr.close();
      pc.close();
    }
  });

  test('pin, open the pin in another handle, unpin', () => {
    ensureBpffs();
    const path = `${PIN_DIR}/arr`;
    const m = BpfMap.create({ type: 'array', name: 'na_test_arr', keySize: 4, valueSize: 8, maxEntries: 4 });
    try {
      m.update(u32(3), u64(33n));
      m.pin(path);
      const again = BpfMap.openPinned(path);
      try {
        assert.deepEqual([again.name, again.keySize, again.valueSize, again.maxEntries], ['na_test_arr', 4, 8, 4]);
        assert.deepEqual(again.lookup(u32(3)), u64(33n));
        again.update(u32(0), u64(1n));
        assert.deepEqual(m.lookup(u32(0)), u64(1n), 'both handles see one map');
      } finally {
        again.close();
      }
      assert.throws(() => BpfProgram.openPinned(path), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /is a map, not a program/.test(e.message));
      m.unpin(path);
      assert.equal(existsSync(path), false);
      assert.throws(() => BpfMap.openPinned(path), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e));
    } finally {
      m.close();
      rmSync(PIN_DIR, { recursive: true, force: true });
    }
  });

  test('invalid specs are rejected with the field path', () => {
    assert.throws(() => BpfMap.create({ type: 'nope' as 'hash', keySize: 4, valueSize: 4, maxEntries: 1 }), /type: expected one of hash, array/);
    assert.throws(() => BpfMap.create({ type: 'hash', name: 'much_too_long_name', keySize: 4, valueSize: 4, maxEntries: 1 }), /name: expected up to 15 characters/);
    assert.throws(() => BpfMap.create({ type: 'hash', keySize: -1, valueSize: 4, maxEntries: 1 }), /keySize: expected an integer/);
  });
});

describe('without privileges', () => {
  test('creating a map or loading an object as nobody is NA_ERR_BPF_PERM', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'netaccel-bpf-perm-'));
    chmodSync(tmp, 0o777);
    try {
      const index = fileURLToPath(new URL('./index.ts', import.meta.url));
      const script = [
        `import { BpfMap, BpfObject } from ${JSON.stringify(index)};`,
        'const out = [];',
        "try { BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 }); out.push('created'); } catch (e) { out.push({ code: e.code, kind: e.kind, message: e.message }); }",
        `const o = BpfObject.openFile(${JSON.stringify(SELFTEST)});`,
        'try { o.load(); out.push("loaded"); } catch (e) { out.push({ code: e.code, kind: e.kind }); } finally { o.close(); }',
        'console.log(JSON.stringify(out));',
      ].join('\n');
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        uid: 65534, gid: 65534, encoding: 'utf8', cwd: REPO, env: { ...process.env, HOME: tmp, TMPDIR: tmp },
      });
      assert.equal(r.status, 0, r.stderr);
      const [create, load] = JSON.parse(r.stdout) as { code: string; kind: string; message?: string }[];
      assert.deepEqual({ ...create, message: undefined }, { code: 'NA_ERR_BPF_PERM', kind: 'permission-denied', message: undefined });
      assert.match(create!.message!, /^bpf_map_create\(hash\): Operation not permitted \(EPERM\); BPF needs root/);
      assert.deepEqual(load, { code: 'NA_ERR_BPF_PERM', kind: 'permission-denied' });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
