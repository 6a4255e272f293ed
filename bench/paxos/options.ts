/**
 * Options and pure helpers of the paxos benchmark: the environment table (full and quick), the
 * offload configurations compared, the order configurations run in each round, and the reduction
 * of interleaved rounds to medians.
 *
 * | variable | full | quick | meaning |
 * |---|---|---|---|
 * | `PAXOS_BENCH_QUICK` | 0 | 1 | 1: the quick table (a smoke run, < 60 s) |
 * | `PAXOS_BENCH_SIZES` | 3,5,7 | 3,7 | replicas per group, batched (the library's default, ours); `0`: none (the paper's setting alone) |
 * | `PAXOS_BENCH_CLIENTS` | 1,4,16,64,256 | 16,256 | closed-loop clients per point (paxos-gen: one put outstanding each) |
 * | `PAXOS_BENCH_CONFIGS` | none,broadcast,fast-ack,quorum,all | same | offload configurations |
 * | `PAXOS_BENCH_SECONDS` | 1.5 | 1 | measurement per point |
 * | `PAXOS_BENCH_WARMUP_MS` | 300 | 200 | warm-up per point (after switching offloads) |
 * | `PAXOS_BENCH_ROUNDS` | 3 | 1 | interleaved rounds (figures are medians over rounds) |
 * | `PAXOS_BENCH_VIEW_CHANGE_MS` | 2000 | 2000 | the replicas' view change timeout |
 * | `PAXOS_BENCH_UNBATCHED` | 7 | (none) | the paper's setting: sizes run once more with one request per log entry (maxBatch 1, as Electrode's bench/replica runs VR); `0`: none |
 * | `PAXOS_BENCH_UNBATCHED_CONFIGS` | none,all | none,all | configurations of the unbatched groups (closed loop; paced: those in PAXOS_BENCH_PACED_CONFIGS) |
 * | `PAXOS_BENCH_LOADS` | 50,80,100 | 50,100 | paced points: offered load in % of none's peak (this run's closed-loop curve); `0`: none |
 * | `PAXOS_BENCH_PACED_SECONDS` | 3 | 1 | measurement per paced point (a p99 wants more samples than a throughput) |
 * | `PAXOS_BENCH_PACED_CLIENTS` | 512 | 512 | clients of a paced point (they bound the puts in flight, not the load) |
 * | `PAXOS_BENCH_THREADED_NAPI` | 0 | 0 | 1: an experiment, every veth's NAPI poll (the receive path and XDP) in a kthread (`napi/<dev>`) instead of the softirq of the sending CPU, which on veth is the sender's: the leader |
 * | `PAXOS_BENCH_PACED_CONFIGS` | none,all | none,all | configurations measured paced (none always; those a group of the run measures), in every group |
 */

/** electrode_state.offloads bits (ELECTRODE_OFF in @netaccel/bpf-programs/electrode). */
export const OFFLOAD_BITS = Object.freeze({ none: 0, broadcast: 0x1, 'fast-ack': 0x2, quorum: 0x4, all: 0x7 } as const);
export type ConfigName = keyof typeof OFFLOAD_BITS;
export const CONFIG_NAMES = Object.keys(OFFLOAD_BITS) as ConfigName[];

export interface PaxosBenchOptions {
  readonly quick: boolean;
  readonly sizes: readonly number[];
  readonly clients: readonly number[];
  readonly configs: readonly ConfigName[];
  readonly seconds: number;
  readonly warmupMs: number;
  readonly rounds: number;
  readonly viewChangeMs: number;
  /** Sizes also run unbatched (maxBatch 1: one request per log entry): the paper's setting. */
  readonly unbatched: readonly number[];
  /** Configurations of the unbatched groups. */
  readonly unbatchedConfigs: readonly ConfigName[];
  /** Paced (open-loop) points: offered loads in percent of none's measured peak; empty: none. */
  readonly loads: readonly number[];
  readonly pacedSeconds: number;
  readonly pacedClients: number;
  readonly pacedConfigs: readonly ConfigName[];
  /** Experiment: the veths' NAPI threaded (PAXOS_BENCH_THREADED_NAPI=1). */
  readonly threadedNapi: boolean;
}

export const FULL_DEFAULTS: Omit<PaxosBenchOptions, 'quick' | 'threadedNapi'> = Object.freeze({
  sizes: [3, 5, 7],
  clients: [1, 4, 16, 64, 256],
  configs: CONFIG_NAMES,
  seconds: 1.5,
  warmupMs: 300,
  rounds: 3,
  viewChangeMs: 2000,
  unbatched: [7],
  unbatchedConfigs: ['none', 'all'] as ConfigName[],
  loads: [50, 80, 100],
  pacedSeconds: 3,
  pacedClients: 512,
  pacedConfigs: ['none', 'all'] as ConfigName[],
});

