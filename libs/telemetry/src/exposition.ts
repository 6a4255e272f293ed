/**
 * The Prometheus text exposition format (0.0.4), read back: `parseExposition` parses what a
 * `/metrics` endpoint serves into metric families (refusing what a Prometheus server would:
 * bad names, unterminated or duplicate labels, values that are not numbers, a family split in
 * two, a series twice), and `lintExposition` applies `promtool check metrics`' rules (promlint):
 * help text, `_total` only and always on counters, base units, snake_case, the suffixes and
 * labels reserved for histograms and summaries, no type in the name.
 */

export interface ExpositionSample {
  /** The sample's own name: `x_bucket`, `x_sum`, `x_count` for a histogram `x`. */
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
  line: number;
}

export interface ExpositionFamily {
  name: string;
  help?: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: ExpositionSample[];
}

export interface LintProblem {
  metric: string;
  text: string;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function fail(line: number, text: string): Error {
  return new Error(`line ${line}: ${text}`);
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

function parseValue(text: string, line: number): number {
  // As Go's strconv.ParseFloat (Prometheus' parser): inf, infinity and nan in any case (prom-client writes "Nan").
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(text);
  if (special !== null) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw fail(line, `expected a number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at `i` (at `{`); returns the labels and the index after `}`. */
function parseLabels(s: string, i: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++;
  for (;;) {
    while (s[i] === ' ') i++;
    if (s[i] === '}') return [labels, i + 1];
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
    if (m === null) throw fail(line, `expected a label name at column ${i + 1}`);
    const name = m[0];
    i += name.length;
    if (s[i] !== '=' || s[i + 1] !== '"') throw fail(line, `expected ="…" after label ${name}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw fail(line, `unterminated value of label ${name}`);
      if (c === '"') break;
      if (c === '\\') {
        const n = s[i + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw fail(line, `bad escape \\${n ?? ''} in label ${name}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    if (Object.hasOwn(labels, name)) throw fail(line, `label ${name} twice`);
    labels[name] = value;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw fail(line, `expected , or } after label ${name}`);
  }
}

/** The family a sample belongs to: `x` for `x_bucket` of a histogram `x`. */
function familyOf(name: string, families: ReadonlyMap<string, ExpositionFamily>): string {
  for (const suffix of ['_bucket', '_sum', '_count', '_created']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const f = families.get(base);
      if (f !== undefined && (f.type === 'histogram' || f.type === 'summary')) return base;
    }
  }
  return name;
}

/** Parses a text exposition into its families, in order; throws `line N: …` on what Prometheus would refuse. */
export function parseExposition(text: string): ExpositionFamily[] {
  const families = new Map<string, ExpositionFamily>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const family = (name: string, line: number): ExpositionFamily => {
    if (current !== name) {
      if (closed.has(name)) throw fail(line, `the samples of ${name} are not together`);
      if (current !== undefined) closed.add(current);
      current = name;
    }
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (m === null) return; // a comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string | undefined];
      if (!NAME.test(name)) throw fail(line, `bad metric name ${JSON.stringify(name)}`);
      const f = family(name, line);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw fail(line, `a second HELP for ${name}`);
        f.help = unescapeHelp(rest ?? '');
      } else {
        const type = (rest ?? '').trim();
        if (!TYPES.has(type)) throw fail(line, `unknown type ${JSON.stringify(type)} of ${name}`);
        if (f.samples.length > 0) throw fail(line, `TYPE of ${name} after its samples`);
        if (f.type !== 'untyped') throw fail(line, `a second TYPE for ${name}`);
        f.type = type as ExpositionFamily['type'];
      }
      return;
    }
    const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (m === null) throw fail(line, `expected a metric name, got ${JSON.stringify(raw.slice(0, 20))}`);
    const name = m[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (raw[i] === '{') [labels, i] = parseLabels(raw, i, line);
    const rest = raw.slice(i).trim().split(/\s+/);
    if (raw[i] !== ' ' || rest.length < 1 || rest.length > 2 || rest[0] === '') throw fail(line, `expected "<name>[{labels}] <value> [timestamp]"`);
    const value = parseValue(rest[0]!, line);
    if (rest[1] !== undefined && !/^-?\d+$/.test(rest[1])) throw fail(line, `bad timestamp ${JSON.stringify(rest[1])}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    if (series.has(key)) throw fail(line, `series ${name}${JSON.stringify(labels)} twice`);
    series.add(key);
    family(familyOf(name, families), line).samples.push({ name, labels, value, line });
  });
  return [...families.values()];
}

// promlint: words of a name that are units other than the base ones, and the base unit to use.
const NON_BASE_UNITS: Readonly<Record<string, string>> = {
  milliseconds: 'seconds', microseconds: 'seconds', nanoseconds: 'seconds', ms: 'seconds', us: 'seconds', ns: 'seconds',
  minutes: 'seconds', hours: 'seconds', days: 'seconds', weeks: 'seconds',
  kilobytes: 'bytes', megabytes: 'bytes', gigabytes: 'bytes', terabytes: 'bytes', kb: 'bytes', mb: 'bytes', gb: 'bytes', kib: 'bytes', mib: 'bytes', gib: 'bytes',
  percent: 'ratios (0..1)', percentage: 'ratios (0..1)',
  fahrenheit: 'celsius',
};

/**
 * prom-client's own Node.js gauges that promtool flags (`_total` on a gauge): third-party names
 * dashboards expect, kept as they are; `lintExposition(f, { except })` leaves them out.
 */
export const PROM_CLIENT_LINT_EXCEPTIONS: readonly string[] = Object.freeze(['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total']);

/** `promtool check metrics`' rules; an empty list when the exposition is clean. */
export function lintExposition(families: readonly ExpositionFamily[], options: { except?: readonly string[] } = {}): LintProblem[] {
  const out: LintProblem[] = [];
  const say = (metric: string, text: string) => out.push({ metric, text });
  for (const f of families) {
    if (options.except?.includes(f.name) === true) continue;
    const n = f.name;
    if (f.help === undefined || f.help.trim() === '') say(n, 'no help text');
    if (f.type === 'counter' && !n.endsWith('_total')) say(n, 'counter metrics should have "_total" suffix');
    if (f.type !== 'counter' && n.endsWith('_total')) say(n, 'non-counter metrics should not have "_total" suffix');
    if (/[A-Z]/.test(n) || n.includes('__')) say(n, "metric names should be written in 'snake_case' not 'camelCase'");
    if (n.includes(':')) say(n, 'metric names should not contain ":" (reserved for recording rules)');
    for (const t of ['counter', 'gauge', 'histogram', 'summary']) if (n.split('_').includes(t)) say(n, `metric name should not include type '${t}'`);
    if (f.type !== 'histogram' && n.endsWith('_bucket')) say(n, 'non-histogram metrics should not have "_bucket" suffix');
    if (f.type !== 'histogram' && f.type !== 'summary' && (n.endsWith('_count') || n.endsWith('_sum'))) say(n, 'non-histogram and non-summary metrics should not have "_count" or "_sum" suffix');
    for (const word of n.toLowerCase().split('_')) {
      const base = Object.hasOwn(NON_BASE_UNITS, word) ? NON_BASE_UNITS[word] : undefined;
      if (base !== undefined) say(n, `use base unit ${base} instead of ${word}`);
    }
    const labelNames = new Set(f.samples.flatMap((s) => Object.keys(s.labels)));
    for (const l of labelNames) {
      if (!LABEL.test(l) || /[A-Z]/.test(l)) say(n, `label names should be written in 'snake_case' not 'camelCase': ${l}`);
      if (l === 'le' && f.type !== 'histogram') say(n, 'non-histogram metrics should not have "le" label');
      if (l === 'quantile' && f.type !== 'summary') say(n, 'non-summary metrics should not have "quantile" label');
    }
    if (f.type === 'counter') for (const s of f.samples) if (s.value < 0) say(n, `counter ${s.name}${JSON.stringify(s.labels)} is negative`);
    if (f.type === 'histogram') {
      const counts = f.samples.filter((s) => s.name === `${n}_count`);
      for (const c of counts) {
        const key = (l: Readonly<Record<string, string>>) => JSON.stringify(Object.entries(l).filter(([k]) => k !== 'le').sort(([a], [b]) => (a < b ? -1 : 1)));
        const inf = f.samples.find((s) => s.name === `${n}_bucket` && s.labels.le === '+Inf' && key(s.labels) === key(c.labels));
        if (inf === undefined || inf.value !== c.value) say(n, `histogram ${n}${key(c.labels)}: the +Inf bucket is not _count`);
      }
    }
  }
  return out;
}
