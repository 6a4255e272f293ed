/**
 * The sidecar scenario's figures, from what its processes recorded: the client's calls (method,
 * times, gRPC status, bytes) give calls/s and latency per phase, per second and per method; the
 * sidecar's own per-method telemetry (GetStats, /metrics, the access log, the kernel's counters)
 * is set beside them, and `telemetryFaults` says where the two disagree. Pure functions: the scenario feeds them, a unit test checks them.
 */
import { quantile } from '../paxos/figures.js';
import type { PhaseBound, SecondPoint } from '../paxos/figures.js';
import { SIZES, methodPath } from './workload.js';
import type { InventoryMethod } from './workload.js';

/** One call of the client: [method, invoke, complete (epoch ms), gRPC code, request bytes, response bytes]. */
export type CallRecord = [InventoryMethod, number, number, number, number, number];

/** gRPC status names by code. */
export const GRPC_CODES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const; // prettier-ignore
export const codeName = (code: number): string => GRPC_CODES[code] ?? `code ${code}`;

/** Calls of one method as one side counted them. */
export interface MethodCount {
  readonly calls: number;
  /** By gRPC status name. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Payload bytes (without the 5-byte prefixes) each way. */
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface SidecarPhase {
  readonly name: string;
  /** ms since the clients' measurement started. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Calls completed in the phase. */
  readonly calls: number;
  readonly callsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Per method path: calls completed in the phase by status name. */
  readonly statuses: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

const round = (v: number, digits = 2): number => Number(v.toFixed(digits));
const latency = (c: CallRecord): number => c[2] - c[1];
const tally = (xs: readonly string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
};

/** What the client saw, per method path (every method of the service, in its order). */
export function clientMethods(history: readonly CallRecord[], methods: readonly InventoryMethod[]): Record<string, MethodCount> {
  const out: Record<string, MethodCount> = {};
  for (const m of methods) {
    const calls = history.filter((c) => c[0] === m);
    const lat = calls.map(latency);
    out[methodPath(m)] = {
      calls: calls.length,
      statuses: tally(calls.map((c) => codeName(c[3]))),
      requestBytes: calls.reduce((s, c) => s + c[4], 0),
      responseBytes: calls.reduce((s, c) => s + c[5], 0),
      p50Ms: round(quantile(lat, 0.5)),
      p99Ms: round(quantile(lat, 0.99)),
    };
  }
  return out;
}

/** Calls/s and latency per phase, and each method's statuses in it (a call belongs to the phase it completed in). */
export function sidecarPhases(history: readonly CallRecord[], bounds: readonly PhaseBound[], t0: number): SidecarPhase[] {
  return bounds.map((b) => {
    const calls = history.filter((c) => c[2] > b.from && c[2] <= b.to);
    const byMethod: Record<string, Record<string, number>> = {};
    for (const c of calls) {
      const m = (byMethod[methodPath(c[0])] ??= {});
      const n = codeName(c[3]);
      m[n] = (m[n] ?? 0) + 1;
    }
    const lat = calls.map(latency);
    return {
      name: b.name,
      fromMs: Math.round(b.from - t0),
      toMs: Math.round(b.to - t0),
      calls: calls.length,
      callsPerSec: round(calls.length / (Math.max(b.to - b.from, 1) / 1000), 1),
      p50Ms: round(quantile(lat, 0.5)),
      p99Ms: round(quantile(lat, 0.99)),
      statuses: byMethod,
    };
  });
}

/** Calls/s and p99 of every whole second from `t0` to `t1` (epoch ms). */
export function callsPerSecond(history: readonly CallRecord[], t0: number, t1: number): SecondPoint[] {
  const out: SecondPoint[] = [];
  for (let s = t0; s + 1000 <= t1 + 1; s += 1000) {
    const calls = history.filter((c) => c[2] > s && c[2] <= s + 1000);
    out.push({ atMs: s + 1000 - t0, opsPerSec: calls.length, p99Ms: round(quantile(calls.map(latency), 0.99)) });
  }
  return out;
}

/** The bytes a completed call of `m` carries each way (workload.ts's fixed sizes). */
export const expectedBytes = (m: InventoryMethod): { request: number; response: number } => ({ request: SIZES[m].request, response: SIZES[m].response * SIZES[m].responses });

/** One sample of a Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** netaccel_sidecar_calls_total of one listener: per method path, calls by status name. */
export function metricCalls(samples: readonly Sample[], listener: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of samples) {
    if (s.name !== 'netaccel_sidecar_calls_total' || s.labels.listener !== listener || s.value === 0) continue;
    (out[s.labels.method!] ??= {})[s.labels.code!] = s.value;
  }
  return out;
}

/** The daemon's access log (pino lines `"msg":"grpc call"`): per method path, calls by status name, and the lines. */
export function accessLogCalls(log: string): { calls: Record<string, Record<string, number>>; lines: Record<string, unknown>[] } {
  const calls: Record<string, Record<string, number>> = {};
  const lines: Record<string, unknown>[] = [];
  for (const text of log.split('\n')) {
    if (!text.includes('"msg":"grpc call"')) continue;
    let l: Record<string, unknown>;
    try {
      l = JSON.parse(text) as Record<string, unknown>;
    } catch {
      continue; // a line being written
    }
    const m = (calls[String(l.method)] ??= {});
    const code = String(l.grpcCode);
    m[code] = (m[code] ?? 0) + 1;
    lines.push(l);
  }
  return { calls, lines };
}

/** A kernel counter (netaccel_sidecar_kernel_<what>) by method path; empty without the kernel path. */
export function kernelCounter(samples: readonly Sample[], what: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (s.name === `netaccel_sidecar_kernel_${what}` && s.labels.method !== undefined) out[s.labels.method] = s.value;
  return out;
}

const same = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => (a[k] ?? 0) !== 0 || (b[k] ?? 0) !== 0));
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
};
const show = (r: Readonly<Record<string, number>>): string => JSON.stringify(r);

