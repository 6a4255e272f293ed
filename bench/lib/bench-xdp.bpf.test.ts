/**
 * BPF (BPF_PROG_TEST_RUN): the switch of bench_xdp.h as the benches' programs use it, compiled
 * from their sources with benchBpfArgs: xdp_switch (bench/xlb, counters 0 redirected / 1 passed)
 * and craq_switch (bench/craq, 2 / 3). A frame to a MAC in fdb is redirected to its port and
 * counted with its length; any other passes and is counted apart.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject, XDP_ACTION } from '@netaccel/bpf';
import { benchBpfArgs, runBuild } from './native-build.js';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
const PROGRAMS = [
  { src: join(BENCH, 'xlb', 'bench-progs.bpf.c'), name: 'xdp_switch', redirected: 0, passed: 1 },
  { src: join(BENCH, 'craq', 'craq-bench-progs.bpf.c'), name: 'craq_switch', redirected: 2, passed: 3 },
] as const;

const KNOWN = [0x02, 0x71, 0x64, 0x78, 0x00, 0x01];
const UNKNOWN = [0x02, 0x71, 0x64, 0x78, 0x00, 0x02];
const PORT = 7;

/** An Ethernet frame of `length` bytes to `dst`. */
function frame(dst: readonly number[], length: number): Buffer {
  const f = Buffer.alloc(length);
  Buffer.from(dst).copy(f, 0);
  Buffer.from([0x02, 0x71, 0x64, 0x78, 0x00, 0x09]).copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  return f;
}

/** fdb's key: the MAC in the low 6 bytes of a __u64, in the frame's byte order. */
const macKey = (mac: readonly number[]): Buffer => Buffer.concat([Buffer.from(mac), Buffer.alloc(2)]);

/** A counter of stats summed over the CPUs: [packets, bytes]. */
function counter(obj: BpfObject, key: number): [bigint, bigint] {
  const k = Buffer.alloc(4);
  k.writeUInt32LE(key);
  const perCpu = obj.map('stats').lookupPerCpu(k) ?? [];
  return perCpu.reduce<[bigint, bigint]>(([p, b], v) => [p + v.readBigUInt64LE(0), b + v.readBigUInt64LE(8)], [0n, 0n]);
}

describe('bench_switch (bench_xdp.h)', () => {
  for (const p of PROGRAMS) {
    test(`${p.name}: redirects a known destination MAC to its port, passes the rest, counts both`, (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'qdx-bench-xdp-'));
      t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const out = join(dir, 'progs.bpf.o');
      runBuild('clang', benchBpfArgs(p.src, out));
      const obj = BpfObject.openFile(out);
      t.onTestFinished(() => obj.close());
      obj.load();
      const port = Buffer.alloc(4);
      port.writeUInt32LE(PORT);
      obj.map('fdb').update(macKey(KNOWN), port);
      const prog = obj.program(p.name);

      assert.equal(prog.testRun({ data: frame(KNOWN, 60) }).retval, XDP_ACTION.REDIRECT);
      assert.equal(prog.testRun({ data: frame(KNOWN, 100) }).retval, XDP_ACTION.REDIRECT);
      assert.equal(prog.testRun({ data: frame(UNKNOWN, 64) }).retval, XDP_ACTION.PASS);
      assert.equal(prog.testRun({ data: frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 42) }).retval, XDP_ACTION.PASS);

      assert.deepEqual(counter(obj, p.redirected), [2n, 160n]);
      assert.deepEqual(counter(obj, p.passed), [2n, 106n]);
    });
  }
});
