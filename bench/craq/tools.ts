/**
 * Builds the NetCRAQ benchmark's programs at bench time (bpf/Makefile builds only bpf/):
 * `craq-bench-progs.bpf.c` with clang (generator program, switch, sink) and `craq-gen.c` with gcc
 * against libbpf. Cached by the sources' hash in `<tmpdir>/netaccel-bench-craq-<hash>/`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PROGS_SRC = join(here, 'craq-bench-progs.bpf.c');
const GEN_SRC = join(here, 'craq-gen.c');

export interface CraqBenchTools {
  /** craq-bench-progs.bpf.o: craq_gen, craq_switch, craq_sink. */
  readonly progs: string;
  /** The craq-gen executable. */
  readonly gen: string;
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
  const hash = createHash('sha256').update(readFileSync(PROGS_SRC)).update(readFileSync(GEN_SRC)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `netaccel-bench-craq-${hash}`);
  const progs = join(dir, 'craq-bench-progs.bpf.o');
  const gen = join(dir, 'craq-gen');
  if (existsSync(progs) && existsSync(gen)) return { progs, gen };
  mkdirSync(dir, { recursive: true });
  const arch = execFileSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).trim();
  run('clang', ['-O2', '-g', '-target', 'bpf', '-mcpu=v3', `-I/usr/include/${arch}`, '-Wall', '-c', PROGS_SRC, '-o', `${progs}.${process.pid}`]);
  run('gcc', ['-O2', '-Wall', '-Wextra', '-o', `${gen}.${process.pid}`, GEN_SRC, '-lbpf', '-lpthread']);
  renameSync(`${progs}.${process.pid}`, progs);
  renameSync(`${gen}.${process.pid}`, gen);
  return { progs, gen };
}
