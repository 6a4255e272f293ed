/**
 * BPF layer: the chain make -> object -> kernel -> BPF_PROG_TEST_RUN -> maps for the selftest
 * program, driven by the kernel's own tool (bpftool) so that it checks the build independently of
 * the koffi binding. libs/bpf/src/object.bpf.test.ts runs the same fixtures through libbpf (with
 * the global set before load, which bpftool cannot do). This project does not import
 * @netaccel/bpf: that package depends on this one (nx implicitDependencies), and the reverse
 * import would make a cycle in the task graph.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SELFTEST_DEFAULT_DROP_PORT, SELFTEST_VERDICTS, XDP_VERDICT, expectedCounters, selftestFixtures } from './selftest.fixtures.js';
import type { SelftestFixture, XdpVerdictName } from './selftest.fixtures.js';

const BPF_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OBJECT = join(BPF_DIR, 'build/selftest/selftest.bpf.o');
const DEPFILE = join(BPF_DIR, 'build/selftest/selftest.bpf.d');
const PIN_DIR = `/sys/fs/bpf/netaccel-test-${process.pid}`;

function bpftool(...args: string[]): unknown {
  const out = execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trim() === '' ? null : JSON.parse(out);
}

/** Mounts bpffs at /sys/fs/bpf unless it is mounted already. */
function ensureBpffs(): void {
  const mounted = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === '/sys/fs/bpf' && line.split(' ')[2] === 'bpf');
  if (!mounted) execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
}

/** Prerequisites of the object as make knows them (the -MMD file: source and our headers). */
function prerequisites(): string[] {
  const text = readFileSync(DEPFILE, 'utf8').replace(/\\\n/g, ' ');
  const first = text.split('\n')[0] ?? '';
  return first
    .slice(first.indexOf(':') + 1)
    .split(/\s+/)
    .filter((p) => p !== '')
    .map((p) => join(BPF_DIR, p));
}

interface FormattedCounters {
  formatted: { key: number; values: { cpu: number; value: { packets: number; bytes: number } }[] };
}

describe('selftest.bpf.o through bpftool', () => {
  let work = '';

  beforeAll(() => {
    assert.ok(statSync(OBJECT, { throwIfNoEntry: false }), `${OBJECT} is missing: run make -C bpf`);
    ensureBpffs();
    work = mkdtempSync(join(tmpdir(), 'netaccel-selftest-'));
    bpftool('prog', 'loadall', OBJECT, PIN_DIR, 'pinmaps', join(PIN_DIR, 'maps'));
  });

  afterAll(() => {
    rmSync(PIN_DIR, { recursive: true, force: true });
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  test('the object exists and is newer than its source and every header it includes', () => {
    const deps = prerequisites();
    assert.ok(deps.some((d) => d.endsWith('selftest/selftest.bpf.c')), `depfile lists the source: ${deps.join(' ')}`);
    assert.ok(deps.some((d) => d.endsWith('include/netaccel_helpers.h')), 'depfile lists the shared headers');
    const built = statSync(OBJECT).mtimeMs;
    for (const dep of deps) {
      assert.ok(statSync(dep).mtimeMs <= built, `${dep} is newer than ${OBJECT}: run make -C bpf`);
    }
  });

  test('the object holds the program, its map and the load-time global, with BTF', () => {
    const progs = bpftool('prog', 'show', 'pinned', join(PIN_DIR, 'selftest_xdp')) as { type: string; name: string };
    assert.equal(progs.type, 'xdp');
    assert.equal(progs.name, 'selftest_xdp');
    const map = bpftool('map', 'show', 'pinned', join(PIN_DIR, 'maps/verdict_stats')) as Record<string, unknown>;
    assert.equal(map.type, 'percpu_array');
    assert.equal(map.max_entries, SELFTEST_VERDICTS);
    assert.equal(map.bytes_value, 16);
  });

  // One test per fixture, in order (vitest runs a file's tests in order). The object was loaded by
  // bpftool, which cannot set a global before load, so drop_udp_port holds its default.
  describe('BPF_PROG_TEST_RUN gives each fixture its verdict and output bytes; verdict_stats counts them', () => {
    let fixtures: readonly SelftestFixture[] = [];
    test('drop_udp_port is readable from .rodata through BTF and holds its default', () => {
      const rodata = bpftool('map', 'dump', 'pinned', join(PIN_DIR, 'maps/selftest_rodata')) as {
        formatted: { value: { '.rodata': { drop_udp_port: number }[] } };
      }[];
      const dropPort = rodata[0]?.formatted.value['.rodata'][0]?.drop_udp_port;
      assert.equal(typeof dropPort, 'number', 'drop_udp_port is readable from .rodata through BTF');
      assert.equal(dropPort, SELFTEST_DEFAULT_DROP_PORT);
      fixtures = selftestFixtures(dropPort!);
    });

    for (const [i, named] of selftestFixtures(SELFTEST_DEFAULT_DROP_PORT).entries()) {
      test(named.name, () => {
        const f = fixtures[i];
        assert.ok(f, 'the fixtures were built from the loaded object\'s drop port');
        const input = join(work, `in-${i}.bin`);
        const output = join(work, `out-${i}.bin`);
        writeFileSync(input, f.packet);
        const run = bpftool(
          'prog', 'run', 'pinned', join(PIN_DIR, 'selftest_xdp'),
          'data_in', input, 'data_out', output, 'repeat', String(f.repeat),
        ) as { retval: number; duration: number };
        assert.equal(run.retval, XDP_VERDICT[f.verdict], `verdict ${f.verdict}`);
        assert.deepEqual(readFileSync(output), f.output);
      });
    }

    test('verdict_stats counts them', () => {
      const dump = bpftool('map', 'dump', 'pinned', join(PIN_DIR, 'maps/verdict_stats')) as FormattedCounters[];
      assert.equal(dump.length, SELFTEST_VERDICTS);
      const expected = expectedCounters(fixtures);
      for (const name of Object.keys(XDP_VERDICT) as XdpVerdictName[]) {
        const entry = dump.find((e) => e.formatted.key === XDP_VERDICT[name]);
        assert.ok(entry, `verdict_stats has key ${XDP_VERDICT[name]}`);
        const sum = entry.formatted.values.reduce(
          (acc, v) => ({ packets: acc.packets + BigInt(v.value.packets), bytes: acc.bytes + BigInt(v.value.bytes) }),
          { packets: 0n, bytes: 0n },
        );
        assert.deepEqual(sum, expected.get(name) ?? { packets: 0n, bytes: 0n }, `counters of ${name}`);
      }
    });
  });
});
