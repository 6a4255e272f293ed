/**
 * The Paxos scenario's chart: the clients' throughput (operations/s, left axis) and p99 latency
 * (ms, right axis) per second, the time the offloads were on shaded, the events (offloads on, the
 * leader killed, the new view, the replica restarted) as dashed lines. Self-contained SVG, drawn
 * like the thesis chart (thesis/report.ts).
 */
import type { SecondPoint } from './figures.js';

export interface PaxosChart {
  readonly title: string;
  readonly points: readonly SecondPoint[];
  /** ms since the clients started. */
  readonly events: readonly { readonly atMs: number; readonly label: string }[];
  /** Intervals with every offload on. */
  readonly offloadsOn: readonly { readonly fromMs: number; readonly toMs: number }[];
  readonly durationMs: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A round step for axis ticks covering `max` in about `n` steps. */
function niceStep(max: number, n: number): number {
  const raw = Math.max(max, 1) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
}

const OPS_COLOR = '#1f77b4';
const P99_COLOR = '#ff7f0e';

export function paxosChartSvg(c: PaxosChart): string {
  const W = 900;
  const H = 380;
  const m = { l: 64, r: 64, t: 24, b: 48 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const dur = Math.max(c.durationMs, 1);
  const axis = (max: number): { step: number; top: number } => {
    const step = niceStep(max, 5);
    return { step, top: Math.max(step, Math.ceil(max / step) * step) };
  };
  const ops = axis(Math.max(1, ...c.points.map((p) => p.opsPerSec)));
  const p99 = axis(Math.max(1, ...c.points.map((p) => p.p99Ms)));
  const f = (v: number): string => v.toFixed(1);
  const x = (t: number): number => m.l + (Math.min(Math.max(t, 0), dur) / dur) * pw;
  const yl = (v: number): number => m.t + ph - (v / ops.top) * ph;
  const yr = (v: number): number => m.t + ph - (v / p99.top) * ph;
  const out: string[] = [];
  out.push(`<svg id="paxos-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="paxos-chart-title">`);
  out.push(`<title id="paxos-chart-title">${esc(c.title)}</title>`);
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#ccc"/>`);
  for (const on of c.offloadsOn) {
    out.push(`<rect class="offloads-on" x="${f(x(on.fromMs))}" y="${m.t}" width="${f(x(on.toMs) - x(on.fromMs))}" height="${ph}" fill="#2ca02c" fill-opacity="0.08"/>`);
  }
  const xStep = niceStep(dur / 1000, 10);
  for (let s = 0; s * 1000 <= dur; s += xStep) {
    out.push(`<line x1="${f(x(s * 1000))}" y1="${m.t + ph}" x2="${f(x(s * 1000))}" y2="${m.t + ph + 5}" stroke="#444"/>`);
    out.push(`<text x="${f(x(s * 1000))}" y="${m.t + ph + 18}" font-size="11" text-anchor="middle">${s}</text>`);
  }
  out.push(`<text x="${m.l + pw / 2}" y="${H - 8}" font-size="12" text-anchor="middle">time since the clients started (s)</text>`);
  for (let v = 0; v <= ops.top; v += ops.step) {
    out.push(`<line x1="${m.l}" y1="${f(yl(v))}" x2="${m.l + pw}" y2="${f(yl(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.l - 6}" y="${f(yl(v) + 4)}" font-size="11" text-anchor="end" fill="${OPS_COLOR}">${v}</text>`);
  }
  for (let v = 0; v <= p99.top; v += p99.step) out.push(`<text x="${m.l + pw + 6}" y="${f(yr(v) + 4)}" font-size="11" fill="${P99_COLOR}">${v}</text>`);
  out.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" font-size="12" text-anchor="middle" fill="${OPS_COLOR}">operations/s (all clients)</text>`);
  out.push(`<text transform="translate(${W - 14} ${m.t + ph / 2}) rotate(90)" font-size="12" text-anchor="middle" fill="${P99_COLOR}">p99 latency (ms)</text>`);
  c.events.forEach((e, i) => {
    out.push(`<line class="event" x1="${f(x(e.atMs))}" y1="${m.t}" x2="${f(x(e.atMs))}" y2="${m.t + ph}" stroke="#888" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${f(x(e.atMs) + 3)}" y="${m.t + 12 + (i % 3) * 13}" font-size="11" fill="#555">${esc(e.label)}</text>`);
  });
  const line = (cls: string, color: string, pts: string): string => `<polyline class="${cls}" points="${pts}" fill="none" stroke="${color}" stroke-width="1.8"/>`;
  out.push(line('ops', OPS_COLOR, c.points.map((p) => `${f(x(p.atMs))},${f(yl(p.opsPerSec))}`).join(' ')));
  out.push(line('p99', P99_COLOR, c.points.map((p) => `${f(x(p.atMs))},${f(yr(p.p99Ms))}`).join(' ')));
  const legend: (readonly [string, string])[] = [['operations/s', OPS_COLOR], ['p99 latency', P99_COLOR]];
  legend.forEach(([label, color], i) => {
    const lx = m.l + 10 + i * 170;
    out.push(`<line x1="${lx}" y1="${m.t + ph - 12}" x2="${lx + 20}" y2="${m.t + ph - 12}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 26}" y="${m.t + ph - 8}" font-size="11">${esc(label)}</text>`);
  });
  out.push(`<rect x="${m.l + 350}" y="${m.t + ph - 20}" width="20" height="12" fill="#2ca02c" fill-opacity="0.15"/><text x="${m.l + 376}" y="${m.t + ph - 10}" font-size="11">offloads on</text>`);
  out.push('</svg>');
  return out.join('\n');
}
