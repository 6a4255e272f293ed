/**
 * The thesis lab's balancer nodes: each runs the three built daemons (ebpf-loader,
 * bgp-announcer, lb-controller) as processes from the paths the caller gives (ThesisInstall),
 * and is asked over gRPC (the Balancer API) for its per-VIP packet counters and its backends.
 * The restart figures come from the daemons' own logs.
 */
import { rmSync } from 'node:fs';
import { sleep } from '@netaccel/netlab';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { BalancerClient, balancerV1, createRpcClient } from '@netaccel/rpc';
import { BALANCERS } from '../topologies/thesis.js';
import type { BalancerName } from '../topologies/thesis.js';
import type { BalancerFiles, ThesisInstall } from './configs.js';

export interface BalancerRun {
  files: BalancerFiles;
  loader?: LabProcess;
  announcer?: LabProcess;
  controller?: LabProcess;
}

/** The logs of a balancer's daemons (`<lb>-<daemon>`). */
export const balancerLogs = (lb: BalancerName, daemons: readonly string[] = ['ebpf-loader', 'bgp-announcer', 'lb-controller']): string[] => daemons.map((d) => `${lb}-${d}`);

/** Each daemon's start → ready, ms (the last start of the balancer). */
export type DaemonStartMs = Record<'ebpf-loader' | 'bgp-announcer' | 'lb-controller', number>;

/**
 * Starts a balancer's daemons together, each waited for until ready (the controller waits for the
 * loader's socket itself: dataPlane.loaderWait). Answers each one's start → ready.
 */
export async function startBalancer(lab: Lab, lb: BalancerName, b: BalancerRun, install: ThesisInstall): Promise<DaemonStartMs> {
  const f = b.files;
  const node = process.execPath;
  for (const s of [f.loaderSocket, f.announcerSocket, f.controllerSocket]) rmSync(s, { force: true });
  const timed = async (spawn: () => Promise<LabProcess>): Promise<[LabProcess, number]> => {
    const t0 = Date.now();
    const p = await spawn();
    return [p, Date.now() - t0];
  };
  const [[loader, loaderMs], [announcer, announcerMs], [controller, controllerMs]] = await Promise.all([
    timed(() => lab.spawn(lb, [node, install.daemons['ebpf-loader'], '--config', f.loaderConfig], { name: `${lb}-ebpf-loader`, sysfs: 'host', ready: { file: f.loaderSocket } })),
    timed(() => lab.spawn(lb, [node, install.daemons['bgp-announcer'], '--config', f.announcerConfig], { name: `${lb}-bgp-announcer`, sysfs: 'host', ready: { file: f.announcerSocket } })),
    timed(() => lab.spawn(lb, [node, install.daemons['lb-controller'], '--config', f.controllerConfig], { name: `${lb}-lb-controller`, sysfs: 'host', ready: { log: /"msg":"lb-controller running"/ } })),
  ]);
  b.loader = loader;
  b.announcer = announcer;
  b.controller = controller;
  return { 'ebpf-loader': loaderMs, 'bgp-announcer': announcerMs, 'lb-controller': controllerMs };
}

const newBalancerClient = (socket: string) => createRpcClient(BalancerClient, { address: socket, deadlineMs: 3000 });

export async function balancerClient<T>(socket: string, fn: (c: ReturnType<typeof newBalancerClient>) => Promise<T>): Promise<T> {
  const c = newBalancerClient(socket);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** Packets to each VIP counted by a balancer's XDP program. */
export async function vipPackets(socket: string): Promise<Map<string, number>> {
  const r = await balancerClient(socket, (c) => c.getStats(balancerV1.GetStatsRequest.create()));
  return new Map(r.vips.map((v) => [v.serviceId.split(':')[0]!, Number(v.counters?.packets ?? 0n)]));
}

/** The backends' addresses a balancer has for a service (`<vip>:<port>/tcp`). */
export async function backendsOf(socket: string, serviceId: string): Promise<string[]> {
  const r = await balancerClient(socket, (c) => c.listBackends(balancerV1.ListBackendsRequest.create({ serviceId })));
  return r.backends.map((b) => b.address);
}

export interface RateSample {
  readonly at: number;
  /** Packets to the VIP so far, by balancer; a balancer whose controller did not answer is absent. */
  readonly packets: ReadonlyMap<BalancerName, number>;
}

/** Reads every live controller's counter of `vip` every 500 ms until stopped. */
export function samplePerBalancer(balancers: ReadonlyMap<BalancerName, BalancerRun>, vip: string, out: RateSample[]): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const packets = new Map<BalancerName, number>();
      await Promise.all(
        [...balancers].map(async ([lb, b]) => {
          if (b.controller === undefined || b.controller.exited) return;
          try {
            packets.set(lb, (await vipPackets(b.files.controllerSocket)).get(vip) ?? 0);
          } catch {
            // starting, or gone: no sample
          }
        }),
      );
      out.push({ at, packets });
      await sleep(Math.max(50, 500 - (Date.now() - at)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Packets/s per balancer between consecutive samples; 0 where its controller could not be asked (the node was down). */
export function balancerRates(samples: readonly RateSample[], t0: number, end: number, lbs: readonly BalancerName[] = BALANCERS): { label: string; points: [number, number][] }[] {
  return lbs.map((lb) => {
    const points: [number, number][] = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1]!;
      const b = samples[i]!;
      if (b.at > end) break;
      const pa = a.packets.get(lb);
      const pb = b.packets.get(lb);
      const mid = (a.at + b.at) / 2 - t0;
      if (pa === undefined || pb === undefined) points.push([mid, 0]);
      else if (pb >= pa) points.push([mid, ((pb - pa) * 1000) / (b.at - a.at)]);
    }
    return { label: lb, points };
  });
}

/** When the announcer's API was asked to announce `prefix` (its log's `requestedAt`, ms). */
export function announcedAt(announcer: LabProcess, prefix: string): number | undefined {
  for (const line of announcer.output().split('\n')) {
    if (!line.includes('"msg":"route announced"') || !line.includes(`"prefix":"${prefix}"`)) continue;
    try {
      const t = (JSON.parse(line) as { requestedAt?: unknown }).requestedAt;
      if (typeof t === 'number') return t;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/** How long the restarted controller took to program the data plane the first time (its log says). */
export function dataPlaneUpMs(controller: LabProcess): number {
  for (const line of controller.output().split('\n')) {
    if (!line.includes('"msg":"data plane updated"')) continue;
    try {
      return Number((JSON.parse(line) as { durationMs?: number }).durationMs ?? 0);
    } catch {
      // not a JSON line
    }
  }
  return 0;
}
