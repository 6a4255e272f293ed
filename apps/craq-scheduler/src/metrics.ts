/**
 * Prometheus metrics of craq-scheduler: placement (keys, bytes, epoch, places and evictions),
 * the chain (epoch, members, liveness, reconfigurations), write-back to etcd (pending, written,
 * failed), etcd's overall rates and heat-source failures (configuration reloads are the daemon
 * host's, @netaccel/daemon).
 */
import type { Metrics } from '@netaccel/telemetry';
import type { ChainManager } from './chain-manager.js';
import type { Placer } from './placer.js';
import type { Scheduler } from './scheduler.js';

export interface CraqMetrics {
  readonly reconfigurations: { inc(labels: { reason: string }): void };
  readonly sourceErrors: { inc(labels: { source: string }): void };
}

export function registerMetrics(metrics: Metrics, parts: { chain: ChainManager; placer: Placer; scheduler: Scheduler; budget: number; active?: () => boolean }): CraqMetrics {
  const { chain, placer, scheduler } = parts;
  metrics.gauge({ name: 'craq_placed_keys', help: 'Keys placed in the chain', collect() { this.set(placer.entries.size); } });
  metrics.gauge({ name: 'craq_placed_bytes', help: 'Bytes the placed keys take of the budget', collect() { this.set(placer.usedBytes()); } });
  metrics.gauge({ name: 'craq_budget_bytes', help: 'The data plane memory budget for keys and values', collect() { this.set(parts.budget); } });
  metrics.gauge({ name: 'craq_placement_epoch', help: 'Placement epoch (bumped at every place and evict)', collect() { this.set(Number(placer.epoch)); } });
  metrics.gauge({ name: 'craq_chain_epoch', help: 'Chain configuration epoch', collect() { this.set(chain.state.epoch); } });
  metrics.gauge({ name: 'craq_chain_members', help: 'Nodes in the chain', collect() { this.set(chain.state.members.length); } });
  metrics.gauge({ name: 'craq_chain_version', help: "The chain configuration's version in the schedulers' Paxos group (0 with membership.via: local)", collect() { this.set(chain.version); } });
  metrics.gauge({ name: 'craq_scheduler_active', help: '1 when this scheduler probes and places (always with membership.via: local; the Paxos leader with paxos)', collect() { this.set(parts.active?.() === false ? 0 : 1); } });
  metrics.gauge({
    name: 'craq_node_alive',
    help: '1 when the node answers its probes',
    labelNames: ['node'],
    collect() {
      this.reset();
      for (const [n, l] of chain.liveness) this.set({ node: n }, l.alive ? 1 : 0);
    },
  });
  metrics.gauge({ name: 'craq_write_back_pending', help: 'Keys with commits not yet written to etcd', collect() { this.set(placer.writeBack.pending); } });
  metrics.gauge({ name: 'craq_write_back_written', help: 'Commits written back to etcd since start', collect() { this.set(placer.writeBack.stats.written); } });
  metrics.gauge({ name: 'craq_write_back_failed', help: 'Write-backs to etcd that failed (retried) since start', collect() { this.set(placer.writeBack.stats.failed); } });
  metrics.gauge({ name: 'craq_etcd_reads_per_second', help: "etcd's overall read rate (its Prometheus endpoint)", collect() { this.set(scheduler.etcdRates.readsPerSecond); } });
  metrics.gauge({ name: 'craq_etcd_writes_per_second', help: "etcd's overall write rate (its Prometheus endpoint)", collect() { this.set(scheduler.etcdRates.writesPerSecond); } });
  const lost = chain.lostMessages;
  metrics.gauge({ name: 'craq_lost_message_scans', help: "Scans of the head's keys for lost chain messages", collect() { this.set(lost.scans); } });
  metrics.gauge({ name: 'craq_lost_message_repairs', help: 'Keys repaired after a lost chain message, by kind (ack: the tail had committed; propagate: the highest held version committed; reconfiguration: left dirty by a reconfiguration)', labelNames: ['kind'], collect() { this.set({ kind: 'ack' }, lost.acks); this.set({ kind: 'propagate' }, lost.writes); this.set({ kind: 'reconfiguration' }, lost.afterReconfiguration); } });
  metrics.gauge({ name: 'craq_lost_message_scan_failures', help: 'Scans or repairs of lost chain messages that failed (tried again at the next scan)', collect() { this.set(lost.failed); } });
  metrics.gauge({ name: 'craq_reconfiguration_ms', help: "The last chain reconfiguration's steps, in milliseconds (detection not included)", collect() { this.set(chain.lastReconfiguration?.totalMs ?? 0); } });
  metrics.gauge({ name: 'craq_rounds', help: 'Placement rounds run', collect() { this.set(scheduler.rounds); } });
  return {
    reconfigurations: metrics.counter({ name: 'craq_reconfigurations_total', help: 'Chain reconfigurations by reason', labelNames: ['reason'] }),
    sourceErrors: metrics.counter({ name: 'craq_heat_source_errors_total', help: 'Heat source failures by source', labelNames: ['source'] }),
  };
}
