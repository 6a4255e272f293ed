import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { createMetrics } from './metrics.js';

/** The value of the series `name{labels}` in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe('createMetrics', () => {
  it('owns its registry: two instances coexist and the global registry stays empty', async () => {
    const a = createMetrics({ app: 'lbd' });
    const b = createMetrics({ app: 'bgpd' });
    assert.notEqual(a.registry, b.registry);
    assert.notEqual(a.registry, globalRegistry);
    a.counter({ name: 'same_name_total', help: 'h' }).inc();
    b.counter({ name: 'same_name_total', help: 'h' }).inc(5);
    assert.equal(sample(await a.text(), 'netaccel_same_name_total'), 1);
    assert.equal(sample(await b.text(), 'netaccel_same_name_total'), 5);
    assert.equal(globalRegistry.getMetricsAsArray().length, 0);
  });

  it('collects process and Node.js metrics, unprefixed', async () => {
    const metrics = createMetrics({ app: 'lbd' });
    // prom-client counts CPU time from the registry's creation, in scheduler ticks: spend some
    // so that the first scrape has something to see.
    const end = process.cpuUsage().user + 50_000;
    while (process.cpuUsage().user < end) {
      /* burn 50 ms of user CPU */
    }
    const text = await metrics.text();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_cpu_system_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.ok(sample(text, 'process_cpu_user_seconds_total')! > 0);
  });

  it('can leave the process metrics out', async () => {
    const text = await createMetrics({ app: 'lbd', processMetrics: false }).text();
    assert.doesNotMatch(text, /process_cpu_user_seconds_total/);
  });

  it('publishes build info as a gauge of 1 with app, version and node labels', async () => {
    const m = createMetrics({ app: 'lbd', version: '1.2.3' });
    const text = await m.text();
    assert.match(text, /^# TYPE netaccel_build_info gauge$/m);
    assert.equal(sample(text, `netaccel_build_info{app="lbd",version="1.2.3",node="${process.version}"}`), 1);
    const unknown = await createMetrics({ app: 'x' }).text();
    assert.equal(sample(unknown, `netaccel_build_info{app="x",version="unknown",node="${process.version}"}`), 1);
  });

  it('prefixes counters, gauges and histograms and honours a custom prefix', async () => {
    const m = createMetrics({ app: 'lbd', prefix: 'lb_', processMetrics: false });
    assert.equal(m.name('x'), 'lb_x');
    const c = m.counter({ name: 'packets_total', help: 'Packets', labelNames: ['action'] });
    const g = m.gauge({ name: 'backends', help: 'Backends' });
    const h = m.histogram({ name: 'lookup_seconds', help: 'Lookups', buckets: [0.1, 1] });
    c.inc({ action: 'tx' }, 3);
    g.set(7);
    h.observe(0.5);
    const text = await m.text();
    assert.equal(sample(text, 'lb_packets_total{action="tx"}'), 3);
    assert.equal(sample(text, 'lb_backends'), 7);
    assert.equal(sample(text, 'lb_lookup_seconds_bucket{le="0.1"}'), 0);
    assert.equal(sample(text, 'lb_lookup_seconds_bucket{le="1"}'), 1);
    assert.equal(sample(text, 'lb_build_info{app="lbd",version="unknown",node="' + process.version + '"}'), 1);
  });

  it('computes a gauge at scrape time through collect', async () => {
    const table = new Map([['a', 1]]);
    const m = createMetrics({ app: 'lbd', processMetrics: false });
    m.gauge({
      name: 'table_entries',
      help: 'Entries',
      collect() {
        this.set(table.size);
      },
    });
    assert.equal(sample(await m.text(), 'netaccel_table_entries'), 1);
    table.set('b', 2);
    assert.equal(sample(await m.text(), 'netaccel_table_entries'), 2);
  });

  it('adds the default labels to every series', async () => {
    const m = createMetrics({ app: 'lbd', defaultLabels: { node: 'worker-3' }, processMetrics: false });
    m.counter({ name: 'x_total', help: 'x' }).inc();
    assert.equal(sample(await m.text(), 'netaccel_x_total{node="worker-3"}'), 1);
  });

  it('refuses a second metric of the same name with a typed error', () => {
    const m = createMetrics({ app: 'lbd', processMetrics: false });
    m.counter({ name: 'dup_total', help: 'h' });
    assert.throws(() => m.gauge({ name: 'dup_total', help: 'h' }), {
      code: 'NA_ERR_TELEMETRY_METRIC_DUPLICATE',
      message: 'metric netaccel_dup_total is already registered',
    });
  });

  it('rejects bad names, labels, buckets and options with the path of the field first', () => {
    const m = createMetrics({ app: 'lbd', processMetrics: false });
    const code = 'NA_ERR_TELEMETRY_OPTIONS_INVALID';
    assert.throws(() => m.counter({ name: 'bad-name', help: 'h' }), {
      code,
      message: 'counter.name: expected a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*, got "bad-name"',
    });
    assert.throws(() => m.counter({ name: 'ok_total', help: '' }), { code, message: /^counter\.help: / });
    assert.throws(() => m.gauge({ name: 'g', help: 'h', labelNames: ['ok', '__reserved'] }), {
      code,
      message: /^gauge\.labelNames\[1\]: /,
    });
    assert.throws(() => m.histogram({ name: 'h', help: 'h', buckets: [1, 1] }), {
      code,
      message: 'histogram.buckets[1]: expected a finite number above the previous bucket, got 1',
    });
    assert.throws(() => createMetrics({ app: '' }), { code, message: /^app: / });
    assert.throws(() => createMetrics({ app: 'x', prefix: 'a-b' }), { code, message: /^prefix: / });
    assert.throws(() => createMetrics({ app: 'x', defaultLabels: { node: 3 as never } }), {
      code,
      message: 'defaultLabels.node: expected a string, got 3',
    });
    assert.throws(() => createMetrics({ app: 'x', labels: {} } as never), { code, message: /^labels: unknown option/ });
  });

  it('reports the Prometheus text content type', () => {
    assert.match(createMetrics({ app: 'x', processMetrics: false }).contentType, /^text\/plain; version=0\.0\.4/);
  });
});
