/**
 * A daemon's Prometheus metrics: its own prom-client `Registry` (never the global one, so several
 * daemons or tests can live in one process), the process metrics prom-client collects
 * (`process_cpu_user_seconds_total`, `nodejs_heap_size_used_bytes`, …), a build-info gauge and
 * helpers that make counters, gauges and histograms whose names carry the package prefix.
 *
 *   const metrics = createMetrics({ app: 'lbd', version: '0.1.0' });
 *   const packets = metrics.counter({ name: 'xdp_packets_total', help: 'Packets seen', labelNames: ['action'] });
 *   packets.inc({ action: 'tx' }); // netaccel_xdp_packets_total{action="tx"} 1
 */
import process from 'node:process';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CollectFunction } from 'prom-client';
import { telemetryErrors } from './errors.js';
import { describe, failOption, isPlainObject, join, matches, nonEmptyString, optional, record } from './validate.js';

const { NA_ERR_TELEMETRY_METRIC_DUPLICATE } = telemetryErrors;

export interface MetricsOptions {
  /** The daemon's name, the `app` label of the build-info gauge. */
  app: string;
  /** The daemon's version, the `version` label of the build-info gauge. */
  version?: string;
  /** Prepended to every metric made through the helpers and to `build_info`. */
  prefix?: string;
  /** Labels added to every series of this registry (`{ node: 'worker-3' }`). */
  defaultLabels?: Readonly<Record<string, string>>;
  /** Collect prom-client's process and Node.js metrics (unprefixed, as dashboards expect). */
  processMetrics?: boolean;
}

export interface ResolvedMetricsOptions {
  readonly app: string;
  readonly version: string;
  readonly prefix: string;
  readonly defaultLabels: Readonly<Record<string, string>>;
  readonly processMetrics: boolean;
}

const DEFAULTS = Object.freeze({
  version: 'unknown',
  prefix: 'netaccel_',
  defaultLabels: Object.freeze({}) as Readonly<Record<string, string>>,
  processMetrics: true,
});

const KNOWN_OPTIONS = ['app', 'version', 'prefix', 'defaultLabels', 'processMetrics'] as const;

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const PREFIX_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
const LABEL_NAME_RE = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/;

