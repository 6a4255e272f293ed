/**
 * The thesis lab's report: a typed record of the run (JSON with `netaccel lab --json`) and an HTML
 * page with an inline SVG chart of requests/s over time against the number of live balancers
 * (the thesis' figure 4.14). The page has no script and no external resource. (The short text
 * for people is the front end's: `netaccel lab` prints it and gives it to the page.)
 */

export interface PhaseSplit {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** Packets to each VIP by balancer during the phase (XDP counters); null: the node was down. */
  readonly balancers: Readonly<Record<string, Readonly<Record<string, number | null>>>>;
  /** Responses by service and backend during the phase (wrk). */
  readonly backends: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface TrafficSummary {
  readonly service: string;
  readonly url: string;
  readonly requests: number;
  readonly errors: { readonly connect: number; readonly read: number; readonly write: number; readonly status: number; readonly timeout: number };
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly meanRps: number;
}

export interface ChartSeries {
  readonly label: string;
  /** [ms since traffic start, requests/s]. */
  readonly points: readonly (readonly [number, number])[];
}

export interface LabReport {
  readonly runId: string;
  readonly startedAt: string;
  readonly quick: boolean;
  /** How the balancers forwarded: l2dsr or nat. */
  readonly mode: string;
  /** How many balancers the lab had (`--balancers`; absent: the thesis' three). */
  readonly balancers?: number;
  readonly logDir: string;
  readonly html: string;
  readonly steps: readonly { readonly title: string; readonly ms: number }[];
  /** The router's routes to the VIPs once the lab was up. */
  readonly routes: readonly { readonly vip: string; readonly nexthops: readonly string[] }[];
  readonly convergence: {
    /** kill -9 of the balancer → its next hop gone from the router's route, per VIP. */
    readonly withdrawMs: Readonly<Record<string, number>>;
    /** restart of the balancer's daemons → its next hop back, per VIP. */
    readonly restoreMs: Readonly<Record<string, number>>;
    /** The controller's Announce call to the restarted announcer (its log's requestedAt) → next hop back in the router's FIB, per VIP. */
    readonly announceToRouteMs: Readonly<Record<string, number>>;
    /**
     * Parts of the restart: until the three daemons were ready; the controller's (re)programming of
     * the data plane (its first pass: ~0 when it adopted the pinned tables); each daemon's start → ready.
     */
    readonly restart: { readonly daemonsReadyMs: number; readonly dataPlaneMs: number; readonly daemons?: Readonly<Record<string, number>> };
    /** services files rewritten without the backend → every controller reports it gone. */
    readonly backendRemovalMs: number;
  };
  readonly killed: string;
  readonly removed: { readonly service: string; readonly backend: string };
  readonly traffic: readonly TrafficSummary[];
  readonly phases: readonly PhaseSplit[];
  readonly chart: {
    readonly series: readonly ChartSeries[];
    /** Packets/s to the first service's VIP by balancer (XDP counters, sampled every 500 ms). */
    readonly balancers: readonly ChartSeries[];
    /** [ms since traffic start, live balancers of the first service]. */
    readonly live: readonly (readonly [number, number])[];
    readonly events: readonly { readonly atMs: number; readonly label: string }[];
    readonly durationMs: number;
    readonly maxBalancers: number;
  };
}

/** A step's duration, always in seconds (one unit in the column: not "13.1 s" beside "4179 ms"). */
export const stepSeconds = (v: number): string => `${(v / 1000).toFixed(1)} s`;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A round step for axis ticks covering `max` in about `n` steps. */
function niceStep(max: number, n: number): number {
  const raw = Math.max(max, 1) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
}

const COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#ff7f0e'];
const LIVE_COLOR = '#d62728';

interface LineChart {
  readonly id: string;
  readonly title: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** A step line of live balancers on a right-hand axis. */
  readonly live?: { readonly points: readonly (readonly [number, number])[]; readonly max: number; readonly label: string };
  readonly events: readonly { readonly atMs: number; readonly label: string }[];
  readonly durationMs: number;
}

/** An SVG line chart over the traffic's time, with event markers and an optional step line. */
function lineChart(c: LineChart): string {
  const W = 900;
  const H = 380;
  const m = { l: 64, r: 64, t: 24, b: 48 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const dur = Math.max(c.durationMs, 1);
  const maxY = Math.max(1, ...c.series.flatMap((s) => s.points.map((p) => p[1])));
  const yStep = niceStep(maxY, 5);
  const yMax = Math.ceil(maxY / yStep) * yStep;
  const nb = Math.max(1, c.live?.max ?? 1);
  const x = (t: number): number => m.l + (Math.min(Math.max(t, 0), dur) / dur) * pw;
  const y = (v: number): number => m.t + ph - (v / yMax) * ph;
  const yb = (v: number): number => m.t + ph - (v / (nb + 0.5)) * ph;
  const f = (v: number): string => v.toFixed(1);
  const parts: string[] = [];
  parts.push(`<svg id="${c.id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${c.id}-title">`);
  parts.push(`<title id="${c.id}-title">${esc(c.title)}</title>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#ccc"/>`);
  const xStep = niceStep(dur / 1000, 10);
  for (let s = 0; s * 1000 <= dur; s += xStep) {
    parts.push(`<line x1="${f(x(s * 1000))}" y1="${m.t + ph}" x2="${f(x(s * 1000))}" y2="${m.t + ph + 5}" stroke="#444"/>`);
    parts.push(`<text x="${f(x(s * 1000))}" y="${m.t + ph + 18}" font-size="11" text-anchor="middle">${s}</text>`);
  }
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 8}" font-size="12" text-anchor="middle">time since the traffic started (s)</text>`);
  for (let v = 0; v <= yMax; v += yStep) {
    parts.push(`<line x1="${m.l}" y1="${f(y(v))}" x2="${m.l + pw}" y2="${f(y(v))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${f(y(v) + 4)}" font-size="11" text-anchor="end">${v}</text>`);
  }
  parts.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(c.yLabel)}</text>`);
  for (const e of c.events) {
    parts.push(`<line class="event" x1="${f(x(e.atMs))}" y1="${m.t}" x2="${f(x(e.atMs))}" y2="${m.t + ph}" stroke="#888" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${f(x(e.atMs) + 3)}" y="${m.t + 12}" font-size="11" fill="#555">${esc(e.label)}</text>`);
  }
  if (c.live !== undefined && c.live.points.length > 0) {
    for (let v = 0; v <= nb; v++) parts.push(`<text x="${m.l + pw + 6}" y="${f(yb(v) + 4)}" font-size="11" fill="${LIVE_COLOR}">${v}</text>`);
    parts.push(`<text transform="translate(${W - 14} ${m.t + ph / 2}) rotate(90)" font-size="12" text-anchor="middle" fill="${LIVE_COLOR}">live balancers</text>`);
    const pts: string[] = [];
    let prev: number | undefined;
    for (const [t, n] of c.live.points) {
      if (prev !== undefined) pts.push(`${f(x(t))},${f(yb(prev))}`);
      pts.push(`${f(x(t))},${f(yb(n))}`);
      prev = n;
    }
    pts.push(`${f(x(dur))},${f(yb(prev ?? 0))}`);
    parts.push(`<polyline class="live" points="${pts.join(' ')}" fill="none" stroke="${LIVE_COLOR}" stroke-width="2"/>`);
  }
  c.series.forEach((s, i) => {
    const pts = s.points.map(([t, v]) => `${f(x(t))},${f(y(v))}`).join(' ');
    parts.push(`<polyline class="series" data-label="${esc(s.label)}" points="${pts}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>`);
  });
  const legend: (readonly [string, string])[] = [...c.series.map((s, i) => [s.label, COLORS[i % COLORS.length]!] as const), ...(c.live ? [[c.live.label, LIVE_COLOR] as const] : [])];
  legend.forEach(([label, color], i) => {
    const lx = m.l + 10 + i * 170;
    parts.push(`<line x1="${lx}" y1="${m.t + ph - 12}" x2="${lx + 20}" y2="${m.t + ph - 12}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 26}" y="${m.t + ph - 8}" font-size="11">${esc(label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The thesis' figure 4.14: requests/s per service (left axis) and live balancers (right axis). */
export function chartSvg(r: LabReport): string {
  return lineChart({
    id: 'rps-chart',
    title: 'Requests per second over time against the number of live balancers',
    yLabel: 'requests/s',
    series: r.chart.series,
    live: { points: r.chart.live, max: r.chart.maxBalancers, label: 'live balancers (web)' },
    events: r.chart.events,
    durationMs: r.chart.durationMs,
  });
}

/** Where the packets went: packets/s to the first service's VIP, per balancer. */
export function balancerChartSvg(r: LabReport): string {
  return lineChart({
    id: 'balancer-chart',
    title: 'Packets per second to the web VIP, per balancer',
    yLabel: 'packets/s (XDP)',
    series: r.chart.balancers,
    events: r.chart.events,
    durationMs: r.chart.durationMs,
  });
}

/** The HTML page: the chart, the convergence table and the splits, self-contained. */
/**
 * The page of a run: both charts, the text report (`text`, in the front end's format: the CLI
 * prints the same) and the steps with their times.
 */
export function reportHtml(r: LabReport, text: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>netaccel lab ${esc(r.runId)}</title>`,
    '<style>body{font-family:sans-serif;margin:2em;max-width:960px}pre{background:#f4f4f4;padding:1em;overflow-x:auto}</style>',
    '</head><body>',
    `<h1>netaccel lab — run ${esc(r.runId)}</h1>`,
    `<p>Started ${esc(r.startedAt)}${r.quick ? ' (shortened run)' : ''}. Router (BIRD, ECMP) and client, route reflector (gobgpd), ${r.balancers === undefined || r.balancers === 3 ? 'three' : r.balancers} XDP balancer${r.balancers === 1 ? '' : 's'} in ${r.mode === 'nat' ? 'NAT' : 'L2 DSR'} mode (ebpf-loader, bgp-announcer, lb-controller), six backends. Logs: <code>${esc(r.logDir)}</code>.</p>`,
    '<h2>Requests per second and live balancers</h2>',
    chartSvg(r),
    '<h2>Packets per second per balancer (web)</h2>',
    balancerChartSvg(r),
    '<h2>Report</h2>',
    `<pre>${esc(text)}</pre>`,
    '<h2>Steps</h2>',
    `<pre>${esc(r.steps.map((s) => `${stepSeconds(s.ms).padStart(8)}  ${s.title}`).join('\n'))}</pre>`,
    '</body></html>',
    '',
  ].join('\n');
}
