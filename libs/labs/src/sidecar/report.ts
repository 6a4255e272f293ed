/**
 * What a run of the sidecar scenario answers, and writes as sidecar-report.json beside its logs.
 */
import type { SecondPoint } from '../paxos/figures.js';
import type { MethodCount, SidecarPhase } from './figures.js';

/** One method as the client, the sidecar (GetStats and /metrics) and the server saw it. */
export interface MethodReport {
  /** "/lab.Inventory/Get". */
  readonly method: string;
  readonly client: MethodCount;
  /** GetStats of the listener (latency estimates from the daemon's histogram). */
  readonly sidecar: MethodCount & { readonly requestMessages: number; readonly responseMessages: number };
  /** netaccel_sidecar_calls_total by status name. */
  readonly metrics: Readonly<Record<string, number>>;
  /** The daemon's access-log lines by status name. */
  readonly accessLog: Readonly<Record<string, number>>;
  /** Calls that reached the server workload. */
  readonly server: number;
  /** The kernel path's counters of the method (netaccel_sidecar_kernel_*), when it is loaded and the method is in its policy. */
  readonly kernel?: {
    readonly requests: number;
    readonly responses: number;
    readonly denied: number;
    /** DATA bytes the kernel carried (the 5-byte gRPC prefixes included). */
    readonly requestBytes: number;
    readonly responseBytes: number;
    /** The same without the prefixes (one request message per call, SIZES' responses per call): the payload the client counts. */
    readonly requestPayload: number;
    readonly responsePayload: number;
  };
}

/** A client connection as ListConnections showed it at the end. */
export interface ConnectionReport {
  readonly id: string;
  readonly remote: string;
  readonly streams: number;
  readonly offloaded: boolean;
  readonly reason: string;
}

export interface SidecarReport {
  readonly scenario: 'sidecar';
  readonly runId: string;
  readonly startedAt: string;
  readonly quick: boolean;
  readonly clients: number;
  readonly layout: string;
  readonly logDir: string;
  readonly files: { readonly svg: string; readonly json: string; readonly history: string };
  readonly steps: readonly { readonly title: string; readonly ms: number }[];
  readonly phases: readonly SidecarPhase[];
  readonly methods: readonly MethodReport[];
  readonly policy: {
    readonly denied: string;
    /** ms from SIGHUP to the daemon's "configuration reloaded". */
    readonly reloadMs: number;
    /** The client connection(s) before the reload that were still open after it. */
    readonly connectionsKept: number;
    readonly connectionsBefore: number;
    /** Calls of the denied method before and after the reload, by status name (invoked after the reload for the latter). */
    readonly before: Readonly<Record<string, number>>;
    readonly after: Readonly<Record<string, number>>;
  };
  readonly offload: {
    /** The kernel path was asked for (kernel.via: direct). */
    readonly requested: boolean;
    /** /v1/status kernelPath ("loaded", …), or why the daemon was started without it. */
    readonly kernelPath: string;
    readonly loadError?: string;
    readonly connections: readonly ConnectionReport[];
    /** netaccel_sidecar_kernel_frames by reason (frames the kernel saw). */
    readonly frames: Readonly<Record<string, number>>;
    /** Requests the kernel carried (netaccel_sidecar_kernel_requests, every method): they have no access-log line, which is then not compared. */
    readonly kernelRequests: number;
  };
  /** The daemon's access log: its lines (one per call, etcd's included), one of a denied call. */
  readonly accessLog: { readonly lines: number; readonly denied?: Readonly<Record<string, unknown>> };
  readonly etcdHeat?: {
    /** Per key: Range and Put calls the client made through the sidecar, and the scores in Redis. */
    readonly keys: readonly { readonly key: string; readonly reads: number; readonly writes: number; readonly redisReads: number; readonly redisWrites: number }[];
    readonly error?: string;
  };
  readonly client: { readonly calls: number; readonly errors: number; readonly errorSamples: readonly string[] };
  readonly chart: { readonly points: readonly SecondPoint[]; readonly events: readonly { atMs: number; label: string }[]; readonly denied: readonly { fromMs: number; toMs: number }[]; readonly durationMs: number };
}
