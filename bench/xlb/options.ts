/**
 * Sizes and durations of the xlb benchmark, from the environment (validated once, defaults in
 * one table, frozen). `XLB_BENCH_QUICK=1` switches to the quick table (a smoke run of a few
 * seconds per section, for the namespace test); every other variable overrides one value.
 *
 * | variable | meaning |
 * |---|---|
 * | `XLB_BENCH_QUICK` | 1: quick defaults |
 * | `XLB_BENCH_SECTIONS` | comma list of `testrun`, `rate`, `e2e`, `control` (default all) |
 * | `XLB_BENCH_TESTRUN_ROUNDS` | rounds of the test-run section; figures are medians over rounds |
 * | `XLB_BENCH_ROUNDS` | rounds of the packet-rate section (every mode once per round) |
 * | `XLB_BENCH_E2E_ROUNDS` | rounds of the end-to-end section |
 * | `XLB_BENCH_SINGLE_RUNS` | test runs (repeat=1 calls) per path and round |
 * | `XLB_BENCH_KATRAN_LRU` | entries of each of Katran's per-CPU LRUs (its control plane's default: 4,000,000) |
 * | `XLB_BENCH_FLOOD_SECONDS` | UDP flood per mode and round |
 * | `XLB_BENCH_FLOWS` | UDP source ports the flood cycles through |
 * | `XLB_BENCH_WRK_SECONDS` | wrk run per mode, kind and round |
 * | `XLB_BENCH_WRK_CONNECTIONS` | wrk connections (`-c`) |
 * | `XLB_BENCH_WRK_THREADS` | wrk threads (`-t`) |
 */

export const SECTIONS = ['testrun', 'rate', 'e2e', 'control'] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface XlbBenchOptions {
  /** Quick table; also: no warm-up runs. */
  readonly quick: boolean;
  readonly sections: readonly SectionName[];
  readonly testRunRounds: number;
  readonly rounds: number;
  readonly e2eRounds: number;
  readonly singleRuns: number; // repeat=1 test runs per path and round
  readonly katranLru: number; // entries per Katran per-CPU LRU
  readonly floodSeconds: number; // s
  readonly flows: number; // source ports
  readonly wrkSeconds: number; // s
  readonly wrkConnections: number;
  readonly wrkThreads: number;
}

/** Full run: about 4 minutes on the 2-CPU development machine. */
export const FULL_DEFAULTS: Omit<XlbBenchOptions, 'quick' | 'sections'> = Object.freeze({
  testRunRounds: 11,
  rounds: 3,
  e2eRounds: 7,
  singleRuns: 3000,
  katranLru: 4_000_000, // KatranLb's default LruSize 8M over 2 forwarding cores
  floodSeconds: 1.5, // s, twice per mode and round (inline and threaded)
  flows: 256,
  wrkSeconds: 1, // s, per mode, load and round
  wrkConnections: 32,
  wrkThreads: 1,
});

/** Quick run (XLB_BENCH_QUICK=1): a smoke run, about 30 s in all. */
export const QUICK_DEFAULTS: Omit<XlbBenchOptions, 'quick' | 'sections'> = Object.freeze({
  testRunRounds: 1,
  rounds: 1,
  e2eRounds: 1,
  singleRuns: 300,
  katranLru: 100_000,
  floodSeconds: 0.5, // s
  flows: 64,
  wrkSeconds: 1, // s
  wrkConnections: 16,
  wrkThreads: 1,
});

const LIMITS: Readonly<Record<keyof typeof FULL_DEFAULTS, { env: string; min: number; max: number; integer: boolean }>> = Object.freeze({
  testRunRounds: { env: 'XLB_BENCH_TESTRUN_ROUNDS', min: 1, max: 50, integer: true },
  rounds: { env: 'XLB_BENCH_ROUNDS', min: 1, max: 20, integer: true },
  e2eRounds: { env: 'XLB_BENCH_E2E_ROUNDS', min: 1, max: 20, integer: true },
  singleRuns: { env: 'XLB_BENCH_SINGLE_RUNS', min: 10, max: 1_000_000, integer: true },
  katranLru: { env: 'XLB_BENCH_KATRAN_LRU', min: 1000, max: 16_000_000, integer: true },
  floodSeconds: { env: 'XLB_BENCH_FLOOD_SECONDS', min: 0.1, max: 60, integer: false },
  flows: { env: 'XLB_BENCH_FLOWS', min: 1, max: 60_000, integer: true },
  wrkSeconds: { env: 'XLB_BENCH_WRK_SECONDS', min: 1, max: 60, integer: true },
  wrkConnections: { env: 'XLB_BENCH_WRK_CONNECTIONS', min: 1, max: 1000, integer: true },
  wrkThreads: { env: 'XLB_BENCH_WRK_THREADS', min: 1, max: 16, integer: true },
});

/** Reads the options from `env`; throws naming the variable when a value is malformed. */
export function benchOptions(env: NodeJS.ProcessEnv = process.env): XlbBenchOptions {
  const quickText = env.XLB_BENCH_QUICK ?? '';
  if (!['', '0', '1'].includes(quickText)) throw new Error(`XLB_BENCH_QUICK: expected 0 or 1, got ${JSON.stringify(quickText)}`);
  const quick = quickText === '1';
  const base = quick ? QUICK_DEFAULTS : FULL_DEFAULTS;
  const out: Record<string, number> = {};
  for (const [key, lim] of Object.entries(LIMITS)) {
    const text = env[lim.env];
    if (text === undefined || text === '') {
      out[key] = base[key as keyof typeof base];
      continue;
    }
    const v = Number(text);
    if (!Number.isFinite(v) || v < lim.min || v > lim.max || (lim.integer && !Number.isInteger(v))) {
      throw new Error(`${lim.env}: expected ${lim.integer ? 'an integer' : 'a number'} ${lim.min}..${lim.max}, got ${JSON.stringify(text)}`);
    }
    out[key] = v;
  }
  const sectionsText = env.XLB_BENCH_SECTIONS ?? '';
  const sections = sectionsText === '' ? [...SECTIONS] : sectionsText.split(',').map((s) => s.trim());
  for (const s of sections) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`XLB_BENCH_SECTIONS: expected a comma list of ${SECTIONS.join(', ')}, got ${JSON.stringify(s)}`);
  }
  return Object.freeze({ quick, sections: Object.freeze(sections as SectionName[]), ...(out as Omit<XlbBenchOptions, 'quick' | 'sections'>) });
}
