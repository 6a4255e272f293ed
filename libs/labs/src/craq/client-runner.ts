/**
 * The CRAQ scenario's client workload, run inside the client namespace by the scenario
 * (scenario.ts). It loads <keys> etcd keys (`<prefix>key-<rank>`, ~128 B values), prints
 * {"loaded":n}, then runs <clients> closed-loop clients through @netaccel/craq's Etcd3 (the
 * scheduler's placement over gRPC, the chain over UDP for placed keys, etcd for the rest, reads
 * answered by etcd reported as heat to Redis): each operation picks a key by Zipf(<zipf>)
 * popularity, a write with probability <writeRatio> (a value unique to the operation), else a
 * read. Every operation (the load's writes included) is recorded for the linearizability check;
 * one that fails (the client's retries exhausted, an etcd error) is of unknown outcome and counted
 * as an error. Once <stop file> exists the clients stop; the 64 hottest keys are read back once.
 * Prints {"at":ms,"ok":n,"unknown":n,"errors":n,"chainReads":n,"etcdReads":n,"retries":n} every
 * 250 ms and {"final":true,…} at the end; the history goes to <history file>, and beside it
 * `served.json`: per operation (by its index in the history) how it was served (`chain:<node>`
 * or `etcd`), each client having a CraqClient of its own over the shared view (exact lastServedBy).
 * Usage: client-runner <JSON: {etcd: string[], scheduler, redis, prefix, keys, clients, zipf, writeRatio, historyFile, stopFile, seed}>
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { CraqClient, Etcd3, HeatReporter } from '@netaccel/craq';
import { HistoryRecorder } from '@netaccel/linearizability';
import { seededRandom } from '@netaccel/paxos';
import { zipfSampler } from './zipf.js';

interface Args {
  readonly etcd: string[];
  readonly scheduler: string;
  readonly redis: string;
  readonly prefix: string;
  readonly keys: number;
  readonly clients: number;
  readonly zipf: number;
  readonly writeRatio: number;
  readonly historyFile: string;
  readonly stopFile: string;
  readonly seed: number;
}

const a = JSON.parse(process.argv[2]!) as Args;
const keyOf = (rank: number): string => `${a.prefix}key-${String(rank).padStart(5, '0')}`;
const pad = (s: string): string => s.padEnd(128, '.');
const now = (): number => performance.timeOrigin + performance.now();
const rec = new HistoryRecorder(now);
const redis = new Redis(a.redis, { lazyConnect: false, maxRetriesPerRequest: 2 });
const reporter = new HeatReporter(redis, { bucketMs: 1000, flushMs: 250 });
// The retry budget covers a chain node's failure: a write to a key whose dirty versions are full
// (their propagation died with the node) is answered RETRY until the scheduler has detected the
// failure (3 missed probes) and reconfigured the chain, which took 1.4-1.9 s in the lab under CI
// load (0.7-1.25 s since repair-dirty stopped waiting for resends the loader cannot make;
// a lost chain message without a failure is repaired within 1.5 x chain.lostMessageAfter). 12 attempts backing off 10 ms doubling to 1 s wait 5.3 s nominal, at least 2.6 s with the
// jitter; 8 attempts to 500 ms (1.1 s nominal) ran out in one CI run.
const RETRY = { timeoutMs: 100, attempts: 12, maxBackoffMs: 1000 } as const;
const client = new Etcd3({ hosts: a.etcd, craq: { scheduler: a.scheduler, refreshMs: 200, readFrom: 'round-robin', ...RETRY, reporter } });
let ok = 0;
let unknown = 0;
let errors = 0;
const errorSamples: string[] = [];
const stopped = (): boolean => existsSync(a.stopFile);

async function settle(op: Promise<unknown>, onOk: (v: unknown) => void, onUnknown: () => void): Promise<void> {
  try {
    onOk(await op);
    ok++;
  } catch (err) {
    onUnknown();
    unknown++;
    errors++;
    if (errorSamples.length < 5) errorSamples.push(err instanceof Error ? err.message : String(err));
  }
}

const served: string[] = [];
const clients = Array.from({ length: a.clients + 1 }, () => new CraqClient({ view: client.view, etcd: client.etcd, readFrom: 'round-robin', ...RETRY, reporter }));
const via = (c: CraqClient): string => { const b = c.lastServedBy; return b.via === 'etcd' ? 'etcd' : `chain:${b.node}`; };
const read = (c: CraqClient, key: string): Promise<void> => {
  const p = rec.begin({ kind: 'read', key });
  return settle(c.get(key).then((v) => v?.toString('utf8') ?? null), (v) => { rec.ok(p, v as string | null); served[p.id] = via(c); }, () => rec.unknown(p));
};
const write = (c: CraqClient, key: string, value: string): Promise<void> => {
  const p = rec.begin({ kind: 'write', key, value });
  return settle(c.put(key, value), () => { rec.ok(p); served[p.id] = via(c); }, () => rec.unknown(p));
};

// the load: straight to etcd (nothing is placed yet), 100 at a time
for (let r = 0; r < a.keys; r += 100) {
  await Promise.all(Array.from({ length: Math.min(100, a.keys - r) }, (_, i) => {
    const key = keyOf(r + i);
    const value = pad(`init-${r + i}-`);
    const p = rec.begin({ kind: 'write', key, value });
    return client.etcd.put(key).value(value).then(() => rec.ok(p));
  }));
}
process.stdout.write(`${JSON.stringify({ loaded: a.keys, at: Date.now() })}\n`);

const counters = (): Record<string, number> => {
  const c = clients.reduce((t, x) => { for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += x.counters[k]; return t; }, { chainReads: 0, etcdReads: 0, chainWrites: 0, etcdWrites: 0, retries: 0, notPlaced: 0 });
  return { ok, unknown, errors, chainReads: c.chainReads, etcdReads: c.etcdReads, chainWrites: c.chainWrites, etcdWrites: c.etcdWrites, retries: c.retries };
};
const progress = setInterval(() => process.stdout.write(`${JSON.stringify({ at: Date.now(), ...counters() })}\n`), 250);

async function run(c: number): Promise<void> {
  const rand = seededRandom(a.seed * 1000 + c);
  const rank = zipfSampler(a.keys, a.zipf, rand);
  for (let i = 0; !stopped(); i++) {
    const key = keyOf(rank());
    if (rand() < a.writeRatio) await write(clients[c]!, key, pad(`c${c}-${i}-`));
    else await read(clients[c]!, key);
  }
}

await Promise.all(Array.from({ length: a.clients }, (_, c) => run(c)));
for (let r = 0; r < Math.min(64, a.keys); r++) await read(clients[a.clients]!, keyOf(r));
clearInterval(progress);
await reporter.flush().catch(() => undefined);
writeFileSync(a.historyFile, JSON.stringify(rec.history()));
writeFileSync(join(dirname(a.historyFile), 'served.json'), JSON.stringify(served));
process.stdout.write(`${JSON.stringify({ final: true, at: Date.now(), ...counters(), ops: rec.history().length, errorSamples })}\n`);
for (const c of clients) await c.close();
client.close();
redis.disconnect();
