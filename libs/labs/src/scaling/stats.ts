/**
 * What the scaling run reads of each balancer, over gRPC: the web VIP's counters of its XDP
 * program (packets, new flows: one per request, wrk opens a connection per request) through the
 * Balancer API, and the run count and run time of its BPF programs through its ebpf-loader's
 * ProgramStats (BPF_ENABLE_STATS(BPF_STATS_RUN_TIME), held by the loader: `stats.runTime`).
 */
import { LoaderClient, balancerV1, createRpcClient, loaderV1 } from '@netaccel/rpc';
import { NA_ERR_LAB_CHECK } from '../errors.js';
import { balancerClient } from '../thesis/balancers.js';
import type { BalancerCounters } from './figures.js';

/** The XDP counters of one VIP (`<vip>:<port>/tcp`) on a balancer; zeros when it does not carry it. */
export async function vipCounters(controllerSocket: string, serviceId: string): Promise<{ packets: number; newFlows: number }> {
  const r = await balancerClient(controllerSocket, (c) => c.getStats(balancerV1.GetStatsRequest.create()));
  const v = r.vips.find((x) => x.serviceId === serviceId);
  return { packets: Number(v?.counters?.packets ?? 0n), newFlows: Number(v?.counters?.newFlows ?? 0n) };
}

/**
 * The run count and run time (ns) of every program the balancer's loader holds, summed: its XDP
 * balancer does the work (the object's TC decapsulator is not attached on a balancer). Refuses
 * when the kernel does not count (stats off): the figures would be zeros that look like results.
 */
export async function programRunTime(loaderSocket: string): Promise<{ runCount: number; runTimeNs: number }> {
  const c = createRpcClient(LoaderClient, { address: loaderSocket, deadlineMs: 3000 });
  try {
    const r = await c.programStats(loaderV1.ProgramStatsRequest.create({ programId: '' }));
    if (!r.statsEnabled) throw NA_ERR_LAB_CHECK(`the loader at ${loaderSocket} says kernel.bpf_stats_enabled is off: the programs' run time is not counted (its configuration needs stats.runTime: true)`);
    let runCount = 0;
    let runTimeNs = 0;
    for (const s of r.stats) {
      runCount += Number(s.runCount);
      runTimeNs += Number(s.runTimeNs);
    }
    return { runCount, runTimeNs };
  } finally {
    c.close();
  }
}

/** One balancer's counters now (cumulative): the VIP's XDP counters and its programs' run time. */
export async function readCounters(controllerSocket: string, loaderSocket: string, serviceId: string): Promise<BalancerCounters> {
  const [v, p] = await Promise.all([vipCounters(controllerSocket, serviceId), programRunTime(loaderSocket)]);
  return { packets: v.packets, newFlows: v.newFlows, runCount: p.runCount, runTimeNs: p.runTimeNs };
}
