/**
 * lb-controller's Prometheus metrics. Data-plane counters (per VIP, per backend, drops by
 * reason) are read from the per-CPU maps at scrape time and exported as counters (`_total`)
 * that stay monotonic when a map slot restarts from 0 (a service or backend re-created, an
 * index reused): `sampledCounter` of @netaccel/telemetry adds the new value after a drop.
 */
import type { Metrics } from '@netaccel/telemetry';
import type { DataPlane } from './data-plane.js';
import { dropReasonName } from './balancer-service.js';
import type { Reconciler } from './reconciler.js';

export interface LbMetrics {
  readonly tableBuilds: ReturnType<Metrics['counter']>;
  readonly applyDuration: ReturnType<Metrics['histogram']>;
  readonly applyLatency: ReturnType<Metrics['histogram']>;
  readonly sourceProblems: ReturnType<Metrics['counter']>;
  readonly statesRefused: ReturnType<Metrics['counter']>;
  readonly stateUpdates: ReturnType<Metrics['counter']>;
  readonly healthChecks: ReturnType<Metrics['counter']>;
  readonly lcReads: ReturnType<Metrics['histogram']>;
  readonly announced: ReturnType<Metrics['gauge']>;
}

const MS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function lbMetrics(metrics: Metrics, view: { reconciler: () => Reconciler | undefined; dataPlane: () => DataPlane | undefined }): LbMetrics {
  const stat = (what: 'packets' | 'bytes' | 'newFlows', level: 'vip' | 'backend') =>
    metrics.sampledCounter<'service' | 'backend'>({
      name: `lb_${level}_${what === 'newFlows' ? 'new_flows' : what}_total`,
      help: `${what === 'newFlows' ? 'New flows' : what === 'packets' ? 'Packets' : 'Bytes'} forwarded per ${level === 'vip' ? 'service' : 'backend'} (data-plane counter)`,
      labelNames: level === 'vip' ? ['service'] : ['service', 'backend'],
      async sample() {
        const rec = view.reconciler();
        const dp = view.dataPlane();
        const out: [Partial<Record<'service' | 'backend', string>>, number][] = [];
        if (!rec || !dp) return out;
        for (const svc of rec.services.values()) {
          if (level === 'vip') {
            const s = await dp.readStats('vip_stats', svc.vipIndex);
            out.push([{ service: svc.spec.id }, Number(s[what])]);
          } else {
            for (const b of svc.backends.values()) {
              const s = await dp.readStats('backend_stats', b.index);
              out.push([{ service: svc.spec.id, backend: `${b.spec.address}:${b.spec.port}` }, Number(s[what])]);
            }
          }
        }
        return out;
      },
    });
  for (const level of ['vip', 'backend'] as const) for (const what of ['packets', 'bytes', 'newFlows'] as const) stat(what, level);
  metrics.sampledCounter<'reason'>({
    name: 'lb_dropped_packets_total',
    help: 'Packets not balanced, by drop reason (data-plane counter; the shared drop-reason table)',
    labelNames: ['reason'],
    async sample() {
      const dp = view.dataPlane();
      if (!dp) return [];
      return [...(await dp.readDrops())].map(([v, c]) => [{ reason: dropReasonName(v) }, Number(c.packets)] as const);
    },
  });
  metrics.gauge({
    name: 'lb_backend_healthy',
    help: 'Backend health: 1 healthy (or unchecked by configuration), 0 unhealthy or not yet checked',
    labelNames: ['service', 'backend', 'state'],
    collect() {
      this.reset();
      for (const svc of view.reconciler()?.services.values() ?? []) {
        for (const b of svc.backends.values()) {
          this.set({ service: svc.spec.id, backend: `${b.spec.address}:${b.spec.port}`, state: b.health }, b.health === 'healthy' || b.health === 'disabled' ? 1 : 0);
        }
      }
    },
  });
  const stateUpdates = metrics.counter({ name: 'lb_state_updates_total', help: 'Desired states from the source by outcome: accepted (the tables follow it) or refused (the running state stays)', labelNames: ['result'] });
  for (const result of ['accepted', 'refused']) stateUpdates.inc({ result }, 0); // both series from the start
  return {
    tableBuilds: metrics.counter({ name: 'lb_table_builds_total', help: 'Maglev tables built and switched' }),
    applyDuration: metrics.histogram({ name: 'lb_apply_duration_seconds', help: 'Time of one reconcile pass (tables built, written, flipped)', buckets: MS_BUCKETS }),
    applyLatency: metrics.histogram({ name: 'lb_apply_latency_seconds', help: 'From a change (source event, health change) to the data plane updated', buckets: MS_BUCKETS }),
    sourceProblems: metrics.counter({ name: 'lb_source_problems_total', help: 'Records skipped, states refused and connection losses of the desired-state source', labelNames: ['source', 'kind'] }),
    statesRefused: metrics.counter({ name: 'lb_states_refused_total', help: 'Desired states refused whole (a bad or truncated file, a record set that does not validate, or capacity); the running tables stayed' }),
    stateUpdates,
    healthChecks: metrics.counter({ name: 'lb_health_checks_total', help: 'Health checks run, by result', labelNames: ['result'] }),
    lcReads: metrics.histogram({ name: 'lb_least_conn_read_seconds', help: 'Least connection: time to read the connection table and re-weight', buckets: MS_BUCKETS }),
    announced: metrics.gauge({ name: 'lb_vip_announced', help: 'VIP prefixes announced through bgp-announcer (1) or not (0)', labelNames: ['prefix'] }),
  };
}
