/**
 * The thesis lab's report as `netaccel lab` shows it: the text printed at the end of a run, in
 * the CLI's table format, and the HTML page (@netaccel/labs' charts) that carries the same text.
 */
import { reportHtml as labReportHtml } from '@netaccel/labs';
import type { LabReport, PhaseSplit, TrafficSummary } from '@netaccel/labs';
import { renderTable } from '../output.js';

export { chartSvg } from '@netaccel/labs';
export type { LabReport } from '@netaccel/labs';

/** The HTML page of a run, with this text report in it. */
export const reportHtml = (r: LabReport): string => labReportHtml(r, reportText(r));

// Delays always in milliseconds: one unit in the column (not "13.1 s" beside "4179 ms").
const ms = (v: number): string => `${Math.round(v)} ms`;
const pct = (n: number, total: number): string => (total === 0 ? '-' : `${((100 * n) / total).toFixed(0)}%`);

/** The text report printed at the end of a run. */
export function reportText(r: LabReport): string {
  const out: string[] = [];
  const c = r.convergence;
  out.push('convergence');
  out.push(
    renderTable(
      [
        { header: 'event', value: (x: [string, string]) => x[0] },
        { header: 'delay', value: (x) => x[1], align: 'right' },
      ],
      [
        ...Object.entries(c.withdrawMs).map(([vip, v]): [string, string] => [`kill -9 ${r.killed} → its next hop gone for ${vip}`, ms(v)]),
        ...Object.entries(c.restoreMs).map(([vip, v]): [string, string] => [`${r.killed} restarted → next hop back for ${vip}`, ms(v)]),
        ...Object.entries(c.announceToRouteMs).map(([vip, v]): [string, string] => [`  announcement → router FIB for ${vip} (through the reflector)`, ms(v)]),
        [`${r.killed} restarted → its controller reported running`, ms(c.restart.daemonsReadyMs)],
        [`  the restarted controller's first data-plane programming`, ms(c.restart.dataPlaneMs)],
        [`${r.removed.backend} removed from ${r.removed.service} → out of every balancer`, ms(c.backendRemovalMs)],
      ],
    ),
  );
  out.push('', 'traffic (wrk, a new connection per request)');
  out.push(
    renderTable(
      [
        { header: 'service', value: (t: TrafficSummary) => `${t.service} ${t.url}` },
        { header: 'requests', value: (t) => t.requests, align: 'right' },
        { header: 'req/s', value: (t) => Math.round(t.meanRps), align: 'right' },
        { header: 'errors', value: (t) => `${t.errors.connect + t.errors.read + t.errors.write + t.errors.status + t.errors.timeout} (connect ${t.errors.connect}, read ${t.errors.read}, timeout ${t.errors.timeout}, status ${t.errors.status})` },
        { header: 'p50', value: (t) => `${t.latencyMs.p50.toFixed(1)} ms`, align: 'right' },
        { header: 'p99', value: (t) => `${t.latencyMs.p99.toFixed(1)} ms`, align: 'right' },
      ],
      r.traffic,
    ),
  );
  for (const service of Object.keys(r.phases[0]?.balancers ?? {})) {
    out.push('', `split of ${service} per phase: packets per balancer (XDP counters), responses per backend (wrk)`);
    const balancerNames = [...new Set(r.phases.flatMap((p) => Object.keys(p.balancers[service] ?? {})))].sort();
    const backendNames = [...new Set(r.phases.flatMap((p) => Object.keys(p.backends[service] ?? {})))].sort();
    out.push(
      renderTable(
        [
          { header: 'phase', value: (p: PhaseSplit) => `${p.name} (${((p.toMs - p.fromMs) / 1000).toFixed(1)} s)` },
          ...balancerNames.map((b) => ({
            header: b,
            value: (p: PhaseSplit) => {
              const row = p.balancers[service] ?? {};
              const v = row[b];
              const total = Object.values(row).reduce<number>((s, x) => s + (x ?? 0), 0);
              return v === null ? 'down' : v === undefined ? '-' : pct(v, total);
            },
            align: 'right' as const,
          })),
          ...backendNames.map((b) => ({
            header: b,
            value: (p: PhaseSplit) => {
              const row = p.backends[service] ?? {};
              const total = Object.values(row).reduce((s, x) => s + x, 0);
              return pct(row[b] ?? 0, total);
            },
            align: 'right' as const,
          })),
        ],
        r.phases,
      ),
    );
  }
  return out.join('\n');
}
