/**
 * The CRAQ scenario's chart: the Paxos chart's drawing (paxos/chart.ts: operations/s and p99 per
 * second, events as dashed lines), with the time hot keys were in the chain shaded and named so.
 */
import { paxosChartSvg } from '../paxos/chart.js';
import type { SecondPoint } from '../paxos/figures.js';

export interface CraqChart {
  readonly title: string;
  readonly points: readonly SecondPoint[];
  /** ms since the clients started. */
  readonly events: readonly { readonly atMs: number; readonly label: string }[];
  /** Intervals with hot keys placed in the chain. */
  readonly placed: readonly { readonly fromMs: number; readonly toMs: number }[];
  readonly durationMs: number;
}

export function craqChartSvg(c: CraqChart): string {
  return paxosChartSvg({ title: c.title, points: c.points, events: c.events, offloadsOn: c.placed, durationMs: c.durationMs })
    .replace('id="paxos-chart"', 'id="craq-chart"')
    .replace(/paxos-chart-title/g, 'craq-chart-title')
    .replace(/class="offloads-on"/g, 'class="placed"')
    .replace('>offloads on</text>', '>hot keys in the chain</text>');
}
