/**
 * The scaling run's charts, inline SVG (no script, no external resource), like the thesis
 * report's: one group of bars per step (1..N balancers), one bar per balancer. The share chart
 * marks each group's even share (1/N); the cost chart marks the one-balancer cost and the goal
 * above it (COST_GOAL ×).
 */
import { COST_GOAL } from './figures.js';
import type { ScalingStep } from './figures.js';

const COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b'];
const REF_COLOR = '#d62728';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (v: number): string => v.toFixed(1);

/** A round step for axis ticks covering `max` in about `n` steps. */
function niceStep(max: number, n: number): number {
  const raw = Math.max(max, 1e-9) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
}

interface BarChart {
  readonly id: string;
  readonly title: string;
  readonly yLabel: string;
  /** Per group (step): its label and one value per balancer. */
  readonly groups: readonly { readonly label: string; readonly bars: readonly { readonly label: string; readonly value: number }[]; readonly mark?: number }[];
  /** A horizontal reference line across the chart. */
  readonly lines?: readonly { readonly value: number; readonly label: string }[];
  readonly format: (v: number) => string;
}

function barChart(c: BarChart): string {
  const W = 900;
  const H = 360;
  const m = { l: 72, r: 24, t: 28, b: 56 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const maxY = Math.max(1e-9, ...c.groups.flatMap((g) => [...g.bars.map((b) => b.value), g.mark ?? 0]), ...(c.lines ?? []).map((l) => l.value)) * 1.1;
  const yStep = niceStep(maxY, 5);
  const yMax = Math.ceil(maxY / yStep) * yStep;
  const y = (v: number): number => m.t + ph - (v / yMax) * ph;
  const gw = pw / Math.max(1, c.groups.length);
  const parts: string[] = [];
  parts.push(`<svg id="${c.id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${c.id}-title">`);
  parts.push(`<title id="${c.id}-title">${esc(c.title)}</title>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#ccc"/>`);
  for (let v = 0; v <= yMax + yStep / 1e6; v += yStep) {
    parts.push(`<line x1="${m.l}" y1="${f(y(v))}" x2="${m.l + pw}" y2="${f(y(v))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${f(y(v) + 4)}" font-size="11" text-anchor="end">${esc(c.format(v))}</text>`);
  }
  parts.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(c.yLabel)}</text>`);
  c.groups.forEach((g, gi) => {
    const x0 = m.l + gi * gw;
    const bw = (gw * 0.8) / Math.max(1, g.bars.length);
    g.bars.forEach((b, bi) => {
      const x = x0 + gw * 0.1 + bi * bw;
      parts.push(`<rect class="bar" data-group="${esc(g.label)}" data-label="${esc(b.label)}" data-value="${b.value}" x="${f(x + 1)}" y="${f(y(b.value))}" width="${f(Math.max(1, bw - 2))}" height="${f(m.t + ph - y(b.value))}" fill="${COLORS[bi % COLORS.length]}"/>`);
      parts.push(`<text x="${f(x + bw / 2)}" y="${f(y(b.value) - 3)}" font-size="10" text-anchor="middle">${esc(b.label)}</text>`);
    });
    if (g.mark !== undefined) parts.push(`<line class="mark" x1="${f(x0 + gw * 0.05)}" y1="${f(y(g.mark))}" x2="${f(x0 + gw * 0.95)}" y2="${f(y(g.mark))}" stroke="${REF_COLOR}" stroke-dasharray="5 3" stroke-width="1.5"/>`);
    parts.push(`<text x="${f(x0 + gw / 2)}" y="${m.t + ph + 18}" font-size="12" text-anchor="middle">${esc(g.label)}</text>`);
  });
  for (const l of c.lines ?? []) {
    parts.push(`<line class="reference" x1="${m.l}" y1="${f(y(l.value))}" x2="${m.l + pw}" y2="${f(y(l.value))}" stroke="${REF_COLOR}" stroke-dasharray="5 3"/>`);
    parts.push(`<text x="${m.l + pw - 4}" y="${f(y(l.value) - 4)}" font-size="11" text-anchor="end" fill="${REF_COLOR}">${esc(l.label)}</text>`);
  }
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 10}" font-size="12" text-anchor="middle">balancers in the router's ECMP set</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

const groupLabel = (s: ScalingStep): string => `${s.balancers} balancer${s.balancers === 1 ? '' : 's'}`;

/** Each balancer's share of the flows per step; the dashed mark is the even share, 1/N. */
export function shareChartSvg(steps: readonly ScalingStep[]): string {
  return barChart({
    id: 'scaling-share-chart',
    title: 'Share of the flows per balancer as balancers are added (XDP new-flow counters)',
    yLabel: 'share of the flows (%)',
    groups: steps.map((s) => ({ label: groupLabel(s), bars: s.perBalancer.map((b) => ({ label: b.balancer, value: b.share * 100 })), mark: 100 / Math.max(1, s.balancers) })),
    format: (v) => v.toFixed(0),
  });
}

/** Each balancer's XDP run time per request per step, against one balancer's and the goal. */
export function costChartSvg(steps: readonly ScalingStep[], id = 'scaling-cost-chart'): string {
  const base = steps.find((s) => s.balancers === 1) ?? steps[0];
  return barChart({
    id,
    title: 'XDP CPU time per request, per balancer, as balancers are added (BPF_ENABLE_STATS run time / new flows)',
    yLabel: 'XDP ns per request',
    groups: steps.map((s) => ({ label: groupLabel(s), bars: s.perBalancer.map((b) => ({ label: b.balancer, value: b.nsPerRequest })) })),
    lines:
      base === undefined
        ? []
        : [
            { value: base.nsPerRequest, label: `1 balancer: ${base.nsPerRequest.toFixed(0)} ns` },
            { value: base.nsPerRequest * COST_GOAL, label: `goal: <= ${COST_GOAL}×` },
          ],
    format: (v) => v.toFixed(0),
  });
}
