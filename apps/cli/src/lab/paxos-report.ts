/**
 * The Paxos scenario's report as `netaccel lab --scenario paxos` shows it: throughput and latency
 * per phase, the failover, the kernel counters of each offload per phase, the linearizability
 * check, and where the chart and the JSON are (@netaccel/labs writes them in the run's folder).
 */
import type { OffloadCounters, PaxosReport, PhaseFigures } from '@netaccel/labs';
import { renderTable } from '../output.js';

const s = (ms: number): string => `${(ms / 1000).toFixed(1)}`;
const onOff = (bits: number): string => (bits === 0 ? 'off' : bits === 7 ? 'all on' : `0x${bits.toString(16)}`);

export function paxosReportText(r: PaxosReport): string {
  const out: string[] = [];
  out.push(`Paxos (VR) with the Electrode offloads: ${r.replicas} replicas, ${r.clients} closed-loop clients on ${r.keys} keys (get/put)${r.quick ? ', shortened run' : ''}`);
  out.push('', 'clients per phase');
  out.push(
    renderTable(
      [
        { header: 'phase', value: (p: PhaseFigures) => p.name },
        { header: 'from-to (s)', value: (p) => `${s(p.fromMs)}-${s(p.toMs)}`, align: 'right' },
        { header: 'ops', value: (p) => p.ops, align: 'right' },
        { header: 'ops/s', value: (p) => Math.round(p.opsPerSec), align: 'right' },
        { header: 'p50', value: (p) => `${p.p50Ms.toFixed(2)} ms`, align: 'right' },
        { header: 'p99', value: (p) => `${p.p99Ms.toFixed(2)} ms`, align: 'right' },
        { header: 'timed out', value: (p) => p.unknown, align: 'right' },
      ],
      r.phases,
    ),
  );
  const f = r.failover;
  out.push('', 'failover');
  out.push(`  kill -9 of leader r${f.killed} (view ${f.killedView}) → view ${f.newView} normal (leader r${f.newLeader}): ${f.viewChangeMs} ms; → clients served again: ${f.serviceBackMs} ms`);
  if (f.rejoinMs !== null) out.push(`  r${f.killed} restarted → normal in the current view: ${f.rejoinMs} ms (of which recovery and state transfer ${f.recoveryMs ?? '-'} ms)`);
  const firsts = r.views.filter((v, i, all) => v.status === 'normal' && all.findIndex((w) => w.status === 'normal' && w.view === v.view) === i);
  out.push(`  views during the run (first replica normal in each): ${firsts.length === 0 ? 'none' : firsts.map((v) => `view ${v.view} (leader r${v.leader}) at ${s(v.atMs)} s`).join(', ')}`);
  out.push('', 'kernel counters per phase, all replicas (bpf/electrode el_stats)');
  out.push(
    renderTable(
      [
        { header: 'phase', value: (c: OffloadCounters) => c.phase },
        { header: 'offloads', value: (c) => onOff(c.offloads) },
        { header: 'bcast prepares', value: (c) => c.broadcast.prepares, align: 'right' },
        { header: 'clones', value: (c) => c.broadcast.clones, align: 'right' },
        { header: 'fast acks', value: (c) => c.fastAck.acks, align: 'right' },
        { header: 'quorums', value: (c) => c.quorum.quorums, align: 'right' },
        { header: 'acks filtered', value: (c) => c.quorum.filtered, align: 'right' },
        { header: 'passed up', value: (c) => c.passed, align: 'right' },
      ],
      r.counters,
    ),
  );
  const l = r.linearizability;
  out.push('', `history: ${l.operations} operations on ${l.keys} keys, ${l.unknown} of unknown outcome: ${l.outcome} (checked in ${l.checkMs} ms)${l.counterexample !== undefined ? `\n${l.counterexample}` : ''}`);
  out.push('', `chart: ${r.files.svg}`, `figures: ${r.files.json}`);
  return out.join('\n');
}
