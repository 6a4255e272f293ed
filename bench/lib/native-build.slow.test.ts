/**
 * Slow (child processes: sh, clang): the benches' build cache (cachedOutputs) in a folder of its
 * own, runBuild's error, and benchBpfArgs compiling a one-program BPF object.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { benchBpfArgs, cachedOutputs, runBuild } from './native-build.js';

function scratch(t: { onTestFinished(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'qdx-native-build-'));
  t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('cachedOutputs builds once per content of the sources, into a folder named by tag and hash', (t) => {
  const dir = scratch(t);
  const src = join(dir, 'a.c');
  writeFileSync(src, 'one');
  const spec = { tag: 'toy', sources: [src], files: { obj: 'a.o', exe: 'a' }, root: dir };
  const builds: string[] = [];
  const build = (out: Readonly<Record<'obj' | 'exe', string>>) => {
    builds.push(readFileSync(src, 'utf8'));
    writeFileSync(out.obj, `obj of ${readFileSync(src, 'utf8')}`);
    writeFileSync(out.exe, `exe of ${readFileSync(src, 'utf8')}`);
  };

  const first = cachedOutputs(spec, build);
  assert.match(basename(dirname(first.obj)), /^netaccel-bench-toy-[0-9a-f]{12}$/);
  assert.equal(dirname(first.exe), dirname(first.obj));
  assert.equal(readFileSync(first.obj, 'utf8'), 'obj of one');
  assert.equal(readFileSync(first.exe, 'utf8'), 'exe of one');
  assert.deepEqual(cachedOutputs(spec, build), first);
  assert.deepEqual(builds, ['one']);

  writeFileSync(src, 'two');
  const second = cachedOutputs(spec, build);
  assert.notEqual(dirname(second.obj), dirname(first.obj));
  assert.equal(readFileSync(second.obj, 'utf8'), 'obj of two');
  assert.deepEqual(builds, ['one', 'two']);

  rmSync(second.exe);
  cachedOutputs(spec, build);
  assert.deepEqual(builds, ['one', 'two', 'two'], 'a missing output builds them all again');
});

test('cachedOutputs renames nothing when the build throws, and builds again next time', (t) => {
  const dir = scratch(t);
  const src = join(dir, 'a.c');
  writeFileSync(src, 'x');
  const spec = { tag: 'toy', sources: [src], files: { obj: 'a.o', exe: 'a' }, root: dir };
  let paths: Record<'obj' | 'exe', string> | undefined;
  assert.throws(
    () =>
      cachedOutputs(spec, (out) => {
        writeFileSync(out.obj, 'half');
        paths = { obj: out.obj, exe: out.exe };
        throw new Error('the compiler failed');
      }),
    /the compiler failed/,
  );
  assert.ok(paths);
  assert.equal(existsSync(paths.obj.replace(/\.\d+$/, '')), false);
  const built = cachedOutputs(spec, (out) => {
    writeFileSync(out.obj, 'whole');
    writeFileSync(out.exe, 'whole');
  });
  assert.equal(readFileSync(built.obj, 'utf8'), 'whole');
});

test('runBuild: a failing command throws with its command line and its stderr', () => {
  assert.throws(() => runBuild('sh', ['-c', 'echo no such header >&2; exit 3']), (err: Error) => {
    assert.equal(err.message, 'sh -c echo no such header >&2; exit 3 failed:\nno such header\n');
    return true;
  });
  runBuild('sh', ['-c', 'exit 0']);
});

test('benchBpfArgs compiles a bench BPF program into an ELF object for BPF', (t) => {
  const dir = scratch(t);
  const src = join(dir, 'toy.bpf.c');
  const out = join(dir, 'toy.bpf.o');
  writeFileSync(src, '#include <linux/bpf.h>\n__attribute__((section("xdp"), used)) int toy(struct xdp_md *ctx) { return XDP_PASS; }\n');
  runBuild('clang', benchBpfArgs(src, out));
  const elf = readFileSync(out);
  assert.deepEqual([...elf.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  assert.equal(elf.readUInt16LE(18), 247, 'e_machine EM_BPF');
});