/**
 * Where the sidecar's telemetry disagrees with what the client saw. The sidecar counts a call in
 * one of two places: in user space (GetStats, and each of `others`: /metrics, the access log) or,
 * when the kernel carried it on a spliced connection, in the kernel (`kernel`, by method: the
 * requests the kernel judged allowed, a denied one being handed to user space, which answers it;
 * and the payload of the DATA bytes it carried, the 5-byte prefixes removed). So per method the
 * client's calls by status must equal the user-space ones plus the kernel's as OK (the client
 * saw every other call succeed: the scenario checks that apart), and the client's payload bytes
 * the user-space ones plus the kernel's, for the methods no call of which was denied (a denied
 * call's request message may or may not have been read). Empty when they agree.
 */
export function telemetryFaults(
  client: Readonly<Record<string, MethodCount>>,
  sidecar: Readonly<Record<string, MethodCount>>,
  others: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>>,
  kernel: Readonly<Record<string, { readonly requests: number; readonly requestPayload: number; readonly responsePayload: number }>> = {},
): string[] {
  const faults: string[] = [];
  const kernelRequests = Object.fromEntries(Object.entries(kernel).map(([p, k]) => [p, k.requests]));
  const plusKernel = (path: string, statuses: Readonly<Record<string, number>>): Record<string, number> => {
    const k = kernelRequests[path] ?? 0;
    return k === 0 ? { ...statuses } : { ...statuses, OK: (statuses.OK ?? 0) + k };
  };
  const also = (path: string): string => ((kernelRequests[path] ?? 0) > 0 ? ` + the kernel's ${kernelRequests[path]} requests` : '');
  for (const [path, c] of Object.entries(client)) {
    const s = sidecar[path];
    if (!same(c.statuses, plusKernel(path, s?.statuses ?? {}))) faults.push(`${path}: the client saw ${show(c.statuses)}, the sidecar's GetStats ${show(s?.statuses ?? {})}${also(path)}`);
    for (const [source, calls] of Object.entries(others)) {
      if (!same(c.statuses, plusKernel(path, calls[path] ?? {}))) faults.push(`${path}: the client saw ${show(c.statuses)}, the sidecar's ${source} ${show(calls[path] ?? {})}${also(path)}`);
    }
    const req = (s?.requestBytes ?? 0) + (kernel[path]?.requestPayload ?? 0);
    const resp = (s?.responseBytes ?? 0) + (kernel[path]?.responsePayload ?? 0);
    if ((c.statuses.PERMISSION_DENIED ?? 0) === 0 && (c.requestBytes !== req || c.responseBytes !== resp)) {
      faults.push(`${path}: the client sent ${c.requestBytes} B and received ${c.responseBytes} B, the sidecar counted ${req} B and ${resp} B${also(path)}`);
    }
  }
  return faults;
}
