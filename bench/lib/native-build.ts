/**
 * The benches' own native programs (a BPF object of generator/switch/sink programs, a C flood
 * generator) are compiled at bench time, since bpf/Makefile builds only bpf/. Every bench builds
 * them the same way: once per content of their sources, into
 * `<tmpdir>/netaccel-bench-<tag>-<hash>/`, each output written under a temporary name and renamed,
 * so that a second run compiles nothing and a concurrent one never sees half a file.
 *
 *   const { progs, gen } = cachedOutputs({ tag: 'xlb', sources: [PROGS_SRC, GEN_SRC], files: { progs: 'bench-progs.bpf.o', gen: 'xlb-gen' } }, (out) => {
 *     runBuild('clang', benchBpfArgs(PROGS_SRC, out.progs));
 *     runBuild('gcc', ['-O2', '-Wall', '-Wextra', '-o', out.gen, GEN_SRC, '-lbpf']);
 *   });
 *
 * (`sources` lists BENCH_BPF_HEADERS too when the program includes bench_xdp.h.)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CachedOutputsSpec<K extends string> {
  /** Names the cache folder (`netaccel-bench-<tag>-<hash>`). */
  readonly tag: string;
  /** The files whose contents, in this order, make the hash. */
  readonly sources: readonly string[];
  /** The outputs' file names in the cache folder, by key. */
  readonly files: Readonly<Record<K, string>>;
  /** Where the cache folders are (default: the OS's temporary folder). */
  readonly root?: string;
}

/**
 * The outputs' paths, built by `build` when any of them is missing. `build` writes each output
 * to the temporary path it is given under the same key; they are renamed into place once it
 * returns. When it throws, nothing is renamed.
 */
export function cachedOutputs<K extends string>(spec: CachedOutputsSpec<K>, build: (out: Readonly<Record<K, string>>) => void): Record<K, string> {
  const h = createHash('sha256');
  for (const f of spec.sources) h.update(readFileSync(f));
  const dir = join(spec.root ?? tmpdir(), `netaccel-bench-${spec.tag}-${h.digest('hex').slice(0, 12)}`);
  const keys = Object.keys(spec.files) as K[];
  const paths = Object.fromEntries(keys.map((k) => [k, join(dir, spec.files[k])])) as Record<K, string>;
  if (keys.every((k) => existsSync(paths[k]))) return paths;
  mkdirSync(dir, { recursive: true });
  const temporary = Object.fromEntries(keys.map((k) => [k, `${paths[k]}.${process.pid}`])) as Record<K, string>;
  build(temporary);
  for (const k of keys) renameSync(temporary[k], paths[k]);
  return paths;
}

/** Runs a compiler; a failure throws with the command line and what it wrote to stderr. */
export function runBuild(cmd: string, args: readonly string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stderr?.toString() ?? String(err)}`);
  }
}

const here = dirname(fileURLToPath(import.meta.url));

/** The headers benchBpfArgs puts on the include path (bench_xdp.h): list them in a cache's sources. */
export const BENCH_BPF_HEADERS: readonly string[] = [join(here, 'bench_xdp.h')];

let arch: string | undefined;

/**
 * clang's arguments for a bench's own BPF program: `-O2 -g`, BPF target (cpu v3), `-Wall`, the
 * system's headers of this architecture (`/usr/include/<gcc -dumpmachine>`) and this folder (for
 * `#include "bench_xdp.h"`), `src` into `out`.
 */
export function benchBpfArgs(src: string, out: string): string[] {
  arch ??= execFileSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).trim();
  return ['-O2', '-g', '-target', 'bpf', '-mcpu=v3', `-I/usr/include/${arch}`, `-I${here}`, '-Wall', '-c', src, '-o', out];
}
