/**
 * The xlb benchmark's rig around its lab: the lab itself (the topology is @netaccel/labs'
 * xlbBenchTopology: client, balancer and two backends on one switch), programs loaded in this
 * process with @netaccel/bpf, pinned under a private bpffs folder and attached inside the
 * namespaces with `ip link … xdpdrv pinned` / `tc filter … object-pinned` (nsenter --net keeps the
 * host's bpffs visible), threaded NAPI, and the CPU time of tasks, of ksoftirqd and of the
 * machine's CPUs (/proc/stat). The balancer's XDP_TX lands
 * only where the peer has NAPI, so sw:p1 always runs an XDP program (xdp_empty, or xdp_switch in
 * the packet-rate section): the veth quirks of @netaccel/labs (veth.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BpfProgram } from '@netaccel/bpf';
import { xlbBenchTopology } from '@netaccel/labs';
import { createLab } from '@netaccel/netlab';
import type { Lab } from '@netaccel/netlab';

export function newLab(kind: 'rate' | 'e2e'): Lab {
  return createLab(xlbBenchTopology(kind), { prefix: 'xlbbench', killGraceMs: 1000 });
}

/** MAC and ifindex of an interface of a node. */
export async function ifaceOf(lab: Lab, node: string, ifname: string): Promise<{ mac: string; ifindex: number }> {
  const l = (await lab.links(node)).find((x) => x.ifname === ifname);
  if (!l?.address) throw new Error(`${node}:${ifname}: no such interface or no MAC`);
  return { mac: l.address, ifindex: l.ifindex };
}

const PIN_ROOT = '/sys/fs/bpf';
const PIN_PREFIX = 'netaccel-bench-xlb-';

/**
 * A private bpffs folder for this run's pins; removed by close(). Folders of runs whose process
 * is gone (killed before close) are removed on the way in.
 */
export class Pins {
  readonly dir = join(PIN_ROOT, `${PIN_PREFIX}${process.pid}`);
  #n = 0;

  constructor() {
    for (const d of readdirSync(PIN_ROOT)) {
      if (!d.startsWith(PIN_PREFIX)) continue;
      const pid = Number(d.slice(PIN_PREFIX.length));
      if (Number.isInteger(pid) && pid !== process.pid && !existsSync(`/proc/${pid}`)) rmSync(join(PIN_ROOT, d), { recursive: true, force: true });
    }
    mkdirSync(this.dir, { recursive: true });
  }

  pin(prog: BpfProgram, name: string): string {
    const path = join(this.dir, `${name}-${this.#n++}`);
    prog.pin(path);
    return path;
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Attaches a pinned XDP program (native mode) to node:ifname, replacing the one there. */
export async function attachXdpPinned(lab: Lab, node: string, ifname: string, pinned: string): Promise<void> {
  await lab.exec(node, ['ip', '-force', 'link', 'set', 'dev', ifname, 'xdpdrv', 'pinned', pinned], { sysfs: 'host' });
}

export async function detachXdp(lab: Lab, node: string, ifname: string): Promise<void> {
  await lab.exec(node, ['ip', 'link', 'set', 'dev', ifname, 'xdpdrv', 'off']);
}

/** Attaches a pinned TC program to node:ifname ingress (clsact, direct action). */
export async function attachTcIngressPinned(lab: Lab, node: string, ifname: string, pinned: string): Promise<void> {
  await lab.exec(node, ['tc', 'qdisc', 'replace', 'dev', ifname, 'clsact']);
  await lab.exec(node, ['tc', 'filter', 'replace', 'dev', ifname, 'ingress', 'pref', '10', 'handle', '1', 'bpf', 'da', 'object-pinned', pinned], { sysfs: 'host' });
}

/** Kernel threads of threaded NAPI instances (`napi/<dev>-<id>`), by pid. */
export function napiThreads(): Map<number, string> {
  return kernelThreads('napi/');
}

/**
 * Switches node:ifname to threaded NAPI (its receive processing then runs in a kernel thread of
 * its own instead of the softirq of whoever scheduled it) and returns that thread's pid. The
 * interface needs NAPI first (on a veth: an XDP program attached).
 */
export async function threadedNapi(lab: Lab, node: string, ifname: string): Promise<number> {
  const file = `/sys/class/net/${ifname}/threaded`;
  let found = 0;
  // The thread is told apart by appearing; another lab doing the same at that moment makes it
  // ambiguous, so try again a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = napiThreads();
    await lab.exec(node, ['sh', '-c', `echo 1 > ${file}`]);
    const fresh = [...napiThreads()].filter(([pid, comm]) => !before.has(pid) && comm.startsWith(`napi/${ifname}-`));
    if (fresh.length === 1) return fresh[0]![0];
    found = fresh.length;
    await lab.exec(node, ['sh', '-c', `echo 0 > ${file}`]);
  }
  throw new Error(`${node}:${ifname}: expected one new NAPI thread, found ${found}`);
}

/** Restricts a task to one CPU. */
export function pinTask(pid: number, cpu: number): void {
  execFileSync('taskset', ['-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** CPU time a task (thread) has run, in ns (/proc/<pid>/schedstat). */
export function taskCpuNs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
}

/** CPU time of a process and its direct children (threads' totals), in ns. */
export function treeCpuNs(pid: number): number {
  let total = taskCpuNs(pid);
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const children = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
    for (const c of children === '' ? [] : children.split(/\s+/)) {
      try {
        total += taskCpuNs(Number(c));
      } catch {
        // exited meanwhile
      }
    }
  }
  return total;
}

/** Clock ticks per second of /proc/<pid>/stat times. */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** utime + stime of the reaped children (cutime, cstime) from a /proc/<pid>/stat line, in s. */
export function childrenCpuS(statLine: string): number {
  const f = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

/** Time of all CPUs together by state since boot, in s (/proc/stat's `cpu` line). */
export interface CpuTimes {
  readonly user: number;
  readonly system: number;
  readonly softirq: number;
  readonly irq: number;
  readonly idle: number;
  readonly steal: number;
}

const CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** The summed `cpu` line of /proc/stat (user includes nice, idle includes iowait). */
export function cpuTimes(stat: string = readFileSync('/proc/stat', 'utf8')): CpuTimes {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('/proc/stat: no cpu line');
  const v = Object.fromEntries(CPU_FIELDS.map((k, i) => [k, Number(line.trim().split(/\s+/)[i + 1] ?? 0) / CLK_TCK])) as Record<(typeof CPU_FIELDS)[number], number>;
  return { user: v.user + v.nice, system: v.system, softirq: v.softirq, irq: v.irq, idle: v.idle + v.iowait, steal: v.steal };
}

/** b - a, field by field. */
export function cpuDelta(a: CpuTimes, b: CpuTimes): CpuTimes {
  return { user: b.user - a.user, system: b.system - a.system, softirq: b.softirq - a.softirq, irq: b.irq - a.irq, idle: b.idle - a.idle, steal: b.steal - a.steal };
}

/** CPU time of the ksoftirqd threads together, ns: softirq work deferred out of the task that raised it. */
export function softirqThreadsNs(): number {
  let total = 0;
  for (const [pid] of kernelThreads('ksoftirqd/')) {
    try {
      total += taskCpuNs(pid);
    } catch {
      // cannot go away, but do not fail a measurement for it
    }
  }
  return total;
}

function kernelThreads(prefix: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      if (comm.startsWith(prefix)) out.set(Number(d), comm);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
