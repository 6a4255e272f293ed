/**
 * The `Balancer` gRPC service (libs/rpc proto netaccel.balancer.v1): services, backends with
 * health and drain state, Drain, and the data plane's counters per VIP and backend (drops by
 * the shared drop-reason table's names).
 */
import { balancerV1 } from '@netaccel/rpc';
import type { ServiceHandlers } from '@netaccel/rpc';
import { canonicalIp, ipFamily } from '@netaccel/protocol';
import { XLB_DROP_REASONS } from '@netaccel/bpf-programs/xlb';
import type { DataPlane } from './data-plane.js';
import { NA_ERR_LB_BACKEND_NOT_FOUND, NA_ERR_LB_BAD_REQUEST, NA_ERR_LB_SERVICE_NOT_FOUND } from './errors.js';
import { isDraining } from './reconciler.js';
import type { AppliedBackend, AppliedService, Reconciler } from './reconciler.js';

const MODE = {
  'l2-dsr': balancerV1.ForwardingMode.FORWARDING_MODE_L2DSR,
  ipip: balancerV1.ForwardingMode.FORWARDING_MODE_IPIP,
  gue: balancerV1.ForwardingMode.FORWARDING_MODE_GUE,
  nat: balancerV1.ForwardingMode.FORWARDING_MODE_NAT,
} as const;

const HEALTH = {
  unknown: balancerV1.BackendHealth.BACKEND_HEALTH_UNSPECIFIED,
  healthy: balancerV1.BackendHealth.BACKEND_HEALTH_HEALTHY,
  unhealthy: balancerV1.BackendHealth.BACKEND_HEALTH_UNHEALTHY,
  disabled: balancerV1.BackendHealth.BACKEND_HEALTH_DISABLED,
} as const;

/** "no_backend" for XLB_DROP_NO_BACKEND: the API's names of the shared drop-reason table. */
export function dropReasonName(value: number): string {
  const r = XLB_DROP_REASONS.find((x) => x.value === value);
  return r ? r.name.replace(/^XLB_DROP_/, '').toLowerCase() : `reason_${value}`;
}

export interface BalancerView {
  readonly reconciler: Reconciler;
  readonly dataPlane: DataPlane;
  /** Prefixes announced now. */
  announced(vip: string): boolean;
  /** The last desired state refused since one was accepted (ListServices says it). */
  lastRefused?: () => { at: string; origin: string; code: string | undefined; error: string } | undefined;
}

function serviceOf(view: BalancerView, id: string): AppliedService {
  const svc = view.reconciler.services.get(id);
  if (!svc) throw NA_ERR_LB_SERVICE_NOT_FOUND(JSON.stringify(id));
  return svc;
}

function backendMessage(svc: AppliedService, b: AppliedBackend): balancerV1.Backend {
  return balancerV1.Backend.create({
    serviceId: svc.spec.id,
    address: b.spec.address,
    port: b.spec.port,
    weight: b.spec.weight,
    health: HEALTH[b.health],
    draining: isDraining(b),
    lastCheckError: b.lastError,
    healthChangedAt: b.healthChangedAt,
  });
}

function refusedMessage(r: ReturnType<NonNullable<BalancerView['lastRefused']>>): { lastRefused?: balancerV1.RefusedState } {
  return r === undefined ? {} : { lastRefused: balancerV1.RefusedState.create({ at: new Date(r.at), origin: r.origin, code: r.code ?? '', error: r.error }) };
}

export function balancerHandlers(view: BalancerView): ServiceHandlers<typeof balancerV1.BalancerService> {
  const services = (id: string): AppliedService[] => (id === '' ? [...view.reconciler.services.values()] : [serviceOf(view, id)]);
  return {
    // answers reflect the data plane: a pass in progress (a health change) is waited for
    listServices: async () => {
      await view.reconciler.settled();
      return balancerV1.ListServicesResponse.create({
        services: [...view.reconciler.services.values()].map((svc) => {
          const all = [...svc.backends.values()];
          return balancerV1.Service.create({
            id: svc.spec.id,
            name: svc.spec.name,
            vip: svc.spec.vip,
            port: svc.spec.port,
            protocol: svc.spec.protocol === 'tcp' ? balancerV1.Protocol.PROTOCOL_TCP : balancerV1.Protocol.PROTOCOL_UDP,
            mode: MODE[svc.spec.mode],
            scheduler: balancerV1.Scheduler.SCHEDULER_MAGLEV,
            flags: { hashSourceIpOnly: svc.spec.flags.hashSourceOnly, noConnectionTable: false, announce: svc.spec.flags.announce },
            tableSize: svc.spec.tableSize,
            backendsTotal: all.length,
            backendsHealthy: all.filter((b) => b.health === 'healthy' || b.health === 'disabled').length,
            announced: view.announced(svc.spec.vip),
          });
        }),
        ...refusedMessage(view.lastRefused?.()),
      });
    },
    listBackends: async (req) => {
      await view.reconciler.settled();
      return balancerV1.ListBackendsResponse.create({ backends: services(req.serviceId).flatMap((svc) => [...svc.backends.values()].map((b) => backendMessage(svc, b))) });
    },
    drain: async (req) => {
      if (ipFamily(req.address) === undefined) throw NA_ERR_LB_BAD_REQUEST(`address: expected an IPv4 or IPv6 address, got ${JSON.stringify(req.address)}`);
      const address = canonicalIp(req.address);
      let changed = 0;
      let found = 0;
      for (const svc of services(req.serviceId)) {
        for (const b of svc.backends.values()) {
          if (b.spec.address !== address) continue;
          found++;
          const want = !req.cancel;
          if (isDraining(b) !== want) changed++;
          view.reconciler.setDrain(b.key, req.cancel ? undefined : true);
        }
      }
      if (found === 0) throw NA_ERR_LB_BACKEND_NOT_FOUND(address, req.serviceId ? ` in service ${req.serviceId}` : '');
      await view.reconciler.settled();
      return balancerV1.DrainResponse.create({ changed });
    },
    getStats: async (req) => {
      const drops = await view.dataPlane.readDrops();
      const dropList = [...drops].filter(([, c]) => c.packets > 0n).map(([v, c]) => balancerV1.DropCount.create({ reason: dropReasonName(v), packets: c.packets }));
      const vips: balancerV1.VipStats[] = [];
      for (const svc of services(req.serviceId)) {
        const v = await view.dataPlane.readStats('vip_stats', svc.vipIndex);
        const backends: balancerV1.BackendStats[] = [];
        for (const b of svc.backends.values()) {
          const s = await view.dataPlane.readStats('backend_stats', b.index);
          backends.push(balancerV1.BackendStats.create({ address: b.spec.address, port: b.spec.port, counters: { packets: s.packets, bytes: s.bytes, newFlows: s.newFlows, drops: [] } }));
        }
        // drops are counted per reason for the whole data plane (the drop table has no VIP key)
        vips.push(balancerV1.VipStats.create({ serviceId: svc.spec.id, counters: { packets: v.packets, bytes: v.bytes, newFlows: v.newFlows, drops: dropList }, backends }));
      }
      return balancerV1.GetStatsResponse.create({ vips, collectedAt: new Date() });
    },
  };
}

