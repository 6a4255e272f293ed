/**
 * Per-method telemetry: one record per (listener, method) with calls by gRPC status, payload
 * bytes and messages each way and a latency histogram. The Prometheus metrics and the Sidecar
 * API's GetStats read the same records, and every finished call is one access-log line (pino
 * NDJSON, component `access`) with what its client saw: the status, the bytes and messages of
 * each direction, the time from its HEADERS to its status.
 *
 * Per call the work is a handful of field updates: each method's record holds its metric
 * children bound once (no label objects hashed per call) and a pino child logger whose bindings
 * (listener, direction, method) are serialised once, so an access line only adds the call's own
 * fields, with no wildcard redaction pass over them (ACCESS_REDACT). Calls beyond `maxMethods`
 * share the `other` record and name their method per line.
 */
import { DEFAULT_REDACT_PATHS, REDACTED } from '@netaccel/telemetry';
import type { Logger, Metrics } from '@netaccel/telemetry';
import { statusName } from './grpc-wire.js';

/** Latency buckets, seconds: the histogram's and GetStats' percentile estimates'. */
export const LATENCY_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;

/**
 * The redaction of access lines: the default paths that can match a flat object (an access line
 * has no nested values, so the `*.key` paths never match one, and pino would run their wildcard
 * redactor on every field of every line).
 */
const ACCESS_REDACT = { paths: DEFAULT_REDACT_PATHS.filter((p) => !p.startsWith('*.')), censor: REDACTED };

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

/** A method's metric series, bound once (prom-client children). */
interface BoundSeries {
  readonly latency: { observe(v: number): void };
  readonly requestBytes: { inc(v: number): void };
  readonly responseBytes: { inc(v: number): void };
  readonly requestMessages: { inc(v: number): void };
  readonly responseMessages: { inc(v: number): void };
  /** `sidecar_calls_total` children by gRPC status code. */
  readonly calls: Map<number, { inc(): void }>;
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
  /** @internal the record's metric children and access logger (set by CallStats). */
  series: BoundSeries | undefined;
  /** @internal */
  access: Logger | undefined;
  /** @internal the direction `access` binds (a listener's, which a reload may change). */
  accessDirection: string | undefined;

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
    let i = 0;
    while (i < LATENCY_BUCKETS_S.length && s > LATENCY_BUCKETS_S[i]!) i++;
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

  /** The method's record: its own, or `other`'s once the listener tracks `maxMethods` methods. */
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

  private bind(s: MethodStats): BoundSeries {
    const labels = { listener: s.listener, method: s.method };
    const series: BoundSeries = {
      latency: this.latency.labels(labels),
      requestBytes: this.bytes.labels({ ...labels, direction: 'request' }),
      responseBytes: this.bytes.labels({ ...labels, direction: 'response' }),
      requestMessages: this.messages.labels({ ...labels, direction: 'request' }),
      responseMessages: this.messages.labels({ ...labels, direction: 'response' }),
      calls: new Map(),
    };
    s.series = series;
    return series;
  }

  record(c: CallRecord): void {
    const s = this.label(c.listener, c.method);
    s.add(c);
    const m = s.series ?? this.bind(s);
    let calls = m.calls.get(c.grpcStatus);
    if (calls === undefined) m.calls.set(c.grpcStatus, (calls = this.callsTotal.labels({ listener: s.listener, method: s.method, code: statusName(c.grpcStatus) })));
    calls.inc();
    m.latency.observe(c.durationMs / 1000);
    m.requestBytes.inc(c.requestBytes);
    m.responseBytes.inc(c.responseBytes);
    m.requestMessages.inc(c.requestMessages);
    m.responseMessages.inc(c.responseMessages);
    if (this.opts.accessLog) this.log(s, c);
  }

  /** The call's access line: the record's child logger carries listener, direction and method (the `other` record's names the method per line). */
  private log(s: MethodStats, c: CallRecord): void {
    const own = s.method === c.method;
    let log = s.access;
    if (log === undefined || s.accessDirection !== c.direction) {
      const bindings = own ? { listener: c.listener, direction: c.direction, method: c.method } : { listener: c.listener, direction: c.direction };
      // pino's child takes options (its own redaction); a logger whose child does not ignores them
      log = s.access = (this.access as Logger & { child(b: Record<string, unknown>, o: { redact: typeof ACCESS_REDACT }): Logger }).child(bindings, { redact: ACCESS_REDACT });
      s.accessDirection = c.direction;
    }
    const line: Record<string, unknown> = own ? {} : { method: c.method };
    line.remote = c.remote;
    line.upstream = c.upstream;
    line.grpcStatus = c.grpcStatus;
    line.grpcCode = statusName(c.grpcStatus);
    if (c.grpcMessage !== '') line.grpcMessage = c.grpcMessage;
    line.durationMs = Math.round(c.durationMs * 1000) / 1000;
    line.requestBytes = c.requestBytes;
    line.responseBytes = c.responseBytes;
    line.requestMessages = c.requestMessages;
    line.responseMessages = c.responseMessages;
    if (c.requestId !== undefined) line.requestId = c.requestId;
    log.info(line, 'grpc call');
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
