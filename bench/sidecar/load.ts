/**
 * A closed-loop gRPC load client (what ghz does, ghz is not packaged here): `concurrency`
 * workers on one grpc-js channel (one HTTP/2 connection, as ghz by default), each sending the
 * next unary call when the previous one answered; every call's latency is recorded. Messages
 * are raw bytes (the echo service replies with the same bytes), so nothing but transport and
 * proxying is measured.
 */
import { echoClient, unaryCall } from '@netaccel/app-sidecar-offload/testing';

export interface LoadResult {
  readonly calls: number;
  readonly errors: number;
  /** Calls of the warm-up (not measured). */
  readonly warmupCalls: number;
  readonly seconds: number;
  /** Per-call latencies, ms, sorted. */
  readonly latencies: Float64Array;
}

export async function closedLoop(address: string, size: number, concurrency: number, warmupMs: number, durationMs: number): Promise<LoadResult> {
  const client = echoClient(address, { 'grpc.max_receive_message_length': -1 });
  const msg = Buffer.alloc(size, 0x61);
  try {
    // connect and warm up (JIT, windows, upstream keepalive connections)
    const warmEnd = Date.now() + warmupMs;
    let warmupCalls = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < warmEnd) {
          await unaryCall(client, 'unary', msg);
          warmupCalls += 1;
        }
      }),
    );
    const samples: number[] = [];
    let errors = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(durationMs) * 1_000_000n;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const t0 = process.hrtime.bigint();
          if (t0 >= end) return;
          const r = await unaryCall(client, 'unary', msg);
          const t1 = process.hrtime.bigint();
          if (r.code !== 0 || r.reply?.length !== size) errors += 1;
          else samples.push(Number(t1 - t0) / 1e6);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const latencies = Float64Array.from(samples).sort();
    return { calls: samples.length, errors, warmupCalls, seconds, latencies };
  } finally {
    client.close();
  }
}

/** One point of one subject as the benchmark records it (latencies in ms). */
export interface LoadSummary {
  readonly calls: number;
  readonly errors: number;
  /** Calls of the warm-up (through the subject too, not measured). */
  readonly warmupCalls: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  /** The first failed call's reason ('' when none or not known). */
  readonly firstError: string;
}

/** `closedLoop` summarized. */
export async function grpcJsClosedLoop(address: string, size: number, concurrency: number, warmupMs: number, durationMs: number): Promise<LoadSummary> {
  const r = await closedLoop(address, size, concurrency, warmupMs, durationMs);
  return { calls: r.calls, errors: r.errors, warmupCalls: r.warmupCalls, seconds: r.seconds, p50: percentile(r.latencies, 0.5), p99: percentile(r.latencies, 0.99), firstError: '' };
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
