/**
 * bench/craq's end-to-end client, run inside the rig's client namespace by e2e-section.ts (one
 * process per task; prints one JSON line). Tasks:
 *
 *   load       put <keys> into etcd (etcd3 client) with <valueBytes>-byte values
 *   reads      for each of <concurrencies>: a closed loop of that many readers for <seconds> over
 *              <keys> (uniform, in turn):
 *              mode `chain` through @netaccel/craq's Etcd3 (placement view from the scheduler over
 *              gRPC, UDP to the chain nodes round-robin; it first waits until every key is in the
 *              view), `serializable` / `linearizable` through the etcd3 client straight to etcd
 *              (member-local reads / reads through the leader's read index). Per read latency;
 *              prints ops, seconds, p50/p99 (µs), the reads etcd answered instead of the chain,
 *              the errors and the process's CPU time.
 *   placement  for each key in turn: <concurrency> readers read it through @netaccel/craq's Etcd3
 *              (reads answered by etcd reported as heat to Redis, as a proxy would) until a read
 *              is answered by the chain; `via: pin` pins the key over the scheduler's gRPC instead
 *              of waiting for heat. Prints per key: ms from the first read (or the pin) to the
 *              key in the client's view, and to the first read answered by the chain.
 *
 * Usage: ns-e2e-client <JSON: {task, etcd: string[], scheduler?, redis?, keys: string[], ...}>
 */