export const QUICK_DEFAULTS: Omit<PaxosBenchOptions, 'quick' | 'threadedNapi'> = Object.freeze({
  sizes: [3, 7],
  clients: [16, 256],
  configs: CONFIG_NAMES,
  seconds: 1,
  warmupMs: 200,
  rounds: 1,
  viewChangeMs: 2000,
  unbatched: [],
  unbatchedConfigs: ['none', 'all'] as ConfigName[],
  loads: [50, 100],
  pacedSeconds: 1,
  pacedClients: 512,
  pacedConfigs: ['none', 'all'] as ConfigName[],
});

type Env = Readonly<Record<string, string | undefined>>;

function numberList(env: Env, name: string, min: number, max: number, fallback: readonly number[]): readonly number[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const xs = raw.split(',').map((s) => s.trim());
  const out = xs.map(Number);
  if (out.some((x) => !Number.isInteger(x) || x < min || x > max)) throw new Error(`${name}: expected integers ${min}..${max} separated by commas, got ${JSON.stringify(raw)}`);
  return out;
}

function configList(env: Env, name: string, fallback: readonly ConfigName[]): readonly ConfigName[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const names = raw.split(',').map((s) => s.trim());
  const bad = names.filter((n) => !(CONFIG_NAMES as string[]).includes(n));
  if (bad.length > 0) throw new Error(`${name}: unknown ${bad.join(', ')}; known: ${CONFIG_NAMES.join(', ')}`);
  if (!names.includes('none')) throw new Error(`${name}: must include none (the baseline of every ratio)`);
  return names as ConfigName[];
}

function positive(env: Env, name: string, fallback: number, integer: boolean): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const x = Number(raw);
  if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x))) throw new Error(`${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}`);
  return x;
}

/** The options from the environment: the quick or full table, each variable overriding it. */
export function benchOptions(env: Env = process.env): PaxosBenchOptions {
  const q = env.PAXOS_BENCH_QUICK ?? '0';
  if (q !== '0' && q !== '1') throw new Error(`PAXOS_BENCH_QUICK: expected 0 or 1, got ${JSON.stringify(q)}`);
  const quick = q === '1';
  const t = env.PAXOS_BENCH_THREADED_NAPI ?? '0';
  if (t !== '0' && t !== '1') throw new Error(`PAXOS_BENCH_THREADED_NAPI: expected 0 or 1, got ${JSON.stringify(t)}`);
  const d = quick ? QUICK_DEFAULTS : FULL_DEFAULTS;
  const sizes = env.PAXOS_BENCH_SIZES?.trim() === '0' ? [] : numberList(env, 'PAXOS_BENCH_SIZES', 3, 15, d.sizes);
  if (sizes.some((n) => n % 2 === 0)) throw new Error(`PAXOS_BENCH_SIZES: a group has an odd number of replicas (2f+1), got ${sizes.join(',')}`);
  const configs = configList(env, 'PAXOS_BENCH_CONFIGS', d.configs);
  const paced = configList(env, 'PAXOS_BENCH_PACED_CONFIGS', d.pacedConfigs);
  const unbatched = env.PAXOS_BENCH_UNBATCHED?.trim() === '0' ? [] : numberList(env, 'PAXOS_BENCH_UNBATCHED', 3, 15, d.unbatched);
  if (unbatched.some((n) => n % 2 === 0)) throw new Error(`PAXOS_BENCH_UNBATCHED: a group has an odd number of replicas (2f+1), got ${unbatched.join(',')}`);
  const unbatchedConfigs = configList(env, 'PAXOS_BENCH_UNBATCHED_CONFIGS', d.unbatchedConfigs);
  if (sizes.length === 0 && unbatched.length === 0) throw new Error('PAXOS_BENCH_SIZES=0 with PAXOS_BENCH_UNBATCHED=0: no group to measure');
  // paced: the configurations some group of this run measures
  const measured = new Set<ConfigName>([...(sizes.length > 0 ? configs : []), ...(unbatched.length > 0 ? unbatchedConfigs : [])]);
  const pacedClients = positive(env, 'PAXOS_BENCH_PACED_CLIENTS', d.pacedClients, true);
  if (pacedClients > 4096) throw new Error(`PAXOS_BENCH_PACED_CLIENTS: at most 4096 (paxos-gen's limit), got ${pacedClients}`);
  return {
    quick,
    sizes,
    clients: numberList(env, 'PAXOS_BENCH_CLIENTS', 1, 512, d.clients),
    configs,
    seconds: positive(env, 'PAXOS_BENCH_SECONDS', d.seconds, false),
    warmupMs: positive(env, 'PAXOS_BENCH_WARMUP_MS', d.warmupMs, true),
    rounds: positive(env, 'PAXOS_BENCH_ROUNDS', d.rounds, true),
    viewChangeMs: positive(env, 'PAXOS_BENCH_VIEW_CHANGE_MS', d.viewChangeMs, true),
    unbatched,
    unbatchedConfigs,
    loads: env.PAXOS_BENCH_LOADS?.trim() === '0' ? [] : numberList(env, 'PAXOS_BENCH_LOADS', 1, 200, d.loads),
    pacedSeconds: positive(env, 'PAXOS_BENCH_PACED_SECONDS', d.pacedSeconds, false),
    pacedClients,
    pacedConfigs: CONFIG_NAMES.filter((c) => paced.includes(c) && measured.has(c)),
    threadedNapi: t === '1',
  };
}

