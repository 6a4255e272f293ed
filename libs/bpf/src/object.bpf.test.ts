/**
 * BPF layer: the selftest object through libbpf — open from file and buffer, the load-time global,
 * load, BPF_PROG_TEST_RUN with the shared fixtures, the counters read per CPU and decoded with
 * the TypeScript codec (itself checked against the object's BTF), state and lookup errors, and
 * libbpf's log reaching the logger.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  SELFTEST_COUNTER_LAYOUT, SELFTEST_DEFAULT_DROP_PORT, SELFTEST_VERDICTS, XDP_VERDICT, decodeSelftestCounter,
  expectedCounters, selftestFixtures,
} from '@netaccel/bpf-programs/selftest/testing';
import type { XdpVerdictName } from '@netaccel/bpf-programs/selftest/testing';
import { Btf, checkStructLayout } from './btf.js';
import { NA_ERR_BPF_INVALID, NA_ERR_BPF_NOT_FOUND, NA_ERR_BPF_OPEN, NA_ERR_BPF_STATE } from './errors.js';
import { silentLogger } from '@netaccel/errors';
import type { Logger } from '@netaccel/errors';
import { BpfObject } from './object.js';

const SELFTEST = fileURLToPath(new URL('../../../bpf/build/selftest/selftest.bpf.o', import.meta.url));
const DROP_PORT = 4789;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function recorder(): Logger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    ...silentLogger,
    isLevelEnabled: () => true, // records every level, libbpf's debug lines included
    lines,
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  };
}

describe('selftest.bpf.o through libbpf', () => {
  let obj: BpfObject;
  const log = recorder();

  beforeAll(() => {
    obj = BpfObject.openFile(SELFTEST, { logger: log });
  });
  afterAll(() => obj.close());

  test('opening lists the program, the counters map and the .rodata map', () => {
    assert.equal(obj.name, 'selftest');
    assert.equal(obj.state, 'opened');
    assert.deepEqual(obj.programs().map((p) => [p.name, p.typeName, p.section]), [['selftest_xdp', 'xdp', 'xdp']]);
    const stats = obj.map('verdict_stats');
    assert.deepEqual([stats.keySize, stats.valueSize, stats.maxEntries, stats.perCpu], [4, SELFTEST_COUNTER_LAYOUT.size, SELFTEST_VERDICTS, true]);
    assert.equal(obj.map('.rodata'), obj.maps().find((m) => m.name.endsWith('.rodata')));
    assert.ok(log.lines.some((l) => l.level === 'debug' && /loading object/.test(l.msg)), 'libbpf debug output reached the logger');
    assert.deepEqual(log.lines[0]?.obj, { component: 'libbpf' });
  });

  test('the TypeScript codec of struct selftest_counter matches the BTF (libbpf and ELF agree)', () => {
    assert.deepEqual(checkStructLayout(obj.btf(), SELFTEST_COUNTER_LAYOUT), []);
    assert.deepEqual(checkStructLayout(Btf.fromFile(SELFTEST), SELFTEST_COUNTER_LAYOUT), []);
    assert.deepEqual(obj.btf().datasecVariables('.rodata'), Btf.fromFile(SELFTEST).datasecVariables('.rodata'));
  });

  test('before load: the global has its default, fds are refused, bad values are rejected', () => {
    assert.equal(obj.getGlobal('drop_udp_port'), SELFTEST_DEFAULT_DROP_PORT);
    assert.throws(() => obj.program('selftest_xdp').fd, (e: unknown) => NA_ERR_BPF_STATE.is(e) && /not loaded yet/.test(e.message));
    assert.throws(() => obj.setGlobal('drop_udp_port', 70000), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'globals.drop_udp_port: expected 0..65535, got 70000');
    assert.throws(() => obj.setGlobal('no_such_global', 1), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e));
    assert.deepEqual(obj.globals(), [{ name: 'drop_udp_port', section: '.rodata', offset: 0, size: 2, type: 'const volatile __u16' }], 'data sections only, not .maps or license');
    obj.setGlobalBytes('drop_udp_port', Buffer.from([0x34, 0x12]));
    assert.equal(obj.getGlobal('drop_udp_port'), 0x1234, 'raw bytes in the variable\'s (little-endian) layout');
    assert.throws(() => obj.setGlobalBytes('drop_udp_port', Buffer.alloc(4)), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'globals.drop_udp_port: expected 2 bytes, got 4');
    assert.deepEqual(obj.encodeGlobalValue('drop_udp_port', 0x1234), Buffer.from([0x34, 0x12]), 'encoded from BTF without being set');
    assert.equal(obj.getGlobal('drop_udp_port'), 0x1234);
    assert.throws(() => obj.encodeGlobalValue('drop_udp_port', -1), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'globals.drop_udp_port: expected 0..65535, got -1');
    assert.throws(() => obj.encodeGlobalValue('drop_udp_port', Buffer.alloc(2)), (e: unknown) => NA_ERR_BPF_INVALID.is(e));
    obj.setGlobal('drop_udp_port', DROP_PORT);
    assert.equal(obj.getGlobal('drop_udp_port'), DROP_PORT);
  });

  test('load, then every fixture gives its verdict and output bytes for the port set before load', () => {
    obj.load();
    assert.equal(obj.state, 'loaded');
    assert.equal(obj.getGlobal('drop_udp_port'), DROP_PORT, 'the loaded .rodata holds the value');
    assert.throws(() => obj.setGlobal('drop_udp_port', 1), (e: unknown) => NA_ERR_BPF_STATE.is(e) && /it is loaded/.test(e.message));
    assert.throws(() => obj.load(), (e: unknown) => NA_ERR_BPF_STATE.is(e));
  });

  // One test per fixture, run in order after the load above (vitest runs a file's tests in order).
  describe('load, then every fixture gives its verdict and output bytes for the port set before load', () => {
    for (const f of selftestFixtures(DROP_PORT)) {
      test(f.name, () => {
        const run = obj.program('selftest_xdp').testRun({ data: f.packet, repeat: f.repeat });
        assert.equal(run.retval, XDP_VERDICT[f.verdict]);
        assert.deepEqual(run.data, f.output);
        assert.ok(run.durationNs > 0);
      });
    }
    test('the default port is no longer special', () => {
      const defaultPortFixture = selftestFixtures(SELFTEST_DEFAULT_DROP_PORT)[0]!;
      assert.equal(obj.program('selftest_xdp').testRun({ data: defaultPortFixture.packet }).retval, XDP_VERDICT.PASS);
    });
  });

  test('verdict_stats holds the counts, per CPU, decoded with the codec', () => {
    const stats = obj.map('verdict_stats');
    const expected = expectedCounters(selftestFixtures(DROP_PORT));
    const pass = expected.get('PASS')!;
    pass.packets += 1n; // the extra default-port run above
    pass.bytes += BigInt(selftestFixtures(SELFTEST_DEFAULT_DROP_PORT)[0]!.packet.length);
    for (const name of Object.keys(XDP_VERDICT) as XdpVerdictName[]) {
      const perCpu = stats.lookupPerCpu(u32(XDP_VERDICT[name]))!;
      assert.equal(perCpu.length, stats.cpus);
      const sum = perCpu.map((b) => decodeSelftestCounter(b)).reduce((a, c) => ({ packets: a.packets + c.packets, bytes: a.bytes + c.bytes }));
      assert.deepEqual(sum, expected.get(name) ?? { packets: 0n, bytes: 0n }, name);
    }
  });

  test('unknown names are NOT_FOUND with the known ones in the details', () => {
    assert.throws(() => obj.program('nope'), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e) && (e.details.programs as string[]).includes('selftest_xdp'));
    assert.throws(() => obj.map('nope'), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e) && (e.details.maps as string[]).includes('verdict_stats'));
  });

  test('close is idempotent and everything after it is a state error', () => {
    const o = BpfObject.openFile(SELFTEST).load();
    const prog = o.program('selftest_xdp');
    o.close();
    o.close();
    assert.equal(o.state, 'closed');
    assert.throws(() => prog.fd, (e: unknown) => NA_ERR_BPF_STATE.is(e) && /closed/.test(e.message));
    assert.throws(() => o.programs(), (e: unknown) => NA_ERR_BPF_STATE.is(e));
  });
});

describe('opening objects', () => {
  test('a map sized before load: libbpf and the kernel have the new size; bad sizes and names are refused', () => {
    const o = BpfObject.openFile(SELFTEST);
    try {
      o.setMaxEntries('verdict_stats', 16);
      assert.equal(o.map('verdict_stats').maxEntries, 16);
      assert.throws(() => o.setMaxEntries('verdict_stats', 0), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /maxEntries\.verdict_stats: expected an integer 1\.\.4294967295, got 0/.test(e.message));
      assert.throws(() => o.setMaxEntries('no_such_map', 4), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e) && /it has verdict_stats/.test(e.message));
      assert.throws(() => o.setMaxEntries(o.maps().find((m) => m.name.endsWith('.rodata'))!.name, 4), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e), 'a globals section is not sized');
      o.load();
      assert.equal(o.map('verdict_stats').info().maxEntries, 16, 'the kernel map');
      assert.throws(() => o.setMaxEntries('verdict_stats', 32), (e: unknown) => NA_ERR_BPF_STATE.is(e));
    } finally {
      o.close();
    }
  });

  test('from a buffer: the same program, named as asked', () => {
    const o = BpfObject.openBuffer(readFileSync(SELFTEST), { name: 'fromMem' });
    try {
      assert.equal(o.name, 'fromMem');
      o.setGlobal('drop_udp_port', 53);
      o.load();
      const dns = selftestFixtures(53)[0]!;
      assert.equal(o.program('selftest_xdp').testRun({ data: dns.packet }).retval, XDP_VERDICT.DROP);
    } finally {
      o.close();
    }
  });

  test('a missing file is NOT_FOUND, garbage is OPEN with libbpf saying why', () => {
    assert.throws(() => BpfObject.openFile('/nonexistent/x.bpf.o'), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e) && e.details.errnoName === 'ENOENT');
    const log = recorder();
    assert.throws(
      () => BpfObject.openBuffer(Buffer.from('this is not an ELF object at all, not even close to one'), { logger: log }),
      (e: unknown) => NA_ERR_BPF_OPEN.is(e) && Array.isArray(e.details.libbpf) && (e.details.libbpf as string[]).length > 0,
    );
    assert.ok(log.lines.some((l) => l.level === 'warn'), 'the warning went to the logger too');
  });
});
