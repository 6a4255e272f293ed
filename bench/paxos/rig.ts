/**
 * The rig of the paxos benchmark (namespace prefix npb): replicas r0..r6 and a client node c in
 * namespaces on one bridge (node sw, br0). Replica processes (the replica runner of
 * @netaccel/labs' Paxos scenario, which the lab and bpf/electrode's namespace test run too) attach
 * the Electrode programs to their eth0; the sw ports facing them carry a trivial XDP program (XDP_TX into a veth
 * needs one on the peer) and every eth0 runs without TX checksum offload (the programs rewrite
 * UDP checksums in software). One group (n replicas) runs at a time; the clients process
 * (ns-clients.ts, which runs the C generator paxos-gen per point) lives as long as its group. Both are driven through control files.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject } from '@netaccel/bpf';
import { ELECTRODE_BPF_DIR } from '@netaccel/bpf-programs/electrode';
import { REPLICA_NODE_FLAGS, RUNNER_CWD, askReport, lastOffloads, runnerArgv } from '@netaccel/labs/paxos/processes';
import type { ReplicaReport } from '@netaccel/labs/paxos/processes';
import { Lab, waitFor } from '@netaccel/netlab';
import type { LabProcess, LabSpec } from '@netaccel/netlab';
import type { GenReport } from './gen.js';
import { softirqUsOf } from './options.js';
import { buildPaxosGen } from './tools.js';

export const MAX_REPLICAS = 7;
/** The replicas' V8 flags (a 64 MiB young generation): one definition, the lab's, which runnerArgv applies. */
export { REPLICA_NODE_FLAGS };
const PORT = 7470;
const ADDR = Array.from({ length: MAX_REPLICAS }, (_, i) => `10.81.0.${i + 1}`);
const CLIENT_ADDR = '10.81.0.100';
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPLICA_NODES = Array.from({ length: MAX_REPLICAS }, (_, i) => `r${i}`);

const spec: LabSpec = {
  name: 'paxos-bench',
  nodes: Object.fromEntries([['sw', {}], ...REPLICA_NODES.map((r) => [r, {}]), ['c', {}]]),
  links: [...REPLICA_NODES.map((r, i) => ({ a: `${r}:eth0`, b: `sw:p${i}`, aAddr: `${ADDR[i]}/24` })), { a: 'c:eth0', b: 'sw:pc', aAddr: `${CLIENT_ADDR}/24` }],
  bridges: [{ node: 'sw', name: 'br0', ports: [...REPLICA_NODES.map((_, i) => `p${i}`), 'pc'] }],
};

export type { ReplicaReport };

export interface ClientReport {
  seq: number;
  ops: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  unknown: number;
  acked: number;
  historyOps: number;
  lin: 'linearizable' | 'not-linearizable' | 'inconclusive';
  counterexample?: string;
  /** The generator's CPU time (µs) over the point (its report: gen). */
  cpuUs: number;
  gen?: GenReport;
  error?: string;
}

type Line = Record<string, unknown>;
const lines = (p: LabProcess): Line[] =>
  p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

/** Writes a control file atomically (the readers poll it). */
function writeControl(path: string, v: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(v));
  renameSync(`${path}.tmp`, path);
}

/**
 * CPU time (µs) so far of the kernel's threaded NAPI pollers (`napi/<dev>-<id>` kthreads: with
 * PAXOS_BENCH_THREADED_NAPI=1 the veths' receive path and XDP run there, outside the softirq
 * figure and the replicas' own time); 0 when there are none.
 */
export function napiCpuUsNow(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('napi/')) continue;
      const f = stat.slice(close + 2).split(' '); // from field 3 (state): utime is field 14, stime 15
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return (ticks * 1_000_000) / 100; // USER_HZ
}

/** Machine-wide softirq time so far (µs). */
export const softirqNow = (): number => softirqUsOf(readFileSync('/proc/stat', 'utf8'));

export class PaxosRig {
  private pass: BpfObject | undefined;
  private readonly pin = `/sys/fs/bpf/npb-${process.pid}`;
  private macs: string[] = [];
  private gen = '';

  private constructor(
    readonly lab: Lab,
    private readonly threadedNapi: boolean,
  ) {}

  /** `threadedNapi`: the experiment of PAXOS_BENCH_THREADED_NAPI (options.ts). */
  static async up(threadedNapi = false): Promise<PaxosRig> {
    const rig = new PaxosRig(new Lab(spec, { prefix: 'npb' }), threadedNapi);
    try {
      await rig.build();
    } catch (err) {
      await rig.down();
      throw err;
    }
    return rig;
  }

  private async build(): Promise<void> {
    const lab = this.lab;
    this.gen = buildPaxosGen();
    rmSync(this.pin, { recursive: true, force: true });
    mkdirSync(this.pin, { recursive: true });
    await lab.up();
    for (const n of [...REPLICA_NODES, 'c']) await lab.exec(n, ['ethtool', '-K', 'eth0', 'tx', 'off']);
    this.pass = BpfObject.openFile(join(ELECTRODE_BPF_DIR, 'build/selftest/selftest.bpf.o'));
    this.pass.setGlobal('drop_udp_port', 0);
    this.pass.load();
    this.pass.program('selftest_xdp').pin(`${this.pin}/pass`);
    for (const [i] of REPLICA_NODES.entries()) await lab.exec('sw', ['ip', 'link', 'set', 'dev', `p${i}`, 'xdpdrv', 'pinned', `${this.pin}/pass`], { sysfs: 'host' });
    if (this.threadedNapi) {
      // experiment: every veth's NAPI poll (XDP and the receive path) in a kthread of its own
      // instead of the softirq of the sending CPU
      for (const [i] of REPLICA_NODES.entries()) await lab.exec('sw', ['sh', '-c', `echo 1 > /sys/class/net/p${i}/threaded`]);
    }
    this.macs = await Promise.all(REPLICA_NODES.map(async (r) => (await lab.links(r)).find((l) => l.ifname === 'eth0')!.address!));
  }

