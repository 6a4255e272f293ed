/**
 * Builds the benchmark's own programs at bench time (bpf/Makefile builds only bpf/):
 * `bench-progs.bpf.c` with clang (XDP floor/pass, switch, sink, bounce, generator) and `xlb-gen.c` with
 * gcc against libbpf (the live-frame flood generator). Outputs are cached by the sources' hash
 * in `<tmpdir>/netaccel-bench-xlb-<hash>/` (bench/lib/native-build.ts), so a second run compiles nothing.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_BPF_HEADERS, benchBpfArgs, cachedOutputs, runBuild } from '../lib/native-build.js';

const here = dirname(fileURLToPath(import.meta.url));
const PROGS_SRC = join(here, 'bench-progs.bpf.c');
const GEN_SRC = join(here, 'xlb-gen.c');

export interface BenchTools {
  /** bench-progs.bpf.o: xdp_empty, xdp_switch, xdp_sink, xdp_bounce, xdp_gen. */
  readonly progs: string;
  /** The xlb-gen executable. */
  readonly gen: string;
}

/** Compiles (or finds in the cache) the benchmark's BPF object and generator. */
export function buildTools(): BenchTools {
  const files = { progs: 'bench-progs.bpf.o', gen: 'xlb-gen' };
  return cachedOutputs({ tag: 'xlb', sources: [PROGS_SRC, GEN_SRC, ...BENCH_BPF_HEADERS], files }, (out) => {
    runBuild('clang', benchBpfArgs(PROGS_SRC, out.progs));
    runBuild('gcc', ['-O2', '-Wall', '-Wextra', '-o', out.gen, GEN_SRC, '-lbpf']);
  });
}