/** The configurations in the order round `round` runs them: rotated by one each round. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const k = ((round % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Median of samples (the mean of the middle two when even); throws on none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median: no samples');
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 0 ? (s[mid - 1]! + s[mid]!) / 2 : s[mid]!;
}

/** Nearest-rank percentile (q in 0..1) of samples; 0 for none (a point where nothing completed). */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/**
 * The rates (op/s) of the paced points: `loads` percent of `peak` (none's peak throughput of the
 * same group in this run, closed loop), rounded to whole op/s. Both configurations of a
 * comparison are offered exactly these rates: p99 at the same load, measured, not read off a
 * curve.
 */
export function pacedRates(peak: number, loads: readonly number[]): { load: number; rate: number }[] {
  if (!Number.isFinite(peak) || peak <= 0) throw new Error(`paced rates: none's peak ${peak} op/s: expected a measured throughput > 0`);
  return loads.map((load) => ({ load, rate: Math.max(1, Math.round((peak * load) / 100)) }));
}

/** One measured point of one round. */
export interface RoundPoint {
  readonly ops: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time of the replica processes (user + system) over the point. */
  readonly replicaCpuUs: number;
  /** Softirq time of the whole machine over the point (/proc/stat). */
  readonly softirqUs: number;
  readonly viewChanges: number;
  /** Per role, over the point (same scale as replicaCpuUs): who saturates, and how often it woke. */
  readonly roles?: RoleTotals;
}

/** The leader's and the mean follower's CPU time (µs) and wake-ups (context switches). */
export interface RoleTotals {
  readonly leaderCpuUs: number;
  readonly followerCpuUs: number;
  readonly leaderWakeups: number;
  readonly followerWakeups: number;
}

export interface PointSummary {
  readonly opsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerOp: number;
  readonly softirqUsPerOp: number;
  /** Per operation, medians over rounds (when the rounds measured roles). */
  readonly roles?: RoleTotals;
  readonly viewChanges: number;
  readonly rounds: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Medians over rounds of one point; view changes are summed (any one marks the point). */
export function summarize(points: readonly RoundPoint[]): PointSummary {
  if (points.length === 0) throw new Error('summarize: no rounds');
  const perOp = (f: (p: RoundPoint) => number) => median(points.map((p) => (p.ops > 0 ? f(p) / p.ops : 0)));
  return {
    opsPerS: Math.round(median(points.map((p) => p.ops / p.seconds))),
    p50Ms: r3(median(points.map((p) => p.p50Ms))),
    p99Ms: r3(median(points.map((p) => p.p99Ms))),
    cpuUsPerOp: Math.round(perOp((p) => p.replicaCpuUs) * 10) / 10,
    softirqUsPerOp: Math.round(perOp((p) => p.softirqUs) * 10) / 10,
    viewChanges: points.reduce((s, p) => s + p.viewChanges, 0),
    rounds: points.length,
    ...(points.every((p) => p.roles !== undefined)
      ? {
          roles: {
            leaderCpuUs: Math.round(perOp((p) => p.roles!.leaderCpuUs) * 10) / 10,
            followerCpuUs: Math.round(perOp((p) => p.roles!.followerCpuUs) * 10) / 10,
            leaderWakeups: Math.round(perOp((p) => p.roles!.leaderWakeups) * 100) / 100,
            followerWakeups: Math.round(perOp((p) => p.roles!.followerWakeups) * 100) / 100,
          },
        }
      : {}),
  };
}

/** Sum of the softirq column over every `cpuN` line of /proc/stat, in microseconds (USER_HZ ticks). */
export function softirqUsOf(procStat: string, userHz = 100): number {
  let ticks = 0;
  for (const line of procStat.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (!/^cpu\d+$/.test(f[0] ?? '')) continue;
    const v = Number(f[7]);
    if (!Number.isFinite(v)) throw new Error(`/proc/stat: no softirq column in ${JSON.stringify(line)}`);
    ticks += v;
  }
  return (ticks * 1_000_000) / userHz;
}
