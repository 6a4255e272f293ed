/**
 * Builds the NetCRAQ benchmark's programs at bench time (bpf/Makefile builds only bpf/):
 * `craq-bench-progs.bpf.c` with clang (generator program, switch, sink) and `craq-gen.c` with gcc
 * against libbpf. Cached by the sources' hash in `<tmpdir>/netaccel-bench-craq-<hash>/`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

function run(cmd: string, args: readonly string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stderr?.toString() ?? String(err)}`);
  }
}

export function buildCraqTools(): CraqBenchTools {
  const h = createHash('sha256').update(readFileSync(PROGS_SRC)).update(readFileSync(GEN_SRC));
  for (const f of readdirSync(CRAQ_DIR).filter((x) => x.endsWith('.h') || x.endsWith('.bpf.c')).sort()) h.update(readFileSync(join(CRAQ_DIR, f)));
  const hash = h.digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `netaccel-bench-craq-${hash}`);
  const progs = join(dir, 'craq-bench-progs.bpf.o');
  const gen = join(dir, 'craq-gen');
  const node = join(dir, 'craq-node.bpf.o');
  if (existsSync(progs) && existsSync(gen) && existsSync(node)) return { progs, gen, node };
  mkdirSync(dir, { recursive: true });
  const arch = execFileSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).trim();
  run('clang', ['-O2', '-g', '-target', 'bpf', '-mcpu=v3', `-I/usr/include/${arch}`, '-Wall', '-c', PROGS_SRC, '-o', `${progs}.${process.pid}`]);
  run('gcc', ['-O2', '-Wall', '-Wextra', '-o', `${gen}.${process.pid}`, GEN_SRC, '-lbpf', '-lpthread']);
  run('clang', ['-target', 'bpf', '-mcpu=v3', '-O2', '-g', '-Wall', '-D__TARGET_ARCH_x86', `-DCRAQ_COMMITS_BYTES=${BENCH_COMMITS_BYTES}`, `-I${join(BPF_DIR, 'include')}`, '-isystem', join(BPF_DIR, 'build'), '-c', join(CRAQ_DIR, 'craq.bpf.c'), '-o', `${node}.${process.pid}`]);
  renameSync(`${node}.${process.pid}`, node);
  renameSync(`${progs}.${process.pid}`, progs);
  renameSync(`${gen}.${process.pid}`, gen);
  return { progs, gen, node };
}
