/**
 * Per-method telemetry: one record per (listener, method) with calls by gRPC status, payload
 * bytes and messages each way and a latency histogram. The Prometheus metrics and the Sidecar
 * API's GetStats read the same records, and every finished call is one access-log line (pino
 * NDJSON, component `access`) with what its client saw: the status, the bytes and messages of
 * each direction, the time from its HEADERS to its status.
 */
import type { Logger, Metrics } from '@netaccel/telemetry';
import { statusName } from './grpc-wire.js';

/** Latency buckets, seconds: the histogram's and GetStats' percentile estimates'. */
export const LATENCY_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;

/** The label of calls beyond `maxMethods` distinct methods of a listener. */
export const OTHER_METHOD = 'other';

/** One finished call, as the access log writes it. */
export interface CallRecord {
  readonly listener: string;
  readonly direction: string;
  readonly method: string;
  readonly remote: string;
  /** "host:port" of the upstream endpoint, "" when the call never reached one. */
  readonly upstream: string;
  readonly grpcStatus: number;
  readonly grpcMessage: string;
  readonly durationMs: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly requestMessages: number;
  readonly responseMessages: number;
  /** The `x-request-id` header of the call, if any. */
  readonly requestId: string | undefined;
}

export class MethodStats {
  calls = 0;
  readonly statuses = new Map<number, number>();
  requestBytes = 0;
  responseBytes = 0;
  requestMessages = 0;
  responseMessages = 0;
  latencySumMs = 0;
  /** Calls per latency bucket (LATENCY_BUCKETS_S, then +Inf). */
  readonly buckets = new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0);

  constructor(
    readonly listener: string,
    readonly method: string,
  ) {}

  add(c: CallRecord): void {
    this.calls += 1;
    this.statuses.set(c.grpcStatus, (this.statuses.get(c.grpcStatus) ?? 0) + 1);
    this.requestBytes += c.requestBytes;
    this.responseBytes += c.responseBytes;
    this.requestMessages += c.requestMessages;
    this.responseMessages += c.responseMessages;
    this.latencySumMs += c.durationMs;
    const s = c.durationMs / 1000;
    let i = LATENCY_BUCKETS_S.findIndex((b) => s <= b);
    if (i === -1) i = LATENCY_BUCKETS_S.length;
    this.buckets[i]! += 1;
  }

  /** The q-quantile latency in ms, interpolated within its bucket (as Prometheus' histogram_quantile). */
  quantileMs(q: number): number {
    if (this.calls === 0) return 0;
    const rank = q * this.calls;
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      const n = this.buckets[i]!;
      if (seen + n >= rank && n > 0) {
        const lo = i === 0 ? 0 : LATENCY_BUCKETS_S[i - 1]!;
        const hi = LATENCY_BUCKETS_S[i] ?? LATENCY_BUCKETS_S[LATENCY_BUCKETS_S.length - 1]!;
        return (lo + (hi - lo) * ((rank - seen) / n)) * 1000;
      }
      seen += n;
    }
    return LATENCY_BUCKETS_S[LATENCY_BUCKETS_S.length - 1]! * 1000;
  }
}

export class CallStats {
  private readonly table = new Map<string, Map<string, MethodStats>>();
  private readonly callsTotal;
  private readonly latency;
  private readonly bytes;
  private readonly messages;

  constructor(
    metrics: Metrics,
    private readonly access: Logger,
    private readonly opts: { maxMethods: number; accessLog: boolean },
  ) {
    this.callsTotal = metrics.counter({ name: 'sidecar_calls_total', help: 'gRPC calls through the sidecar by listener, method and gRPC status', labelNames: ['listener', 'method', 'code'] });
    this.latency = metrics.histogram({ name: 'sidecar_call_duration_seconds', help: 'Time from a call\'s request HEADERS to its status, by listener and method', labelNames: ['listener', 'method'], buckets: LATENCY_BUCKETS_S });
    this.bytes = metrics.counter({ name: 'sidecar_message_bytes_total', help: 'gRPC message payload bytes (without the 5-byte prefixes) by listener, method and direction (request, response)', labelNames: ['listener', 'method', 'direction'] });
    this.messages = metrics.counter({ name: 'sidecar_messages_total', help: 'gRPC messages by listener, method and direction (request, response)', labelNames: ['listener', 'method', 'direction'] });
  }

  /** The method's label: itself, or `other` once the listener tracks `maxMethods` methods. */
  private label(listener: string, method: string): MethodStats {
    let byMethod = this.table.get(listener);
    if (byMethod === undefined) this.table.set(listener, (byMethod = new Map()));
    let s = byMethod.get(method);
    if (s === undefined) {
      const name = byMethod.size < this.opts.maxMethods ? method : OTHER_METHOD;
      s = byMethod.get(name);
      if (s === undefined) byMethod.set(name, (s = new MethodStats(listener, name)));
    }
    return s;
  }

  record(c: CallRecord): void {
    const s = this.label(c.listener, c.method);
    s.add(c);
    const labels = { listener: c.listener, method: s.method };
    this.callsTotal.inc({ ...labels, code: statusName(c.grpcStatus) });
    this.latency.observe(labels, c.durationMs / 1000);
    this.bytes.inc({ ...labels, direction: 'request' }, c.requestBytes);
    this.bytes.inc({ ...labels, direction: 'response' }, c.responseBytes);
    this.messages.inc({ ...labels, direction: 'request' }, c.requestMessages);
    this.messages.inc({ ...labels, direction: 'response' }, c.responseMessages);
    if (this.opts.accessLog) {
      this.access.info(
        {
          listener: c.listener,
          direction: c.direction,
          method: c.method,
          remote: c.remote,
          upstream: c.upstream,
          grpcStatus: c.grpcStatus,
          grpcCode: statusName(c.grpcStatus),
          ...(c.grpcMessage === '' ? {} : { grpcMessage: c.grpcMessage }),
          durationMs: Math.round(c.durationMs * 1000) / 1000,
          requestBytes: c.requestBytes,
          responseBytes: c.responseBytes,
          requestMessages: c.requestMessages,
          responseMessages: c.responseMessages,
          ...(c.requestId === undefined ? {} : { requestId: c.requestId }),
        },
        'grpc call',
      );
    }
  }

  /** Every method's record, by listener then method; one listener's with `listener`. */
  methods(listener?: string): MethodStats[] {
    const out: MethodStats[] = [];
    for (const [l, byMethod] of [...this.table].sort(([a], [b]) => a.localeCompare(b))) {
      if (listener !== undefined && l !== listener) continue;
      out.push(...[...byMethod.values()].sort((a, b) => a.method.localeCompare(b.method)));
    }
    return out;
  }
}