  /** Starts a group of n replicas (r0..r{n-1}) and the clients process; offloads all off. */
  async startGroup(n: number, viewChangeMs: number, maxBatch?: number): Promise<Group> {
    if (n > MAX_REPLICAS) throw new Error(`paxos bench: at most ${MAX_REPLICAS} replicas, asked ${n}`);
    const members = Array.from({ length: n }, (_, i) => ({ address: ADDR[i]!, port: PORT, mac: this.macs[i]! }));
    const dir = join(this.lab.logDir, `group-n${n}${maxBatch === undefined ? '' : `-b${maxBatch}`}`);
    mkdirSync(dir, { recursive: true });
    const replicas: LabProcess[] = [];
    const g = new Group(n, dir, replicas);
    try {
      for (let i = 0; i < n; i++) writeControl(g.replicaControl(i), 0);
      // started together (their start-up is mostly compiling and loading, in parallel)
      const argv = (i: number) => runnerArgv('replica-runner', [String(i), JSON.stringify(members), g.replicaControl(i), 'fresh', '0', String(viewChangeMs), ...(maxBatch === undefined ? [] : [String(maxBatch)])]);
      const started = await Promise.allSettled(Array.from({ length: n }, (_, i) => this.lab.spawn(REPLICA_NODES[i]!, argv(i), {
          name: `n${n}-replica-${i}`,
          cwd: RUNNER_CWD,
          sysfs: 'host',
          ready: { log: /"ready":true/ },
          timeoutMs: 90_000, // runnerArgv gives a replica REPLICA_NODE_FLAGS (@netaccel/labs/paxos/processes)
        })));
      for (const s of started) if (s.status === 'fulfilled') replicas.push(s.value);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      // experiment (rig.build): the replicas' eth0 has a NAPI once their XDP program is attached
      if (this.threadedNapi) for (let i = 0; i < n; i++) await this.lab.exec(REPLICA_NODES[i]!, ['sh', '-c', 'echo 1 > /sys/class/net/eth0/threaded']);
      const peers = members.map(({ address, port }) => ({ address, port }));
      g.clients = await this.lab.spawn('c', [process.execPath, '--import', 'tsx', join(HERE, 'ns-clients.ts'), JSON.stringify(peers), g.clientControl, this.gen], {
        name: `n${n}-clients`,
        cwd: ROOT,
        ready: { log: /"ready":true/ },
        timeoutMs: 90_000,
      });
    } catch (err) {
      await g.stop();
      throw err;
    }
    return g;
  }

  async down(): Promise<void> {
    try {
      for (const p of this.lab.processes()) await p.stop();
      await this.lab.down();
    } finally {
      this.pass?.close();
      rmSync(this.pin, { recursive: true, force: true });
    }
  }
}

export class Group {
  clients: LabProcess | undefined;
  private seq = 0;

  constructor(
    readonly n: number,
    private readonly dir: string,
    readonly replicas: LabProcess[],
  ) {}

  replicaControl(i: number): string {
    return join(this.dir, `replica-${i}.offloads`);
  }

  get clientControl(): string {
    return join(this.dir, 'clients.json');
  }

  /**
   * Sets every replica's offloads (the runner's control file, read every 20 ms) and returns their
   * reports (SIGUSR1), taken once each has switched.
   */
  async setOffloads(bits: number): Promise<ReplicaReport[]> {
    this.replicas.forEach((_, i) => writeControl(this.replicaControl(i), bits));
    await waitFor(() => this.replicas.every((p) => lastOffloads(p) === bits), { timeoutMs: 15_000, intervalMs: 5, what: `offloads ${bits} at every replica` });
    return Promise.all(this.replicas.map((p) => askReport(p)));
  }

  /**
   * Each replica's main thread (the event loop) from /proc/<pid>/schedstat: ns on a CPU and ns
   * runnable but waiting for one, so far (undefined where it cannot be read).
   */
  schedstat(): Array<{ runNs: number; waitNs: number } | undefined> {
    return this.replicas.map((p) => {
      try {
        const [run, wait] = readFileSync(`/proc/${p.pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
        return Number.isFinite(run) && Number.isFinite(wait) ? { runNs: run!, waitNs: wait! } : undefined;
      } catch {
        return undefined;
      }
    });
  }

  /** Runs one point (closed-loop clients, or paced at `rate` op/s when given) and returns their report. */
  async runPoint(tag: string, clients: number, warmupMs: number, ms: number, rate?: number): Promise<ClientReport> {
    const seq = ++this.seq;
    const p = this.clients!;
    writeControl(this.clientControl, { seq, tag, clients, warmupMs, ms, ...(rate === undefined ? {} : { rate }) });
    let found: ClientReport | undefined;
    await waitFor(() => (found = lines(p).find((l) => l.seq === seq) as ClientReport | undefined) !== undefined, { timeoutMs: 120_000, intervalMs: 10, what: `the clients' point ${tag}` });
    if (found!.error) throw new Error(`paxos bench: clients failed at ${tag}: ${found!.error}`);
    return found!;
  }

  async stop(): Promise<void> {
    await this.clients?.stop();
    for (const r of this.replicas) await r.stop();
  }
}
