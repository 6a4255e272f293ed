/**
 * The loader's Prometheus metrics (prefix `netaccel_`): gRPC requests and latency from the
 * server's `onCall` hook, and — collected at each scrape from the kernel — each program's run
 * count and run time (BPF_ENABLE_STATS is held while the loader runs), each map's entry count,
 * objects, attachments by mode, and the records dropped as dangling at start-up.
 */
import { BPF_MAP_TYPE } from '@netaccel/bpf';
import type { OnCall } from '@netaccel/rpc';
import type { Metrics } from '@netaccel/telemetry';
import type { Loader } from './loader.js';
import { memberId } from './registry.js';

/** Hash maps are counted key by key at scrape time, up to this many (the gauge then says so). */
export const MAP_COUNT_LIMIT = 100_000;

const HASH_LIKE = new Set<number>([BPF_MAP_TYPE.hash, BPF_MAP_TYPE.percpu_hash, BPF_MAP_TYPE.lru_hash, BPF_MAP_TYPE.lru_percpu_hash]);
const ARRAY_LIKE = new Set<number>([BPF_MAP_TYPE.array, BPF_MAP_TYPE.percpu_array]);

/** Registers the metrics and answers the `onCall` hook for createRpcServer. */
export function registerLoaderMetrics(metrics: Metrics, loader: Loader): OnCall {
  const reg = loader.reg;
  const requests = metrics.counter({ name: 'loader_rpc_requests_total', help: 'Loader gRPC calls by method and status code', labelNames: ['method', 'code'] });
  const latency = metrics.histogram({
    name: 'loader_rpc_request_duration_seconds',
    help: 'Loader gRPC call duration by method',
    labelNames: ['method'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
  });

  // The kernel's counters of each program, as counters that stay monotonic when an object is
  // loaded again under the same id (the kernel's count restarts from 0).
  metrics.sampledCounter<'program' | 'object_sha256'>({
    name: 'loader_program_runs_total',
    help: 'Times the program ran, from the kernel (counted while run-time statistics are on)',
    labelNames: ['program', 'object_sha256'],
    sample: () => [...reg.objects.values()].flatMap((o) => [...o.programs].map(([name, prog]) => [{ program: memberId(o.record.id, name), object_sha256: o.record.sha256 }, Number(prog.info().runCount)] as const)),
  });
  metrics.sampledCounter<'program'>({
    name: 'loader_program_run_time_seconds_total',
    help: 'Time the program ran, from the kernel (counted while run-time statistics are on)',
    labelNames: ['program'],
    sample: () => [...reg.objects.values()].flatMap((o) => [...o.programs].map(([name, prog]) => [{ program: memberId(o.record.id, name) }, Number(prog.info().runTimeNs) / 1e9] as const)),
  });
  metrics.gauge({
    name: 'loader_map_entries',
    help: `Entries of each hash and array map (hash maps counted up to ${MAP_COUNT_LIMIT})`,
    labelNames: ['map', 'type'],
    collect() {
      this.reset();
      for (const o of reg.objects.values()) {
        for (const m of o.record.maps) {
          const map = o.maps.get(m.name);
          if (!map) continue;
          let n: number | undefined;
          if (ARRAY_LIKE.has(m.type)) n = m.maxEntries;
          else if (HASH_LIKE.has(m.type)) {
            n = 0;
            for (const _key of map.keys()) if (++n >= MAP_COUNT_LIMIT) break;
          }
          if (n !== undefined) this.set({ map: memberId(o.record.id, m.name), type: m.typeName }, n);
        }
      }
    },
  });
  metrics.gauge({
    name: 'loader_objects',
    help: 'Objects the loader holds',
    collect() {
      this.set(reg.objects.size);
    },
  });
  metrics.gauge({
    name: 'loader_attachments',
    help: 'Attachments the loader holds, by mode',
    labelNames: ['mode'],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const a of reg.attachments.values()) counts.set(a.mode, (counts.get(a.mode) ?? 0) + 1);
      for (const [mode, n] of counts) this.set({ mode }, n);
    },
  });
  metrics.gauge({
    name: 'loader_dangling_records',
    help: 'Records dropped at start-up because the kernel no longer had what they said',
    collect() {
      this.set(loader.report.dangling.length);
    },
  });
  metrics.gauge({
    name: 'loader_run_time_stats_enabled',
    help: '1 when programs count their runs (BPF_ENABLE_STATS held or kernel.bpf_stats_enabled=1)',
    collect() {
      this.set(loader.statsEnabled ? 1 : 0);
    },
  });

  // the label sets' children, made once: no label object or labels() call per call (prom-client's
  // children still validate and hash their labels at each inc/observe: ~2 % of a MapUpdate's
  // loader CPU in the 16:26 profile, bench/loader/README.md)
  const children = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();
  return (info) => {
    if (info.side !== 'server') return;
    const key = `${info.method} ${info.codeName}`;
    let c = children.get(key);
    if (c === undefined) {
      c = { count: requests.labels({ method: info.method, code: info.codeName }), time: latency.labels({ method: info.method }) };
      children.set(key, c);
    }
    c.count.inc();
    c.time.observe(info.durationMs / 1000);
  };
}
