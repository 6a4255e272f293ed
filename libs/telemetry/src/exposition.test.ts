/** Unit: the text-format parser and promtool's lint rules, and a registry made by createMetrics passing them. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { PROM_CLIENT_LINT_EXCEPTIONS, lintExposition, parseExposition } from './exposition.js';
import { createMetrics } from './metrics.js';

test('parses help, type, labels with escapes, histograms into one family, special values and timestamps', () => {
  const f = parseExposition([
    '# HELP x_total Things\\nseen, with a \\\\ backslash',
    '# TYPE x_total counter',
    'x_total{path="/a\\"b\\\\c\\nd",code="200"} 3 1700000000000',
    '# a comment',
    '# HELP d_seconds Durations',
    '# TYPE d_seconds histogram',
    'd_seconds_bucket{le="0.1"} 1',
    'd_seconds_bucket{le="+Inf"} 2',
    'd_seconds_sum 0.35',
    'd_seconds_count 2',
    'g NaN',
    'h -Inf',
    '',
  ].join('\n'));
  assert.deepEqual(f.map((x) => [x.name, x.type, x.samples.length]), [['x_total', 'counter', 1], ['d_seconds', 'histogram', 4], ['g', 'untyped', 1], ['h', 'untyped', 1]]);
  assert.equal(f[0]!.help, 'Things\nseen, with a \\ backslash');
  assert.deepEqual(f[0]!.samples[0]!.labels, { path: '/a"b\\c\nd', code: '200' });
  assert.ok(Number.isNaN(f[2]!.samples[0]!.value));
  assert.equal(f[3]!.samples[0]!.value, -Infinity);
});

test('refuses what Prometheus would, naming the line', () => {
  const bad: [string, string][] = [
    ['x{a="1} 1', 'line 1: unterminated value of label a'],
    ['x{a="1",a="2"} 1', 'line 1: label a twice'],
    ['x one', 'line 1: expected a number, got "one"'],
    ['x 1\nx 2', 'line 2: series x{} twice'],
    ['x 1\ny 1\nx{a="b"} 1', 'line 3: the samples of x are not together'],
    ['x 1\n# TYPE x counter', 'line 2: TYPE of x after its samples'],
    ['# TYPE x countr', 'line 1: unknown type "countr" of x'],
    ['9x 1', 'line 1: expected a metric name, got "9x 1"'],
    ['x{a="\\t"} 1', 'line 1: bad escape \\t in label a'],
  ];
  for (const [text, message] of bad) assert.throws(() => parseExposition(text), { message }, text);
});

test('promtool\'s rules: each fires on its case', () => {
  const problems = lintExposition(parseExposition([
    '# TYPE a counter', 'a 1',
    '# HELP b_total B', '# TYPE b_total gauge', 'b_total 1',
    '# HELP latencyMs x', '# TYPE latencyMs gauge', 'latencyMs 1',
    '# HELP c_milliseconds x', '# TYPE c_milliseconds gauge', 'c_milliseconds 1',
    '# HELP d_count x', '# TYPE d_count gauge', 'd_count{le="1"} 1',
    '# HELP e_gauge x', '# TYPE e_gauge gauge', 'e_gauge{Peer="x"} 1',
    '# HELP h x', '# TYPE h histogram', 'h_bucket{le="+Inf"} 2', 'h_sum 1', 'h_count 3',
  ].join('\n')));
  assert.deepEqual(problems.map((p) => `${p.metric}: ${p.text}`), [
    'a: no help text',
    'a: counter metrics should have "_total" suffix',
    'b_total: non-counter metrics should not have "_total" suffix',
    "latencyMs: metric names should be written in 'snake_case' not 'camelCase'",
    'c_milliseconds: use base unit seconds instead of milliseconds',
    'd_count: non-histogram and non-summary metrics should not have "_count" or "_sum" suffix',
    'd_count: non-histogram metrics should not have "le" label',
    "e_gauge: metric name should not include type 'gauge'",
    "e_gauge: label names should be written in 'snake_case' not 'camelCase': Peer",
    'h: histogram h[]: the +Inf bucket is not _count',
  ]);
});

test('createMetrics\' own registry (process metrics, build info, a counter, a histogram) parses and lints clean', async () => {
  const m = createMetrics({ app: 'lbd', version: '1.2.3' });
  m.counter({ name: 'x_total', help: 'X', labelNames: ['k'] }).inc({ k: 'a\n"b' });
  m.histogram({ name: 'y_seconds', help: 'Y', labelNames: ['k'] }).observe({ k: 'a' }, 0.2);
  const families = parseExposition(await m.text());
  assert.deepEqual(lintExposition(families, { except: PROM_CLIENT_LINT_EXCEPTIONS }), []);
  assert.deepEqual([...new Set(lintExposition(families).map((p) => p.metric))], PROM_CLIENT_LINT_EXCEPTIONS, 'exactly prom-client\'s three gauges named _total');
  assert.equal(families.find((f) => f.name === 'netaccel_x_total')!.samples[0]!.labels.k, 'a\n"b');
});

test('names: a counter ends in _total, nothing else does; a sampled counter stays monotonic when its source restarts', async () => {
  const m = createMetrics({ app: 'lbd', processMetrics: false });
  assert.throws(() => m.counter({ name: 'packets', help: 'h' }), /counter\.name: a counter's name ends in _total, got "netaccel_packets"/);
  assert.throws(() => m.gauge({ name: 'packets_total', help: 'h' }), /gauge\.name: only a counter's name ends in _total/);
  assert.throws(() => m.histogram({ name: 'x_total', help: 'h' }), /histogram\.name: only a counter's name ends in _total/);
  let raw = new Map<string, number>([['a', 5], ['b', 1]]);
  m.sampledCounter({ name: 'packets_total', help: 'P', labelNames: ['s'], sample: () => [...raw].map(([s, v]) => [{ s }, v] as const) });
  const value = async (s: string) => parseExposition(await m.text()).find((f) => f.name === 'netaccel_packets_total')!.samples.find((x) => x.labels.s === s)?.value;
  assert.deepEqual([await value('a'), await value('b')], [5, 1]);
  raw = new Map([['a', 9], ['b', 1]]);
  assert.deepEqual([await value('a'), await value('b')], [9, 1]);
  raw = new Map([['a', 2]]); // a re-created (its data-plane counter from 0), b removed
  assert.deepEqual([await value('a'), await value('b')], [11, 1], 'a goes on from 9 (+2); b keeps its total');
  raw = new Map([['a', 2]]);
  assert.equal(await value('a'), 11, 'nothing new, nothing added');
});
