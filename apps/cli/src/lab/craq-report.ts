/**
 * The CRAQ scenario's report as `netaccel lab --scenario craq` shows it: read QPS and latency per
 * phase, how the reads were served (chain or etcd), the hot keys placed and when, the node killed
 * and the chain after, the linearizability check of the placed keys, and where the chart and the
 * JSON are (@netaccel/labs writes them in the run's folder).
 */
import type { CraqReport, PhaseFigures, ServedBy } from '@netaccel/labs';
import { renderTable } from '../output.js';

const s = (ms: number): string => `${(ms / 1000).toFixed(1)}`;

export function craqReportText(r: CraqReport): string {
  const out: string[] = [];
  out.push(`NetCRAQ: ${r.keys} etcd keys, Zipf ${r.zipf}, ${r.clients} closed-loop clients, ${Math.round(r.writeRatio * 100)} % writes${r.quick ? ', shortened run' : ''}`);
  out.push(`  ${r.layout}`);
  out.push('', 'reads per phase');
  out.push(
    renderTable(
      [
        { header: 'phase', value: (p: PhaseFigures) => p.name },
        { header: 'from-to (s)', value: (p) => `${s(p.fromMs)}-${s(p.toMs)}`, align: 'right' },
        { header: 'reads', value: (p) => p.ops, align: 'right' },
        { header: 'reads/s', value: (p) => Math.round(p.opsPerSec), align: 'right' },
        { header: 'p50', value: (p) => `${p.p50Ms.toFixed(2)} ms`, align: 'right' },
        { header: 'p99', value: (p) => `${p.p99Ms.toFixed(2)} ms`, align: 'right' },
      ],
      r.reads,
    ),
  );
  out.push('', 'served by (client counters per phase)');
  out.push(
    renderTable(
      [
        { header: 'phase', value: (b: ServedBy) => b.phase },
        { header: 'chain reads', value: (b) => b.chainReads, align: 'right' },
        { header: 'etcd reads', value: (b) => b.etcdReads, align: 'right' },
        { header: 'chain writes', value: (b) => b.chainWrites, align: 'right' },
        { header: 'etcd writes', value: (b) => b.etcdWrites, align: 'right' },
        { header: 'retries', value: (b) => b.retries, align: 'right' },
        { header: 'errors', value: (b) => b.errors, align: 'right' },
      ],
      r.servedBy,
    ),
  );
  const p = r.placement;
  out.push('', 'placement');
  out.push(`  first key placed ${p.firstPlacedMs} ms after the scheduler started; settled after ${p.settledMs} ms with ${p.keys.length} keys (Zipf: ${p.expectedSharePct} % of draws)`);
  out.push(`  hottest placed: ${p.keys.slice(0, 8).join(', ')}${p.keys.length > 8 ? `, … (${p.keys.length - 8} more)` : ''}`);
  out.push(`  ${p.changes.length} placement changes seen (the JSON lists each, with the keys added and removed)`);
  const f = r.failure;
  out.push('', 'failure');
  out.push(`  ${f.killed} killed: chain ${f.chainBefore.join(' → ')} → ${f.chainAfter.join(' → ')} in ${f.reconfiguredMs} ms (${f.lastChange}); the clients since: ${f.retries} retries, ${f.errors} errors`);
  const l = r.linearizability;
  out.push('', `history of the placed keys: ${l.operations} operations on ${l.keys} keys, ${l.unknown} of unknown outcome: ${l.outcome} (checked in ${l.checkMs} ms)${l.counterexample !== undefined ? `\n${l.counterexample}` : ''}`);
  out.push(`clients: ${r.client.ops} operations, ${r.client.errors} errors`);
  out.push('', `chart: ${r.files.svg}`, `figures: ${r.files.json}`);
  return out.join('\n');
}
