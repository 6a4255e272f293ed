/**
 * Builds the Paxos benchmark's load generator at bench time (bpf/Makefile builds only bpf/):
 * `paxos-gen.c` with gcc against bpf/electrode's electrode_kern_user.h (the wire header).
 * Cached by the sources' hash in `<tmpdir>/netaccel-bench-paxos-<hash>/` (bench/lib/native-build.ts).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedOutputs, runBuild } from '../lib/native-build.js';

const here = dirname(fileURLToPath(import.meta.url));
const GEN_SRC = join(here, 'paxos-gen.c');
const ELECTRODE_DIR = join(here, '..', '..', 'bpf', 'electrode');
const HEADER = join(ELECTRODE_DIR, 'electrode_kern_user.h');

/** The paxos-gen executable (built once per version of its sources). */
export function buildPaxosGen(): string {
  const { gen } = cachedOutputs({ tag: 'paxos', sources: [GEN_SRC, HEADER], files: { gen: 'paxos-gen' } }, (out) => {
    runBuild('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', `-I${ELECTRODE_DIR}`, '-o', out.gen, GEN_SRC, '-lm']);
  });
  return gen;
}