import { performance } from 'node:perf_hooks';
import { Etcd3 as RealEtcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { CraqClient, Etcd3, HeatReporter } from '@netaccel/craq';
import { CraqClient as CraqRpcClient, craqV1, createRpcClient } from '@netaccel/rpc';

interface Args {
  readonly task: 'load' | 'reads' | 'placement';
  readonly etcd: string[];
  readonly scheduler?: string;
  readonly redis?: string;
  readonly keys: string[];
  readonly valueBytes?: number;
  readonly mode?: 'chain' | 'serializable' | 'linearizable';
  readonly via?: 'heat' | 'pin';
  readonly concurrency?: number;
  /** reads: one measurement per entry, in order, in the same process. */
  readonly concurrencies?: number[];
  readonly seconds?: number;
  readonly timeoutMs?: number;
}

const a = JSON.parse(process.argv[2]!) as Args;
const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const CLIENT_OPTS = { refreshMs: 200, readFrom: 'round-robin' as const, timeoutMs: 100, attempts: 8 };

function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function untilInView(client: Etcd3, keys: readonly string[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (keys.some((k) => client.view.lookup(k) === undefined)) {
    if (Date.now() > end) throw new Error(`keys not in the placement view after ${timeoutMs} ms: ${keys.filter((k) => client.view.lookup(k) === undefined).join(', ')}`);
    await sleep(50);
  }
}

async function load(): Promise<object> {
  const etcd = new RealEtcd3({ hosts: a.etcd });
  try {
    const value = 'v'.repeat(a.valueBytes ?? 128);
    for (let i = 0; i < a.keys.length; i += 50) await Promise.all(a.keys.slice(i, i + 50).map((k) => etcd.put(k).value(value)));
    return { loaded: a.keys.length };
  } finally {
    etcd.close();
  }
}

async function reads(): Promise<object> {
  const mode = a.mode ?? 'chain';
  const concurrency = a.concurrencies ?? [16];
  const seconds = a.seconds ?? 2;
  let read: () => Promise<unknown>;
  let close: () => Promise<void> | void;
  let etcdReads = (): number => 0;
  let retries = (): number => 0;
  let next = 0;
  const key = (): string => a.keys[next++ % a.keys.length]!;
  if (mode === 'chain') {
    const client = new Etcd3({ hosts: a.etcd, craq: { scheduler: a.scheduler!, ...CLIENT_OPTS } });
    await untilInView(client, a.keys, 10_000);
    read = () => client.craq.get(key());
    etcdReads = () => client.craq.counters.etcdReads;
    retries = () => client.craq.counters.retries;
    close = () => client.close();
  } else {
    const etcd = new RealEtcd3({ hosts: a.etcd });
    const serializable = mode === 'serializable';
    read = () => etcd.get(key()).serializable(serializable).buffer();
    close = () => etcd.close();
  }
  try {
    // warm-up (connections, JIT), then the measurement
    const loop = async (until: number, lat?: number[]): Promise<number> => {
      let errors = 0;
      while (now() < until) {
        const t = now();
        try {
          if ((await read()) === null) errors++;
        } catch {
          errors++;
        }
        lat?.push(now() - t);
      }
      return errors;
    };
    const warm = now() + 300;
    await Promise.all(Array.from({ length: Math.max(...concurrency) }, () => loop(warm)));
    const runs = [];
    for (const c of concurrency) {
      const etcd0 = etcdReads();
      const retries0 = retries();
      const lat: number[] = [];
      const cpu0 = process.cpuUsage();
      const t0 = now();
      const end = t0 + seconds * 1000;
      const errors = (await Promise.all(Array.from({ length: c }, () => loop(end, lat)))).reduce((x, y) => x + y, 0);
      const took = (now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const sorted = Float64Array.from(lat).sort();
      runs.push({ mode, concurrency: c, ops: lat.length, seconds: took, p50Us: quantile(sorted, 0.5) * 1000, p99Us: quantile(sorted, 0.99) * 1000, etcdReads: etcdReads() - etcd0, retries: retries() - retries0, errors, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
    }
    return { runs };
  } finally {
    await close();
  }
}

async function placement(): Promise<object> {
  const redis = new Redis(a.redis!, { maxRetriesPerRequest: 2 });
  const reporter = new HeatReporter(redis, { bucketMs: 1000, flushMs: 250 });
  const client = new Etcd3({ hosts: a.etcd, craq: { scheduler: a.scheduler!, ...CLIENT_OPTS, reporter } });
  const api = createRpcClient(CraqRpcClient, { address: a.scheduler! });
  const readers = Array.from({ length: a.concurrency ?? 4 }, () => new CraqClient({ view: client.view, etcd: client.etcd, ...CLIENT_OPTS, reporter }));
  const out: { key: string; viewMs: number; servedMs: number; reads: number }[] = [];
  try {
    await client.view.refresh();
    for (const key of a.keys) {
      if (client.view.lookup(key) !== undefined) throw new Error(`${key} is placed before it was read`);
      const t0 = now();
      if (a.via === 'pin') await api.pin(craqV1.PinRequest.create({ key }));
      let viewAt = 0;
      let servedAt = 0;
      let count = 0;
      const deadline = t0 + (a.timeoutMs ?? 20_000);
      await Promise.all(readers.map(async (c) => {
        while (servedAt === 0 && now() < deadline) {
          await c.get(key);
          count++;
          if (viewAt === 0 && client.view.lookup(key) !== undefined) viewAt = now();
          if (servedAt === 0 && c.lastServedBy.via === 'chain') servedAt = now();
          // a pinned key needs no heat: read it gently (each read still checks the path)
          if (a.via === 'pin') await sleep(5);
        }
      }));
      if (servedAt === 0) throw new Error(`${key}: not served by the chain within ${a.timeoutMs ?? 20_000} ms (${count} reads)`);
      out.push({ key, viewMs: (viewAt || servedAt) - t0, servedMs: servedAt - t0, reads: count });
    }
    return { via: a.via ?? 'heat', keys: out };
  } finally {
    for (const c of readers) await c.close();
    api.close();
    client.close();
    await reporter.close().catch(() => undefined);
    redis.disconnect();
  }
}

const tasks = { load, reads, placement };
try {
  process.stdout.write(`${JSON.stringify(await tasks[a.task]())}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`ns-e2e-client: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
}
