/**
 * Paxos (Viewstamped Replication, libs/paxos) baseline without offloads: throughput, median and
 * p99 latency and CPU per committed operation of a replica group on loopback, for 3, 5 and 7
 * replicas and several counts of closed-loop clients (load-latency curves). The Electrode
 * offload comparison (bpf/electrode) is added against these figures measured in the same run.
 *
 *   node --import tsx bench/run.ts paxos        (= make bench NAME=paxos; no root needed)
 *   PAXOS_BENCH_SECONDS=2                        measurement per point (after 0.5 s of warm-up)
 *   PAXOS_BENCH_SIZES=3,5,7 PAXOS_BENCH_CLIENTS=1,4,16,64
 *   PAXOS_BENCH_VIEW_CHANGE_MS=2000              the replicas' view change timeout
 *
 * Rig: each replica is its own Node process (bench/paxos/replica-process.ts) on 127.0.0.1 with
 * its own UDP port, like separate daemons; the clients are PaxosClients in this process, each
 * with one 'put' outstanding (16-byte keys, 32-byte values), re-sent to every replica after
 * 1 s, given up after 10 s. The view change timeout is 2 s rather than the library's 400 ms: on
 * this loaded 2-CPU machine a replica process is sometimes not scheduled for longer than 400 ms,
 * and every such pause started a view change (`view_changes` counts them). `ops_per_s` = replies received / measurement time; `cpu_us_per_op` = CPU time of
 * every replica process and of this process (the clients) / operations.
 *
 * What bounds the figures: every process shares the machine's 2 CPUs with the others (and with
 * other tenants), so a group of n replicas costs the leader n - 1 PREPARE sends and n - 1
 * PREPARE_OK receives per batch, each a system call and a crossing of the kernel — the cost the
 * Electrode offloads remove. Batching (one log entry per batch of requests that arrive in the
 * same event-loop turn) is what makes throughput grow with clients.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { KvClient, PaxosClient, encodeKvOp } from '@netaccel/paxos';
import type { Peer } from '@netaccel/paxos';
import type { BenchContext, Benchmark } from '../lib/harness.js';
import { stats } from '../lib/harness.js';

const SECONDS = Number(process.env.PAXOS_BENCH_SECONDS ?? 2);
const SIZES = (process.env.PAXOS_BENCH_SIZES ?? '3,5,7').split(',').map(Number);
const CLIENTS = (process.env.PAXOS_BENCH_CLIENTS ?? '1,4,16,64').split(',').map(Number);
const VIEW_CHANGE_MS = Number(process.env.PAXOS_BENCH_VIEW_CHANGE_MS ?? 2000);
const WARMUP_MS = 500;
const HOST = '127.0.0.1';

interface Stats {
  cpuUs: number;
  counters: Record<string, number>;
}

/** Free UDP ports on HOST (bound then released; the replicas bind them right after). */
async function freePorts(n: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: n }, () => new Promise<dgram.Socket>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, HOST, () => resolve(s));
    })),
  );
  const ports = sockets.map((s) => s.address().port);
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

class Group {
  private constructor(
    readonly peers: Peer[],
    private readonly children: ChildProcess[],
  ) {}

  static async start(n: number): Promise<Group> {
    const ports = await freePorts(n);
    const peers = ports.map((port) => ({ address: HOST, port }));
    const script = fileURLToPath(new URL('./replica-process.ts', import.meta.url));
    const children = peers.map((_, self) =>
      fork(script, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, NETACCEL_PAXOS_BENCH: JSON.stringify({ peers, self, viewChangeTimeoutMs: VIEW_CHANGE_MS }) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const group = new Group(peers, children);
    try {
      await Promise.all(children.map((c, i) => new Promise<void>((resolve, reject) => {
        c.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`replica ${i}: unexpected ${JSON.stringify(m)}`))));
        c.once('exit', (code) => reject(new Error(`replica ${i} exited with ${code}`)));
      })));
    } catch (err) {
      await group.close();
      throw err;
    }
    return group;
  }

  async stats(): Promise<Stats[]> {
    return Promise.all(this.children.map((c) => new Promise<Stats>((resolve) => {
      c.once('message', (m) => resolve(m as Stats));
      c.send('stats');
    })));
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const t = setTimeout(() => c.kill('SIGKILL'), 2000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      c.send('close');
    })));
  }
}

interface Point {
  ops: number;
  seconds: number;
  latenciesMs: number[];
  cpuUs: number;
}

/** Runs `clients` closed-loop clients for `ms`, counting what completes inside the window. */
async function measure(group: Group, kvs: KvClient[], ms: number): Promise<Point> {
  const before = await group.stats();
  const mainBefore = process.cpuUsage();
  const latenciesMs: number[] = [];
  let ops = 0;
  const started = performance.now();
  const end = started + ms;
  const value = 'v'.repeat(32);
  await Promise.all(kvs.map(async (kv, i) => {
    let n = 0;
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await kv.client.invoke(encodeKvOp({ kind: 'put', key: `key-${i.toString().padStart(6, '0')}-${n++ % 8}`, value }));
      } catch {
        continue; // a timeout: counted as nothing
      }
      const t1 = performance.now();
      if (t1 <= end) {
        ops++;
        latenciesMs.push(t1 - t0);
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const after = await group.stats();
  const main = process.cpuUsage(mainBefore);
  const cpuUs = after.reduce((s, a, i) => s + a.cpuUs - before[i]!.cpuUs, 0) + main.user + main.system;
  return { ops, seconds, latenciesMs, cpuUs };
}

const benchmark: Benchmark = {
  name: 'paxos',
  description: `VR replica groups of ${SIZES.join('/')} on loopback without offloads, ${CLIENTS.join('/')} closed-loop clients, ${SECONDS} s per point`,
  needsRoot: false,
  async run(ctx: BenchContext): Promise<void> {
    for (const n of SIZES) {
      const group = await Group.start(n);
      const kvs: KvClient[] = [];
      try {
        for (const clients of CLIENTS) {
          while (kvs.length < clients) kvs.push(new KvClient(await PaxosClient.create({ replicas: group.peers, retryMs: 1000, timeoutMs: 10_000 })));
          const active = kvs.slice(0, clients);
          await measure(group, active, WARMUP_MS);
          const p = await measure(group, active, SECONDS * 1000);
          const subject = `vr-n${n}-c${clients}`;
          const lat = stats(p.latenciesMs.length > 0 ? p.latenciesMs : [0]);
          ctx.figure(subject, 'ops_per_s', Math.round(p.ops / p.seconds), 'op/s');
          ctx.figure(subject, 'latency_p50_ms', Math.round(lat.median * 1000) / 1000, 'ms');
          ctx.figure(subject, 'latency_p99_ms', Math.round(lat.p99 * 1000) / 1000, 'ms');
          ctx.figure(subject, 'cpu_us_per_op', p.ops > 0 ? Math.round(p.cpuUs / p.ops) : 0, 'us');
        }
        const final = await group.stats();
        const leader = final[0]!.counters;
        ctx.figure(`vr-n${n}`, 'requests_per_entry', Math.round((leader.requests_executed! / Math.max(1, leader.ops_committed!)) * 100) / 100, 'req');
        ctx.figure(`vr-n${n}`, 'view_changes', final.reduce((s, x) => s + (x.counters.view_changes_started ?? 0), 0), 'count');
      } finally {
        await Promise.all(kvs.map((kv) => kv.close()));
        await group.close();
      }
    }
  },
};

export default benchmark;
