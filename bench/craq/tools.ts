/**
 * Builds the NetCRAQ benchmark's programs at bench time (bpf/Makefile builds only bpf/):
 * `craq-bench-progs.bpf.c` with clang (generator program, switch, sink) and `craq-gen.c` with gcc
 * against libbpf. Cached by the sources' hash in `<tmpdir>/netaccel-bench-craq-<hash>/`
 * (bench/lib/native-build.ts).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_BPF_HEADERS, benchBpfArgs, cachedOutputs, runBuild } from '../lib/native-build.js';

const here = dirname(fileURLToPath(import.meta.url));
const PROGS_SRC = join(here, 'craq-bench-progs.bpf.c');
const GEN_SRC = join(here, 'craq-gen.c');
const BPF_DIR = join(here, '..', '..', 'bpf');
const CRAQ_DIR = join(BPF_DIR, 'craq');
/** The rate section's tail commits up to ~100k writes/s; 32 MiB of ring holds ~31,000 of them. */
export const BENCH_COMMITS_BYTES = 32 << 20;

export interface CraqBenchTools {
  /** craq-bench-progs.bpf.o: craq_gen, craq_switch, craq_sink. */
  readonly progs: string;
  /** The craq-gen executable. */
  readonly gen: string;
  /**
   * bpf/craq's craq.bpf.c built with CRAQ_COMMITS_BYTES = BENCH_COMMITS_BYTES (the default 1 MiB
   * ring fills in ~10 ms of writes if craq-gen's drainer thread waits that long for a CPU).
   */
  readonly node: string;
}

export function buildCraqTools(): CraqBenchTools {
  const craqSources = readdirSync(CRAQ_DIR).filter((x) => x.endsWith('.h') || x.endsWith('.bpf.c')).sort().map((f) => join(CRAQ_DIR, f));
  const files = { progs: 'craq-bench-progs.bpf.o', gen: 'craq-gen', node: 'craq-node.bpf.o' };
  return cachedOutputs({ tag: 'craq', sources: [PROGS_SRC, GEN_SRC, ...craqSources, ...BENCH_BPF_HEADERS], files }, (out) => {
    runBuild('clang', benchBpfArgs(PROGS_SRC, out.progs));
    runBuild('gcc', ['-O2', '-Wall', '-Wextra', '-o', out.gen, GEN_SRC, '-lbpf', '-lpthread']);
    runBuild('clang', ['-target', 'bpf', '-mcpu=v3', '-O2', '-g', '-Wall', '-D__TARGET_ARCH_x86', `-DCRAQ_COMMITS_BYTES=${BENCH_COMMITS_BYTES}`, `-I${join(BPF_DIR, 'include')}`, '-isystem', join(BPF_DIR, 'build'), '-c', join(CRAQ_DIR, 'craq.bpf.c'), '-o', out.node]);
  });
}
