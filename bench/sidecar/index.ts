/**
 * Sidecar benchmark: unary gRPC calls (small = 64 B and 4 KiB messages, echoed back) at
 * concurrencies 1, 8 and 32 on one connection, through three paths measured in the same run and
 * interleaved point by point: direct (client to the grpc-js echo server), NGINX `grpc_pass`
 * (Debian's nginx, one worker, upstream keepalive) and sidecar-offload's user-space proxy (its
 * built daemon, one process, access log on). Per point: p50 / p99 latency and calls/s from a
 * closed-loop client with per-call latency (ghz-like; bench/sidecar/load.ts). Comparisons: the
 * user-space proxy against NGINX (p50 ratio, calls/s ratio) and its overhead over direct. The
 * kernel path (bpf/sidecar) is not part of this run yet.
 *
 * Run: make bench NAME=sidecar (node --import tsx bench/run.ts sidecar). SIDECAR_BENCH_SECONDS
 * (default 3) sets the measured time per point.
 */
import type { Benchmark } from '../lib/harness.js';
import { closedLoop, percentile } from './load.js';
import type { Proc } from './procs.js';
import { startEcho, startNginx, startSidecar } from './procs.js';

const SIZES = [
  { name: 'small', bytes: 64 },
  { name: '4k', bytes: 4096 },
] as const;
const CONCURRENCY = [1, 8, 32] as const;
const WARMUP_MS = 500;

const bench: Benchmark = {
  name: 'sidecar',
  description: 'unary gRPC through NGINX grpc_pass and the user-space sidecar against direct calls (p50/p99, calls/s)',
  needsRoot: false,
  async run(ctx) {
    const durationMs = Number(process.env.SIDECAR_BENCH_SECONDS ?? '3') * 1000;
    const procs: Proc[] = [];
    try {
      const echo = await startEcho();
      procs.push(echo);
      const nginx = await startNginx(echo.port);
      procs.push(nginx);
      const sidecar = await startSidecar(echo.port);
      procs.push(sidecar);
      const subjects = [
        { name: 'direct', port: echo.port },
        { name: 'nginx', port: nginx.port },
        { name: 'sidecar-user', port: sidecar.port },
      ];
      for (const size of SIZES) {
        for (const c of CONCURRENCY) {
          const point = `${size.name}-c${c}`;
          for (const s of subjects) {
            const r = await closedLoop(`127.0.0.1:${s.port}`, size.bytes, c, WARMUP_MS, durationMs);
            if (r.errors > 0) throw new Error(`${s.name} ${point}: ${r.errors} calls failed`);
            const subject = `${s.name}-${point}`;
            ctx.figure(subject, 'p50_latency', percentile(r.latencies, 0.5), 'ms');
            ctx.figure(subject, 'p99_latency', percentile(r.latencies, 0.99), 'ms');
            ctx.figure(subject, 'calls_per_s', r.calls / r.seconds, 'calls/s');
            console.log(`  ${subject.padEnd(24)} p50 ${percentile(r.latencies, 0.5).toFixed(3)} ms  p99 ${percentile(r.latencies, 0.99).toFixed(3)} ms  ${(r.calls / r.seconds).toFixed(0)} calls/s`);
          }
          // the user-space proxy against NGINX (the paper's baseline) and its cost over direct
          ctx.compare('p50_latency', `sidecar-user-${point}`, `nginx-${point}`, '<= 1');
          ctx.compare('calls_per_s', `sidecar-user-${point}`, `nginx-${point}`, '>= 1');
          ctx.compare('p50_latency', `nginx-${point}`, `direct-${point}`, '<= 2');
          ctx.compare('p50_latency', `sidecar-user-${point}`, `direct-${point}`, '<= 2');
        }
      }
    } finally {
      for (const p of procs.reverse()) await p.stop();
    }
  },
};

export default bench;