export interface MetricSpec<L extends string> {
  /** The name without the prefix: `sessions_total` becomes `netaccel_sessions_total`. */
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface GaugeSpec<L extends string> extends MetricSpec<L> {
  /** Called at every scrape to set the gauge (`this.set(table.size)`). */
  collect?: CollectFunction<Gauge<L>>;
}

/** A counter kept by someone else (a data-plane map, the kernel), read at each scrape. */
export interface SampledCounterSpec<L extends string> extends MetricSpec<L> {
  /**
   * The current raw values by label set. They may restart from 0 (a map slot reused, a service
   * re-created, a program reloaded): the counter exported stays monotonic, adding the new raw
   * value after a drop and the difference otherwise.
   */
  sample: () => Iterable<readonly [Partial<Record<L, string>>, number]> | Promise<Iterable<readonly [Partial<Record<L, string>>, number]>>;
}

export interface HistogramSpec<L extends string> extends MetricSpec<L> {
  /** Upper bounds of the buckets, increasing; prom-client's defaults when absent. */
  buckets?: readonly number[];
}

export interface Metrics {
  readonly registry: Registry;
  readonly app: string;
  readonly version: string;
  readonly prefix: string;
  /** The content type of `text()`: Prometheus text format 0.0.4. */
  readonly contentType: string;
  /** The prefixed name of a metric: `name('sessions_total')` → `netaccel_sessions_total`. */
  name(name: string): string;
  /** A counter; its name ends in `_total`. */
  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L>;
  /** A counter read from elsewhere at each scrape, monotonic across the source's restarts. */
  sampledCounter<L extends string = never>(spec: SampledCounterSpec<L>): Counter<L>;
  /** A gauge; its name does not end in `_total` (that is a counter's). */
  gauge<L extends string = never>(spec: GaugeSpec<L>): Gauge<L>;
  histogram<L extends string = never>(spec: HistogramSpec<L>): Histogram<L>;
  /** The registry in Prometheus text format. */
  text(): Promise<string>;
}

export function resolveMetricsOptions(options: MetricsOptions): ResolvedMetricsOptions {
  const o = record(options, '', KNOWN_OPTIONS);
  return Object.freeze({
    app: nonEmptyString(o.app, 'app'),
    version: optional(o.version, DEFAULTS.version, (v) => nonEmptyString(v, 'version')),
    prefix: optional(o.prefix, DEFAULTS.prefix, (v) =>
      matches(v, PREFIX_RE, 'a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]* or ""', 'prefix'),
    ),
    defaultLabels: optional(o.defaultLabels, DEFAULTS.defaultLabels, (v) => {
      if (!isPlainObject(v)) throw failOption('defaultLabels', `expected an object, got ${describe(v)}`);
      for (const [k, value] of Object.entries(v)) {
        labelName(k, join('defaultLabels', k));
        if (typeof value !== 'string') throw failOption(join('defaultLabels', k), `expected a string, got ${describe(value)}`);
      }
      return Object.freeze({ ...(v as Record<string, string>) });
    }),
    processMetrics: optional(o.processMetrics, DEFAULTS.processMetrics, (v) => {
      if (typeof v !== 'boolean') throw failOption('processMetrics', `expected a boolean, got ${describe(v)}`);
      return v;
    }),
  });
}

/** Creates a daemon's metrics with their own registry. */
export function createMetrics(options: MetricsOptions): Metrics {
  const o = resolveMetricsOptions(options);
  const registry = new Registry();
  registry.setDefaultLabels({ ...o.defaultLabels });
  if (o.processMetrics) collectDefaultMetrics({ register: registry });

  const fullName = (name: string, path: string): string => {
    const full = o.prefix + matches(name, METRIC_NAME_RE, 'a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*', path);
    if (registry.getSingleMetric(full) !== undefined) throw NA_ERR_TELEMETRY_METRIC_DUPLICATE(full);
    return full;
  };
  const common = <L extends string>(spec: MetricSpec<L>, kind: string, extra: readonly string[]) => {
    const s = record(spec, kind, ['name', 'help', 'labelNames', ...extra]);
    const labelNames = optional(s.labelNames, [] as L[], (v) => {
      if (!Array.isArray(v)) throw failOption(`${kind}.labelNames`, `expected an array, got ${describe(v)}`);
      return v.map((l: unknown, i) => labelName(l, join(`${kind}.labelNames`, i)) as L);
    });
    return {
      name: fullName(s.name as string, `${kind}.name`),
      help: nonEmptyString(s.help, `${kind}.help`),
      labelNames,
      registers: [registry],
    };
  };

  // Prometheus naming: a counter's name ends in _total, nothing else's does (promtool check metrics).
  const counterName = <T extends { name: string }>(base: T, kind: string): T => {
    if (!base.name.endsWith('_total')) throw failOption(`${kind}.name`, `a counter's name ends in _total, got ${JSON.stringify(base.name)}`);
    return base;
  };
  const notCounterName = <T extends { name: string }>(base: T, kind: string): T => {
    if (base.name.endsWith('_total')) throw failOption(`${kind}.name`, `only a counter's name ends in _total, got ${JSON.stringify(base.name)}`);
    return base;
  };

  const metrics: Metrics = {
    registry,
    app: o.app,
    version: o.version,
    prefix: o.prefix,
    contentType: registry.contentType,
    name: (name) => o.prefix + name,
    counter: (spec) => new Counter(counterName(common(spec, 'counter', []), 'counter')),
    sampledCounter: <L extends string>(spec: SampledCounterSpec<L>) => {
      const base = counterName(common(spec, 'counter', ['sample']), 'counter');
      const last = new Map<string, number>();
      return new Counter<L>({
        ...base,
        async collect() {
          for (const [labels, value] of await spec.sample()) {
            const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
            const prev = last.get(key);
            last.set(key, value);
            // First seen: the raw value; dropped (restarted): the new raw value; else the growth.
            const delta = prev === undefined || value < prev ? value : value - prev;
            this.inc(labels as Partial<Record<L, string | number>>, delta);
          }
        },
      });
    },
    gauge: (spec) => {
      const base = notCounterName(common(spec, 'gauge', ['collect']), 'gauge');
      return spec.collect === undefined ? new Gauge(base) : new Gauge({ ...base, collect: spec.collect });
    },
    histogram: (spec) => {
      const base = notCounterName(common(spec, 'histogram', ['buckets']), 'histogram');
      if (spec.buckets === undefined) return new Histogram(base);
      return new Histogram({ ...base, buckets: buckets(spec.buckets, 'histogram.buckets') });
    },
    text: () => registry.metrics(),
  };

  const buildInfo = metrics.gauge({
    name: 'build_info',
    help: 'Build information of the daemon: app, version and Node.js version; always 1',
    labelNames: ['app', 'version', 'node'],
  });
  buildInfo.set({ app: o.app, version: o.version, node: process.version }, 1);
  return Object.freeze(metrics);
}

function labelName(value: unknown, path: string): string {
  return matches(value, LABEL_NAME_RE, 'a label name matching [a-zA-Z_][a-zA-Z0-9_]* not starting with __', path);
}

function buckets(value: unknown, path: string): number[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw failOption(path, `expected a non-empty array of increasing numbers, got ${describe(value)}`);
  }
  const out: number[] = [];
  for (const [i, b] of value.entries()) {
    const prev = out[out.length - 1];
    if (typeof b !== 'number' || !Number.isFinite(b) || (prev !== undefined && b <= prev)) {
      throw failOption(join(path, i), `expected a finite number above the previous bucket, got ${describe(b)}`);
    }
    out.push(b);
  }
  return out;
}
