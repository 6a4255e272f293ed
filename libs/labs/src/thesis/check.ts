/**
 * The end of the thesis scenario: the run's measurements turned into its report (the split per
 * phase, the traffic summary, the chart's series), and the lab's own checks: what it claims to
 * show must have happened, or the run fails (NA_ERR_LAB_CHECK).
 */
import { NA_ERR_LAB_CHECK } from '../errors.js';
import { sameSet } from '../steps/fib.js';
import { BUCKET_MS, countsBetween } from '../steps/wrk.js';
import type { WrkResult } from '../steps/wrk.js';
import { DEFAULT_BALANCERS, SERVICES, balancerAddr, servicesFor } from '../topologies/thesis.js';
import type { BalancerName, ServiceDef } from '../topologies/thesis.js';
import type { ChartSeries, LabReport, PhaseSplit, TrafficSummary } from './report.js';

/** Requests a removed backend may still answer after its removal: connections already open. */
export const REMOVAL_GRACE_MS = 500;

/** Packets to each VIP by balancer at one moment; null: its controller was not running. */
export interface PacketSample {
  readonly at: number;
  readonly packets: ReadonlyMap<BalancerName, ReadonlyMap<string, number> | null>;
}

export interface WrkRun {
  readonly service: string;
  readonly url: string;
  readonly r: WrkResult;
}

/** A phase: its name, its time span and the samples taken at its start and end. */
export type PhaseBound = readonly [name: string, from: number, to: number, sampleAtFrom: number, sampleAtTo: number];

/** The split per balancer (XDP counters between two samples) and per backend (wrk's buckets) of each phase. */
export function phaseSplits(
  bounds: readonly PhaseBound[],
  samples: readonly PacketSample[],
  results: readonly WrkRun[],
  downName: string,
  killed: BalancerName,
  services: readonly ServiceDef[] = SERVICES,
): PhaseSplit[] {
  return bounds.map(([name, from, to, si, sj]) => {
    const balancersBy: Record<string, Record<string, number | null>> = {};
    const backendsBy: Record<string, Record<string, number>> = {};
    for (const s of services) {
      const row: Record<string, number | null> = {};
      for (const lb of s.balancers) {
        const a = samples[si]!.packets.get(lb);
        const b = samples[sj]!.packets.get(lb);
        row[lb] = a == null || b == null || (name === downName && lb === killed) ? null : (b.get(s.vip) ?? 0) - (a.get(s.vip) ?? 0);
      }
      balancersBy[s.name] = row;
      const w = results.find((x) => x.service === s.name)!.r;
      // whole buckets only: a bucket that straddles a boundary belongs to neither phase
      const counts = countsBetween(w, Math.ceil(from / BUCKET_MS) * BUCKET_MS, Math.floor(to / BUCKET_MS) * BUCKET_MS);
      backendsBy[s.name] = Object.fromEntries([...counts].sort());
    }
    return { name, fromMs: from, toMs: to, balancers: balancersBy, backends: backendsBy };
  });
}

/** wrk's summary of each service. */
export function trafficSummaries(results: readonly WrkRun[]): TrafficSummary[] {
  return results.map(({ service, url, r }) => ({
    service,
    url,
    requests: r.requests,
    errors: r.errors,
    latencyMs: { p50: r.latencyUs.p50 / 1000, p99: r.latencyUs.p99 / 1000, max: r.latencyUs.max / 1000 },
    meanRps: r.requests / (r.durationUs / 1e6),
  }));
}

/** Requests/s of each service over time, from whole buckets within [t0, end]. */
export function requestSeries(results: readonly WrkRun[], t0: number, endAt: number): ChartSeries[] {
  return results.map(({ service, r }) => ({
    label: `${service} requests/s`,
    points: [...r.buckets.entries()]
      .filter(([at]) => at >= t0 && at + BUCKET_MS <= endAt)
      .sort((a, b) => a[0] - b[0])
      .map(([at, m]): [number, number] => [at - t0 + BUCKET_MS / 2, ([...m.values()].reduce((s, n) => s + n, 0) * 1000) / BUCKET_MS]),
  }));
}


/** The lab's own checks: what it claims to show must have happened. */
export function checkReport(r: LabReport): void {
  const fail = (what: string): never => {
    throw NA_ERR_LAB_CHECK(what);
  };
  const n = r.balancers ?? DEFAULT_BALANCERS;
  const services = servicesFor(n);
  for (const s of services) {
    const route = r.routes.find((x) => x.vip === s.vip);
    if (!sameSet(route?.nexthops ?? [], s.balancers.map(balancerAddr))) fail(`the router's route to ${s.vip} had next hops ${route?.nexthops.join(', ')}, expected ${s.balancers.map(balancerAddr).join(', ')}`);
  }
  const first = r.phases[0]!;
  const all = n === DEFAULT_BALANCERS ? 'all three' : `all ${n}`;
  for (const s of services) {
    for (const lb of s.balancers) {
      if (!((first.balancers[s.name]?.[lb] ?? 0) > 0)) fail(`balancer ${lb} forwarded no packet of ${s.name} while ${all} were up (ECMP should spread the flows)`);
    }
    for (const b of s.backends) {
      if (!((first.backends[s.name]?.[b] ?? 0) > 0)) fail(`backend ${b} answered no request of ${s.name} while all were up`);
    }
  }
  const last = r.phases.at(-1)!;
  const stray = last.backends[r.removed.service]?.[r.removed.backend] ?? 0;
  if (stray > 0) fail(`${r.removed.backend} still answered ${stray} requests of ${r.removed.service} after every balancer had removed it`);
  const back = r.phases[2]!;
  if (!((back.balancers.web?.[r.killed] ?? 0) > 0)) fail(`${r.killed} forwarded no packet after it came back`);
  for (const t of r.traffic) if (t.requests === 0) fail(`wrk got no response from ${t.url}`);
}
