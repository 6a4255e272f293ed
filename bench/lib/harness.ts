/**
 * The benchmark harness. A benchmark records figures (subject, metric, value, unit) and
 * comparisons of a subject against a baseline measured in the same run; the harness prints a
 * table and writes `bench/results/<name>.json` in the shape ARCHITECTURE.md ("Benchmarks") gives.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Figure {
  subject: string;
  metric: string;
  value: number;
  unit: string;
}

export interface Comparison {
  metric: string;
  subject: string;
  baseline: string;
  ratio: number;
  goal: string;
  met: boolean;
}

export interface BenchResult {
  benchmark: string;
  when: string;
  host: { cpus: number; kernel: string; node: string };
  figures: Figure[];
  comparisons: Comparison[];
}

export interface Benchmark {
  name: string;
  description: string;
  /** Whether it loads BPF programs or builds namespaces (and so needs root). */
  needsRoot: boolean;
  run(ctx: BenchContext): Promise<void>;
}

const GOAL_RE = /^(>=|<=|>|<)\s*(\d+(?:\.\d+)?)$/;

/** Parses a goal such as `>= 1.5` or `<= 0.65`; throws naming the goal when malformed. */
export function parseGoal(goal: string): (ratio: number) => boolean {
  const m = GOAL_RE.exec(goal.trim());
  if (!m) throw new Error(`goal: expected one of >=, <=, >, < and a number (e.g. ">= 1.5"), got ${JSON.stringify(goal)}`);
  const bound = Number(m[2]);
  switch (m[1]) {
    case '>=':
      return (r) => r >= bound;
    case '<=':
      return (r) => r <= bound;
    case '>':
      return (r) => r > bound;
    default:
      return (r) => r < bound;
  }
}

/** Which way is better for a goal: `>=` and `>` want a higher ratio, `<=` and `<` a lower one. */
export function goalDirection(goal: string): 'higher' | 'lower' {
  parseGoal(goal);
  return goal.trim().startsWith('>') ? 'higher' : 'lower';
}

/** The comparisons of a result that missed their goal. */
export function missedGoals(r: BenchResult): Comparison[] {
  return r.comparisons.filter((c) => !c.met);
}

/** `--strict` among the arguments or BENCH_STRICT=1: a missed goal fails the run (exit 1). */
export function isStrict(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.includes('--strict') || env.BENCH_STRICT === '1';
}

export class BenchContext {
  readonly figures: Figure[] = [];
  readonly comparisons: Comparison[] = [];

  constructor(readonly name: string) {}

  /** Records one measured value. Values must be finite. */
  figure(subject: string, metric: string, value: number, unit: string): Figure {
    if (!Number.isFinite(value)) throw new Error(`${this.name}: figure ${subject}/${metric} is not a finite number: ${value}`);
    const f = { subject, metric, value, unit };
    this.figures.push(f);
    return f;
  }

  /**
   * Compares the subject's figure for `metric` with the baseline's (both recorded in this run):
   * ratio = subject / baseline, held to `goal` (e.g. `>= 3` for throughput, `<= 0.65` for latency).
   */
  compare(metric: string, subject: string, baseline: string, goal: string): Comparison {
    const find = (s: string): Figure => {
      const f = this.figures.find((x) => x.subject === s && x.metric === metric);
      if (!f) throw new Error(`${this.name}: no figure ${s}/${metric} recorded in this run to compare`);
      return f;
    };
    const a = find(subject);
    const b = find(baseline);
    if (a.unit !== b.unit) throw new Error(`${this.name}: ${metric}: units differ (${a.unit} vs ${b.unit})`);
    if (b.value === 0) throw new Error(`${this.name}: ${metric}: baseline ${baseline} measured 0; no ratio`);
    // the goal is judged on the ratio as recorded (3 decimals), so the JSON and the table agree
    // with their own `met` (0.9496 is recorded 0.95, which meets ">= 0.95")
    const ratio = Math.round((a.value / b.value) * 1000) / 1000;
    const c = { metric, subject, baseline, ratio, goal, met: parseGoal(goal)(ratio) };
    this.comparisons.push(c);
    return c;
  }

  result(when = new Date()): BenchResult {
    return {
      benchmark: this.name,
      when: when.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      host: { cpus: os.cpus().length, kernel: os.release(), node: process.versions.node },
      figures: this.figures,
      comparisons: this.comparisons,
    };
  }
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** The human-readable report of a result: figures, then comparisons. */
export function renderResult(r: BenchResult): string {
  const out = [`== ${r.benchmark} (${r.when}, ${r.host.cpus} cpus, kernel ${r.host.kernel})`];
  out.push(table([['subject', 'metric', 'value', 'unit'], ...r.figures.map((f) => [f.subject, f.metric, fmt(f.value), f.unit])]));
  if (r.comparisons.length > 0) {
    out.push('');
    out.push(
      table([
        ['metric', 'subject', 'baseline', 'ratio', 'goal', 'met', 'better'],
        ...r.comparisons.map((c) => [c.metric, c.subject, c.baseline, c.ratio.toFixed(3), c.goal, c.met ? 'yes' : 'NO', `${goalDirection(c.goal)} ratio`]),
      ]),
    );
    const missed = missedGoals(r);
    if (missed.length > 0) {
      out.push('');
      for (const c of missed) {
        out.push(`missed: ${c.metric} of ${c.subject} against ${c.baseline}: ratio ${c.ratio.toFixed(3)}, goal ${c.goal} (a ${goalDirection(c.goal)} ratio is better)`);
      }
      out.push('(BENCH_STRICT=1 make bench, or bench/run.ts --strict, fails on a missed goal)');
    }
  }
  return out.join('\n');
}

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes `<dir>/<name>.json` and returns its path. */
export function writeResult(r: BenchResult, dir = resultsDir): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${r.benchmark}.json`);
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
  return path;
}

/** Summary statistics of samples (ns, ops/s …): median and spread, for interleaved runs. */
export function stats(samples: number[]): { median: number; min: number; max: number; p99: number } {
  if (samples.length === 0) throw new Error('stats: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 0 ? (s[mid - 1]! + s[mid]!) / 2 : s[mid]!;
  return { median, min: s[0]!, max: s[s.length - 1]!, p99: at(0.99) };
}
