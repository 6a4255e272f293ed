/**
 * Builds the Paxos benchmark's load generator at bench time (bpf/Makefile builds only bpf/):
 * `paxos-gen.c` with gcc against bpf/electrode's electrode_kern_user.h (the wire header).
 * Cached by the sources' hash in `<tmpdir>/netaccel-bench-paxos-<hash>/`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const GEN_SRC = join(here, 'paxos-gen.c');
const ELECTRODE_DIR = join(here, '..', '..', 'bpf', 'electrode');
const HEADER = join(ELECTRODE_DIR, 'electrode_kern_user.h');

/** The paxos-gen executable (built once per version of its sources). */
export function buildPaxosGen(): string {
  const hash = createHash('sha256').update(readFileSync(GEN_SRC)).update(readFileSync(HEADER)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `netaccel-bench-paxos-${hash}`);
  const gen = join(dir, 'paxos-gen');
  if (existsSync(gen)) return gen;
  mkdirSync(dir, { recursive: true });
  const tmp = `${gen}.${process.pid}`;
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', `-I${ELECTRODE_DIR}`, '-o', tmp, GEN_SRC, '-lm'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer };
    throw new Error(`gcc ${GEN_SRC} failed:\n${e.stderr?.toString() ?? String(err)}`);
  }
  renameSync(tmp, gen);
  return gen;
}
