/**
 * BPF layer: program info against bpftool's view of the same program, run-time statistics,
 * pinning and reopening a program, and the errors of BPF_PROG_TEST_RUN.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { XDP_VERDICT, selftestFixtures } from '@netaccel/bpf-programs/selftest/testing';
import { ensureBpffs } from './bpffs.js';
import { NA_ERR_BPF_INVALID, NA_ERR_BPF_NOT_FOUND, NA_ERR_BPF_TEST_RUN } from './errors.js';
import { BpfObject } from './object.js';
import { BpfProgram, enableRunTimeStats } from './program.js';

const SELFTEST = fileURLToPath(new URL('../../../bpf/build/selftest/selftest.bpf.o', import.meta.url));
const PIN_DIR = `/sys/fs/bpf/netaccel-test-${process.pid}-prog`;

describe('programs', () => {
  let obj: BpfObject;
  beforeAll(() => {
    obj = BpfObject.openFile(SELFTEST).load();
  });
  afterAll(() => {
    obj.close();
    rmSync(PIN_DIR, { recursive: true, force: true });
  });

  test('info() agrees with bpftool about id, name, type and tag', () => {
    const info = obj.program('selftest_xdp').info();
    const shown = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(info.id)], { encoding: 'utf8' })) as Record<string, unknown>;
    assert.equal(shown.id, info.id);
    assert.equal(shown.name, info.name);
    assert.equal(shown.type, info.typeName);
    assert.equal(shown.tag, info.tag);
    assert.equal(shown.bytes_xlated, info.xlatedBytes);
    assert.equal(info.name, 'selftest_xdp');
    assert.equal(info.typeName, 'xdp');
  });

  test('with run-time stats enabled, test runs are counted and timed', () => {
    const prog = obj.program('selftest_xdp');
    const pass = selftestFixtures(9)[1]!;
    const stats = enableRunTimeStats();
    try {
      const before = prog.info();
      prog.testRun({ data: pass.packet, repeat: 1000 });
      const after = prog.info();
      const counted = after.runCount - before.runCount;
      assert.ok(counted >= 1000n, `run count grew by ${counted}`);
      assert.ok(after.runTimeNs > before.runTimeNs);
    } finally {
      stats.close();
      stats.close();
    }
  });

  test('a pinned program can be reopened and run by path', () => {
    ensureBpffs();
    const path = `${PIN_DIR}/selftest_xdp`;
    const prog = obj.program('selftest_xdp');
    prog.pin(path);
    const again = BpfProgram.openPinned(path);
    try {
      assert.equal(again.name, 'selftest_xdp');
      assert.equal(again.typeName, 'xdp');
      assert.equal(again.info().id, prog.info().id);
      const drop = selftestFixtures(9)[0]!;
      assert.equal(again.testRun({ data: drop.packet }).retval, XDP_VERDICT.DROP);
    } finally {
      again.close();
      again.close();
      prog.unpin(path);
    }
    assert.throws(() => BpfProgram.openPinned(path), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e));
  });

  test('runs one after another answer their own packet and context (the native block is reused), a big one too', () => {
    const prog = obj.program('selftest_xdp');
    const pass = selftestFixtures(9)[1]!.packet;
    const long = Buffer.concat([pass, Buffer.alloc(900, 0xab)]); // the program passes it unchanged
    const first = prog.testRun({ data: long });
    assert.equal(first.retval, XDP_VERDICT.PASS);
    assert.deepEqual(first.data, long);
    const second = prog.testRun({ data: pass });
    assert.deepEqual(second.data, pass);
    assert.deepEqual(first.data, long, 'an answer is a copy, not a view of the next run');
    const big = prog.testRun({ data: pass, dataOutSize: 300_000 }); // beyond the kept block: its own
    assert.deepEqual(big.data, pass);
    // struct xdp_md in and out: data 0, data_end the packet's length
    const md = Buffer.alloc(24);
    md.writeUInt32LE(pass.length, 4);
    const withCtx = prog.testRun({ data: pass, ctx: md });
    assert.equal(withCtx.ctx?.length, 24);
    assert.equal(withCtx.ctx!.readUInt32LE(4), pass.length);
    assert.equal(prog.testRun({ data: pass }).ctx, undefined);
    assert.equal(prog.testRun({ data: selftestFixtures(9)[0]!.packet }).retval, XDP_VERDICT.DROP);
  });

  test('test-run errors: packet too short, output too small, bad options', () => {
    const prog = obj.program('selftest_xdp');
    assert.throws(() => prog.testRun({ data: Buffer.alloc(4) }), (e: unknown) => NA_ERR_BPF_TEST_RUN.is(e) && e.details.errnoName === 'EINVAL');
    const packet = selftestFixtures(9)[1]!.packet;
    assert.throws(
      () => prog.testRun({ data: packet, dataOutSize: 10 }),
      (e: unknown) => NA_ERR_BPF_TEST_RUN.is(e) && e.details.errnoName === 'ENOSPC' && e.details.dataSizeOut === packet.length,
    );
    assert.throws(() => prog.testRun({ data: packet, repeat: -1 }), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /^testRun.repeat: expected an integer/.test(e.message));
  });
});
