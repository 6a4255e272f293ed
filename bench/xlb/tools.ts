/**
 * Builds the benchmark's own programs at bench time (bpf/Makefile builds only bpf/):
 * `bench-progs.bpf.c` with clang (XDP floor/pass, switch, sink, bounce, generator) and `xlb-gen.c` with
 * gcc against libbpf (the live-frame flood generator). Outputs are cached by the sources' hash
 * in `<tmpdir>/netaccel-bench-xlb-<hash>/`, so a second run compiles nothing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PROGS_SRC = join(here, 'bench-progs.bpf.c');
const GEN_SRC = join(here, 'xlb-gen.c');

export interface BenchTools {
  /** bench-progs.bpf.o: xdp_empty, xdp_switch, xdp_sink, xdp_bounce, xdp_gen. */
  readonly progs: string;
  /** The xlb-gen executable. */
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

/** Compiles (or finds in the cache) the benchmark's BPF object and generator. */
export function buildTools(): BenchTools {
  const hash = createHash('sha256').update(readFileSync(PROGS_SRC)).update(readFileSync(GEN_SRC)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `netaccel-bench-xlb-${hash}`);
  const progs = join(dir, 'bench-progs.bpf.o');
  const gen = join(dir, 'xlb-gen');
  if (existsSync(progs) && existsSync(gen)) return { progs, gen };
  mkdirSync(dir, { recursive: true });
  const arch = execFileSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).trim();
  // Write to temporary names and rename, so a concurrent run never sees half a file.
  run('clang', ['-O2', '-g', '-target', 'bpf', '-mcpu=v3', `-I/usr/include/${arch}`, '-Wall', '-c', PROGS_SRC, '-o', `${progs}.${process.pid}`]);
  run('gcc', ['-O2', '-Wall', '-Wextra', '-o', `${gen}.${process.pid}`, GEN_SRC, '-lbpf']);
  renameSync(`${progs}.${process.pid}`, progs);
  renameSync(`${gen}.${process.pid}`, gen);
  return { progs, gen };
}
