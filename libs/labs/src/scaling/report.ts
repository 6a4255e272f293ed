/**
 * The scaling run's record (scaling-report.json, `netaccel lab --scenario scaling --json`), its
 * text (a table per step and per balancer, and the verdict in plain words) and its HTML page
 * (scaling.html: the text and the two charts).
 */
import { costChartSvg, shareChartSvg } from './chart.js';
import type { ScalingStep } from './figures.js';

export interface ScalingReport {
  readonly runId: string;
  readonly startedAt: string;
  readonly quick: boolean;
  readonly mode: string;
  readonly logDir: string;
  readonly html: string;
  /** The load every step got: wrk's threads and connections against the web VIP, a connection per request. */
  readonly load: { readonly url: string; readonly threads: number; readonly connections: number; readonly holdMs: number; readonly warmupMs: number };
  /** The same total load through 1..N balancers. */
  readonly steps: readonly ScalingStep[];
  /** The paced series: about the same rate per balancer whatever N (absent: not run). */
  readonly paced?: readonly ScalingStep[];
  readonly pacedLoad?: { readonly connectionsPerBalancer: number; readonly delayMs: number };
  readonly verdict: string;
  readonly stepTimes: readonly { readonly title: string; readonly ms: number }[];
}

const pad = (s: string, n: number, right = false): string => (right ? s.padStart(n) : s.padEnd(n));

function table(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => pad(c, widths[i]!, right.has(i))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const int = (v: number): string => Math.round(v).toLocaleString('en-US');

function stepsTable(steps: readonly ScalingStep[]): string {
  return table(
    ['balancers', 'wrk req/s', 'errors', 'flows', 'XDP ns/pkt', 'XDP ns/req', 'vs 1', 'req per XDP CPU-s', 'busiest/quietest', 'CV'],
    steps.map((s) => [String(s.balancers), int(s.wrk.rps), int(s.wrk.errors), int(s.flows), s.nsPerPacket.toFixed(0), s.nsPerRequest.toFixed(0), `${s.costRatio.toFixed(2)}×`, int(s.requestsPerCpuSecond), s.balancers === 1 ? '-' : s.maxMin.toFixed(2), s.balancers === 1 ? '-' : s.cv.toFixed(3)]),
    new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
  );
}

/** The report as text: per step, then per balancer, then the verdict. */
export function scalingText(r: ScalingReport): string {
  const per = table(
    ['balancers', 'balancer', 'share', 'flows', 'packets', 'XDP ns/pkt', 'XDP ns/req', 'req per XDP CPU-s'],
    r.steps.flatMap((s) => s.perBalancer.map((b) => [String(s.balancers), b.balancer, `${(b.share * 100).toFixed(1)}%`, int(b.flows), int(b.packets), b.nsPerPacket.toFixed(0), b.nsPerRequest.toFixed(0), int(b.requestsPerCpuSecond)])),
    new Set([0, 2, 3, 4, 5, 6, 7]),
  );
  return [
    `scaling: the same load (wrk, ${r.load.threads} threads, ${r.load.connections} connections, a connection per request, ${r.load.url}) with 1 to ${r.steps.at(-1)?.balancers ?? 0} balancers in the router's ECMP set; ${(r.load.holdMs / 1000).toFixed(1)} s per step, measured after ${r.load.warmupMs} ms`,
    '',
    stepsTable(r.steps),
    ...(r.paced === undefined
      ? []
      : ['', `paced: ${r.pacedLoad?.connectionsPerBalancer ?? '?'} connections per balancer, ${r.pacedLoad?.delayMs ?? '?'} ms between a connection's requests (about the same rate per balancer)`, stepsTable(r.paced)]),
    '',
    'per balancer (XDP counters; run time of its programs: BPF_ENABLE_STATS through its ebpf-loader)',
    per,
    '',
    r.verdict,
  ].join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The page: the verdict, the charts, the tables, the steps. Self-contained. */
export function scalingHtml(r: ScalingReport): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>netaccel lab scaling ${esc(r.runId)}</title>`,
    '<style>body{font-family:sans-serif;margin:2em;max-width:960px}pre{background:#f4f4f4;padding:1em;overflow-x:auto}</style>',
    '</head><body>',
    `<h1>netaccel lab — scaling, run ${esc(r.runId)}</h1>`,
    `<p>Started ${esc(r.startedAt)}${r.quick ? ' (shortened run)' : ''}. The thesis topology with four XDP balancers in ${r.mode === 'nat' ? 'NAT' : 'L2 DSR'} mode; each step announces the web VIP from the first N and drives the same load from the router. Logs: <code>${esc(r.logDir)}</code>.</p>`,
    `<p id="scaling-verdict">${esc(r.verdict)}</p>`,
    '<h2>Share of the flows per balancer</h2>',
    shareChartSvg(r.steps),
    '<h2>XDP CPU time per request, per balancer (the same total load)</h2>',
    costChartSvg(r.steps),
    ...(r.paced === undefined ? [] : ['<h2>XDP CPU time per request, per balancer (paced: about the same rate per balancer)</h2>', costChartSvg(r.paced, 'scaling-paced-cost-chart')]),
    '<h2>Figures</h2>',
    `<pre>${esc(scalingText(r))}</pre>`,
    '<h2>Steps</h2>',
    `<pre>${esc(r.stepTimes.map((s) => `${`${(s.ms / 1000).toFixed(1)} s`.padStart(8)}  ${s.title}`).join('\n'))}</pre>`,
    '</body></html>',
    '',
  ].join('\n');
}
