/**
 * Prometheus metrics of a replica, registered on its host's metrics (libs/telemetry's `Metrics`,
 * restated structurally: this library does not depend on the telemetry package). Read at every
 * scrape from the status (status.ts), so they cost nothing between scrapes:
 *
 *   paxos_view, paxos_leader, paxos_is_leader, paxos_status{status}, paxos_last_op, paxos_commit,
 *   paxos_executed, paxos_clients                     gauges of the snapshot
 *   paxos_<counter>_total                              every PAXOS_COUNTERS entry
 *   paxos_offload_enabled{offload}                     1 when broadcast / fast_ack / quorum is on
 *   paxos_offload_events_total{counter}                el_stats (bcast_clones, fast_acks, …)
 *   paxos_offload_passed_total{reason,verdict}         el_reasons packets (why passed up or dropped)
 *
 * With the host's prefix (`netaccel_`) in front. Offload families are registered only when the
 * status has offloads at registration.
 */
import { PAXOS_COUNTERS } from './metrics.js';
import type { PaxosStatus } from './status.js';

type Labels = Record<string, string>;

/** The part of a gauge a collect function uses (prom-client's Gauge fits). */
export interface GaugeLike {
  set(value: number): void;
  set(labels: Labels, value: number): void;
  reset(): void;
}

/** What registering needs of the host's metrics (libs/telemetry's Metrics fits). */
export interface PaxosMetricsSink {
  gauge(spec: { name: string; help: string; labelNames?: readonly string[]; collect?: (this: GaugeLike) => void }): unknown;
  sampledCounter(spec: { name: string; help: string; labelNames?: readonly string[]; sample: () => Iterable<readonly [Labels, number]> }): unknown;
}

const STATUSES = ['normal', 'view-change', 'recovering'] as const;

/** Registers the replica's families; `read` is called once per family per scrape. */
export function registerPaxosMetrics(metrics: PaxosMetricsSink, read: () => PaxosStatus): void {
  const gauge = (name: string, help: string, value: (s: PaxosStatus) => number | bigint): void => {
    metrics.gauge({
      name: `paxos_${name}`,
      help,
      collect() {
        this.set(Number(value(read())));
      },
    });
  };
  gauge('view', 'The view the replica is in', (s) => s.view);
  gauge('leader', "The leader's replica index (view mod n)", (s) => s.leader);
  gauge('is_leader', '1 when this replica leads the current view', (s) => (s.isLeader ? 1 : 0));
  gauge('last_op', 'Op number of the last log entry', (s) => s.lastOp);
  gauge('commit', 'Commit number (last committed op)', (s) => s.commit);
  gauge('executed', 'Last op executed by the state machine', (s) => s.executed);
  gauge('clients', 'Clients in the client table', (s) => s.clients);
  metrics.gauge({
    name: 'paxos_status',
    help: 'The replica status: 1 for the current one (normal, view-change, recovering)',
    labelNames: ['status'],
    collect() {
      const now = read().status;
      for (const st of STATUSES) this.set({ status: st }, st === now ? 1 : 0);
    },
  });
  for (const c of PAXOS_COUNTERS) {
    metrics.sampledCounter({ name: `paxos_${c}_total`, help: `Replica counter ${c} (libs/paxos PAXOS_COUNTERS)`, sample: () => [[{}, read().counters[c]]] });
  }
  if (read().offloads === undefined) return;
  metrics.gauge({
    name: 'paxos_offload_enabled',
    help: '1 when the Electrode offload is switched on (broadcast, fast_ack, quorum)',
    labelNames: ['offload'],
    collect() {
      const o = read().offloads;
      this.set({ offload: 'broadcast' }, o?.broadcast ? 1 : 0);
      this.set({ offload: 'fast_ack' }, o?.fastAck ? 1 : 0);
      this.set({ offload: 'quorum' }, o?.quorum ? 1 : 0);
    },
  });
  metrics.sampledCounter({
    name: 'paxos_offload_events_total',
    help: 'Electrode offload counters from el_stats (bcast_prepares, bcast_clones, fast_acks, acks_filtered, quorums, passed, …)',
    labelNames: ['counter'],
    sample: () => Object.entries(read().offloads?.stats ?? {}).map(([k, v]) => [{ counter: k.toLowerCase() }, Number(v)] as const),
  });
  metrics.sampledCounter({
    name: 'paxos_offload_passed_total',
    help: 'Messages an offload passed up to user space or dropped, by reason (el_reasons)',
    labelNames: ['reason', 'verdict'],
    sample: () => (read().offloads?.reasons ?? []).map((r) => [{ reason: r.name.replace(/^ELECTRODE_R_/, '').toLowerCase(), verdict: r.verdict }, Number(r.packets)] as const),
  });
}
