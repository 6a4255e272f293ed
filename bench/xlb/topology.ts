/**
 * The namespace topology of the packet-rate and end-to-end sections, and how programs are put
 * on its interfaces.
 *
 *   client ─eth0── p0 ┐
 *   lb     ─eth0── p1 ├─ br0 (node sw: one L2 segment, 10.10.0.0/24)
 *   be1    ─eth0── p2 │
 *   be2    ─eth0── p3 ┘
 *
 * The balancer is one-armed, as xlb is built to be (every mode leaves with XDP_TX): requests
 * come in on lb:eth0 and leave through it to the backends' MACs. The client plays the upstream
 * router: it routes the VIPs (10.100.0.0/24) via the balancer. DSR replies go straight from the
 * backends to the client; NAT replies come back to the NAT source (10.99.0.1) via the balancer.
 * An XDP_TX frame on a veth only lands when the peer end has NAPI, so sw:p1 always runs an XDP
 * program (xdp_empty, or xdp_switch in the packet-rate section).
 *
 * Programs are loaded in this process with @netaccel/bpf, pinned under a private bpffs folder,
 * and attached inside the namespaces with `ip link … xdpdrv pinned` / `tc filter … object-pinned`
 * (nsenter --net keeps the host's bpffs visible).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BpfProgram } from '@netaccel/bpf';
import { createLab } from '@netaccel/netlab';
import type { Lab, LabSpec } from '@netaccel/netlab';

export const NET = Object.freeze({
  lb: '10.10.0.1',
  client: '10.10.0.2',
  backends: ['10.10.0.11', '10.10.0.12'] as const,
  natSource: '10.99.0.1',
  prefixLen: 24,
});

/** Destinations the client sends to; all routed via the balancer. */
export const VIP = Object.freeze({
  'l2-dsr': '10.100.0.1',
  ipip: '10.100.0.2',
  gue: '10.100.0.3',
  nat: '10.100.0.4',
  dnat: '10.100.0.5', // iptables DNAT on the balancer (the kube-proxy baseline)
  nginx: '10.100.0.6', // nginx stream proxy on the balancer
  ceiling: '10.100.0.9', // plain ECMP route on the balancer to both backends, no translation
});

export const BACKEND_NODES = ['be1', 'be2'] as const;
export type BackendNode = (typeof BACKEND_NODES)[number];
/** sw's port facing each node. */
export const SW_PORT = Object.freeze({ client: 'p0', lb: 'p1', be1: 'p2', be2: 'p3' });

const SYSCTL_NO_REDIRECTS = {
  'net.ipv4.conf.all.send_redirects': 0,
  'net.ipv4.conf.eth0.send_redirects': 0,
  'net.ipv4.conf.all.accept_redirects': 0,
  'net.ipv4.conf.eth0.accept_redirects': 0,
  'net.ipv4.conf.all.rp_filter': 0,
  'net.ipv4.conf.eth0.rp_filter': 0,
};

/**
 * The lab. `e2e` adds what the HTTP section needs: the DSR VIPs and the ceiling address on the
 * backends' loopback (ARP hidden: arp_ignore=1, arp_announce=2), the balancer's ECMP route for
 * the ceiling, and the nginx VIP on the balancer.
 */
export function labSpec(kind: 'rate' | 'e2e'): LabSpec {
  const dsrVips = [VIP['l2-dsr'], VIP.ipip, VIP.gue, VIP.ceiling].map((a) => `${a}/32`);
  const backend = {
    ...(kind === 'e2e' ? { addrs: { lo: dsrVips } } : {}),
    sysctls: { ...SYSCTL_NO_REDIRECTS, 'net.ipv4.conf.all.arp_ignore': 1, 'net.ipv4.conf.all.arp_announce': 2 },
    routes: [{ to: `${NET.natSource}/32`, via: NET.lb }],
  };
  return {
    name: `xlb-bench-${kind}`,
    nodes: {
      client: { sysctls: SYSCTL_NO_REDIRECTS, routes: [{ to: '10.100.0.0/24', via: NET.lb }] },
      // the switch: bridged frames skip iptables (br_netfilter is built in on these kernels)
      sw: { sysctls: { 'net.bridge.bridge-nf-call-iptables': 0, 'net.bridge.bridge-nf-call-ip6tables': 0, 'net.bridge.bridge-nf-call-arptables': 0 } },
      lb: {
        forwarding: true,
        sysctls: { ...SYSCTL_NO_REDIRECTS, 'net.ipv4.fib_multipath_hash_policy': 1 },
        ...(kind === 'e2e' ? { addrs: { lo: [`${VIP.nginx}/32`] } } : {}),
        routes: [{ to: `${VIP.ceiling}/32`, nexthops: NET.backends.map((via) => ({ via })) }],
      },
      be1: backend,
      be2: backend,
    },
    links: [
      { a: 'client:eth0', b: `sw:${SW_PORT.client}`, aAddr: `${NET.client}/${NET.prefixLen}` },
      { a: 'lb:eth0', b: `sw:${SW_PORT.lb}`, aAddr: `${NET.lb}/${NET.prefixLen}` },
      { a: 'be1:eth0', b: `sw:${SW_PORT.be1}`, aAddr: `${NET.backends[0]}/${NET.prefixLen}` },
      { a: 'be2:eth0', b: `sw:${SW_PORT.be2}`, aAddr: `${NET.backends[1]}/${NET.prefixLen}` },
    ],
    bridges: [{ node: 'sw', name: 'br0', ports: [SW_PORT.client, SW_PORT.lb, SW_PORT.be1, SW_PORT.be2] }],
  };
}

export function newLab(kind: 'rate' | 'e2e'): Lab {
  return createLab(labSpec(kind), { prefix: 'xlbbench', killGraceMs: 1000 });
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
  const out = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      if (comm.startsWith('napi/')) out.set(Number(d), comm);
    } catch {
      // gone meanwhile
    }
  }
  return out;
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
