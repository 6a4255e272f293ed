/**
 * The sidecar scenario's chart: the Paxos chart's drawing (paxos/chart.ts: calls/s and p99 per
 * second, events as dashed lines), with the time the policy denied the method shaded and named so.
 */
import { paxosChartSvg } from '../paxos/chart.js';
import type { SecondPoint } from '../paxos/figures.js';

export interface SidecarChart {
  readonly title: string;
  readonly points: readonly SecondPoint[];
  /** ms since the clients started. */
  readonly events: readonly { readonly atMs: number; readonly label: string }[];
  /** Intervals with the method denied. */
  readonly denied: readonly { readonly fromMs: number; readonly toMs: number }[];
  readonly deniedLabel: string;
  readonly durationMs: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function sidecarChartSvg(c: SidecarChart): string {
  return paxosChartSvg({ title: c.title, points: c.points, events: c.events, offloadsOn: c.denied, durationMs: c.durationMs })
    .replace('id="paxos-chart"', 'id="sidecar-chart"')
    .replace(/paxos-chart-title/g, 'sidecar-chart-title')
    .replace(/class="offloads-on"/g, 'class="denied"')
    .replace('>offloads on</text>', `>${esc(c.deniedLabel)}</text>`)
    .replace(/operations\/s/g, 'calls/s');
}
