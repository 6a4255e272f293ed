/**
 * The sidecar benchmark's native gRPC endpoints (native/: grpc-load.c, a closed-loop client, and
 * grpc-echo.c, an echo upstream, both h2c on libnghttp2): built at bench time with gcc (bpf/Makefile
 * builds only bpf/), cached by the sources' hash in `<tmpdir>/netaccel-bench-sidecar-<hash>/`,
 * and run as child processes. They cost a few tens of microseconds per call where the grpc-js
 * endpoints cost half a millisecond, so that a proxy's own cost shows (what ghz against a native
 * server measured in the paper).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadSummary } from './load.js';
import type { Proc } from './procs.js';
import { stopProc } from './procs.js';
import { parseReportLine } from '../lib/report-line.js';

const here = dirname(fileURLToPath(import.meta.url));
const NATIVE = join(here, 'native');
const SOURCES = ['h2c-io.h', 'grpc-load.c', 'grpc-echo.c'];

export interface NativeTools {
  readonly load: string;
  readonly echo: string;
}

/** grpc-load and grpc-echo (built once per version of their sources). */
export function buildNative(): NativeTools {
  const h = createHash('sha256');
  for (const f of SOURCES) h.update(f).update(readFileSync(join(NATIVE, f)));
  const dir = join(tmpdir(), `netaccel-bench-sidecar-${h.digest('hex').slice(0, 12)}`);
  mkdirSync(dir, { recursive: true });
  const out = { load: join(dir, 'grpc-load'), echo: join(dir, 'grpc-echo') };
  for (const [name, exe] of Object.entries(out)) {
    if (existsSync(exe)) continue;
    const src = join(NATIVE, `grpc-${name}.c`);
    const tmp = `${exe}.${process.pid}`;
    try {
      execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', `-I${NATIVE}`, '-o', tmp, src, '-lnghttp2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stderr?: Buffer };
      throw new Error(`gcc ${src} failed (is libnghttp2-dev installed? scripts/setup.sh installs it):\n${e.stderr?.toString() ?? String(err)}`);
    }
    renameSync(tmp, exe);
  }
  return out;
}

/** grpc-echo on a free loopback port, until stopped. */
export async function startNativeEcho(tools: NativeTools): Promise<Proc> {
  const p = spawn(tools.echo, ['--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve((JSON.parse(buf.split('\n')[0]!) as { port: number }).port);
    });
    p.once('exit', (code) => reject(new Error(`grpc-echo exited (${code})`)));
  });
  return { port, pid: p.pid, stop: () => stopProc(p) };
}

/** grpc-load's report (one JSON line). */
export interface NativeReport {
  readonly calls: number;
  readonly errors: number;
  readonly warmup_calls: number;
  readonly seconds: number;
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  readonly mean_ms: number;
  readonly first_error: string;
}

const NUMBERS = ['calls', 'errors', 'warmup_calls', 'seconds', 'p50_ms', 'p90_ms', 'p99_ms', 'max_ms', 'mean_ms'] as const;

export function parseNativeReport(line: string): NativeReport {
  const v = parseReportLine('grpc-load', line, NUMBERS);
  if (typeof v.first_error !== 'string') throw new Error('grpc-load: report field first_error: expected a string');
  return v as unknown as NativeReport;
}

/** What to run: a fixed number of calls, or calls for a time after a warm-up. */
export type NativeRun = { readonly calls: number } | { readonly warmupMs: number; readonly durationMs: number };

/** Runs grpc-load once against `address` ("127.0.0.1:port"). */
export function runNativeLoad(tools: NativeTools, address: string, size: number, concurrency: number, run: NativeRun): Promise<NativeReport> {
  const args = ['--address', address, '--size', String(size), '--concurrency', String(concurrency)];
  if ('calls' in run) args.push('--calls', String(run.calls));
  else args.push('--warmup-ms', String(run.warmupMs), '--duration-ms', String(run.durationMs));
  return new Promise((resolve, reject) => {
    execFile(tools.load, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`grpc-load failed (${err.message.split('\n')[0]}): ${stderr.trim()}`));
      else {
        try {
          resolve(parseNativeReport(stdout.trim()));
        } catch (e) {
          reject(e as Error);
        }
      }
    });
  });
}

/** A timed run summarized as the benchmark records it. */
export async function nativeClosedLoop(tools: NativeTools, address: string, size: number, concurrency: number, warmupMs: number, durationMs: number): Promise<LoadSummary> {
  const r = await runNativeLoad(tools, address, size, concurrency, { warmupMs, durationMs });
  return { calls: r.calls, errors: r.errors, warmupCalls: r.warmup_calls, seconds: r.seconds, p50: r.p50_ms, p99: r.p99_ms, firstError: r.first_error };
}
