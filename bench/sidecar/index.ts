/**
 * Sidecar benchmark: unary gRPC calls (small = 64 B and 4 KiB messages, echoed back) at
 * concurrencies 1, 8 and 32 on one connection, through three paths measured in the same run and
 * interleaved point by point: direct (client to the grpc-js echo server), NGINX `grpc_pass`
 * (Debian's nginx, one worker, upstream keepalive), sidecar-offload's user-space proxy (its
 * built daemon, one process, access log on) and, as root, the same daemon with its kernel path
 * (`kernel.via: direct`: each client connection spliced in the kernel, bpf/sidecar SPLICE mode;
 * the client and that subject's own echo upstream in a cgroup `nso-bench-<pid>`). Per point:
 * p50 / p99 latency and calls/s from a closed-loop client with per-call latency (ghz-like;
 * bench/sidecar/load.ts). Comparisons: each proxy against NGINX (p50 ratio, calls/s ratio) and
 * its overhead over direct; the kernel path's goals are the (≤ 0.5x NGINX p50, ≥ 1.5x
 * its calls/s, ≤ 1.1x direct p50).
 *
 * Run: make bench NAME=sidecar (node --import tsx bench/run.ts sidecar). SIDECAR_BENCH_SECONDS
 * (default 3) sets the measured time per point.
 */
import type { Benchmark } from '../lib/harness.js';
import { closedLoop, percentile } from './load.js';
import type { Proc } from './procs.js';
import { startEcho, startNginx, startSidecar } from './procs.js';
import { enterCgroup } from './cgroup.js';
import type { BenchCgroup } from './cgroup.js';

const SIZES = [
  { name: 'small', bytes: 64 },
  { name: '4k', bytes: 4096 },
] as const;
const CONCURRENCY = [1, 8, 32] as const;
const WARMUP_MS = 500;

const bench: Benchmark = {
  name: 'sidecar',
  description: 'unary gRPC through NGINX grpc_pass, the user-space sidecar and its kernel path against direct calls (p50/p99, calls/s)',
  needsRoot: false,
  async run(ctx) {
    const durationMs = Number(process.env.SIDECAR_BENCH_SECONDS ?? '3') * 1000;
    const procs: Proc[] = [];
    let cgroup: BenchCgroup | undefined;
    let kernelDaemon: Proc | undefined;
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
      const kernel = process.getuid?.() === 0;
      if (kernel) {
        // started from inside the cgroup: the kernel subject's upstream, then its daemon
        cgroup = enterCgroup();
        const echoK = await startEcho();
        procs.push(echoK);
        const sidecarK = await startSidecar(echoK.port, { cgroup: cgroup.path });
        procs.push(sidecarK);
        subjects.push({ name: 'sidecar-kernel', port: sidecarK.port });
        kernelDaemon = sidecarK;
      } else {
        console.log('  not root: the kernel path is left out of this run');
      }
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
          if (kernel) {
            // the goals for the kernel path
            ctx.compare('p50_latency', `sidecar-kernel-${point}`, `nginx-${point}`, '<= 0.5');
            ctx.compare('calls_per_s', `sidecar-kernel-${point}`, `nginx-${point}`, '>= 1.5');
            ctx.compare('p50_latency', `sidecar-kernel-${point}`, `direct-${point}`, '<= 1.1');
            ctx.compare('calls_per_s', `sidecar-kernel-${point}`, `direct-${point}`, '>= 0.9');
          }
        }
      }
      if (kernelDaemon?.metrics !== undefined) {
        // the kernel subject was the kernel path: the calls were carried (and counted) by the kernel
        const text = await kernelDaemon.metrics();
        const carried = [...text.matchAll(/^netaccel_sidecar_kernel_requests\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
        const user = [...text.matchAll(/^netaccel_sidecar_calls_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
        console.log(`  sidecar-kernel: ${carried} calls carried by the kernel, ${user} by its user-space path`);
        ctx.figure('sidecar-kernel', 'kernel_carried_calls', carried, 'calls');
        ctx.figure('sidecar-kernel', 'user_path_calls', user, 'calls');
        if (carried === 0) throw new Error('sidecar-kernel: the kernel carried no call (the connections were not spliced)');
      }
    } finally {
      for (const p of procs.reverse()) await p.stop();
      cgroup?.leave();
    }
  },
};

export default bench;
