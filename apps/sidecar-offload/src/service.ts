/**
 * The Sidecar gRPC service (netaccel.sidecar.v1): listeners with their routes and the clusters,
 * the policies, per-method telemetry, and the client connections with whether the kernel path
 * carries each. Read-only: configuration changes go through the file and SIGHUP.
 */
import type { ServiceHandlers, SidecarService } from '@netaccel/rpc';
import { sidecarV1 } from '@netaccel/rpc';
import { NA_ERR_SIDECARD_LISTENER_NOT_FOUND } from './errors.js';
import { statusName } from './grpc-wire.js';
import type { Action, CompiledRoute } from './policy.js';
import type { SidecarProxy } from './sidecar.js';

const ACTION: Readonly<Record<Action, sidecarV1.Action>> = { allow: sidecarV1.Action.ACTION_ALLOW, deny: sidecarV1.Action.ACTION_DENY };

function routeMessage(r: CompiledRoute): sidecarV1.Route {
  return sidecarV1.Route.create({
    method: r.match.kind === 'method' ? r.match.value : '',
    service: r.match.kind === 'service' ? r.match.value : '',
    prefix: r.match.kind === 'prefix' ? r.match.value : '',
    cluster: r.cluster,
    timeoutMs: r.timeoutMs,
    maxTimeoutMs: r.maxTimeoutMs,
  });
}

/** The listener names a request selects: all for "", else the one (NOT_FOUND when unknown). */
function selected(proxy: SidecarProxy, name: string): string[] {
  if (name === '') return proxy.listeners.map((l) => l.name);
  if (proxy.listener(name) === undefined) throw NA_ERR_SIDECARD_LISTENER_NOT_FOUND(JSON.stringify(name));
  return [name];
}

export function sidecarHandlers(proxy: SidecarProxy): ServiceHandlers<typeof SidecarService> {
  return {
    listRoutes: () => {
      const now = Date.now();
      return sidecarV1.ListRoutesResponse.create({
        listeners: proxy.listeners.map((l) =>
          sidecarV1.Listener.create({
            name: l.name,
            direction: l.settings.direction === 'inbound' ? sidecarV1.Direction.DIRECTION_INBOUND : sidecarV1.Direction.DIRECTION_OUTBOUND,
            address: l.address,
            routes: l.currentRoutes.map(routeMessage),
          }),
        ),
        clusters: [...proxy.clusters.values()].map((k) =>
          sidecarV1.Cluster.create({
            name: k.name,
            balancing: k.config.balancing === 'round-robin' ? sidecarV1.Balancing.BALANCING_ROUND_ROBIN : sidecarV1.Balancing.BALANCING_LEAST_REQUESTS,
            endpoints: k.members.map((e) =>
              sidecarV1.Endpoint.create({ address: e.address, healthy: e.healthy(now), activeRequests: e.active, connectFailures: e.failures, calls: BigInt(e.calls) }),
            ),
          }),
        ),
      });
    },
    listPolicies: (req) =>
      sidecarV1.ListPoliciesResponse.create({
        policies: selected(proxy, req.listener).map((name) => {
          const p = proxy.listener(name)!.currentPolicy;
          return sidecarV1.Policy.create({
            listener: name,
            defaultAction: ACTION[p.defaultAction],
            rules: [
              ...[...p.methods].map(([method, a]) => sidecarV1.PolicyRule.create({ method, action: ACTION[a] })),
              ...[...p.services].map(([service, a]) => sidecarV1.PolicyRule.create({ service, action: ACTION[a] })),
            ],
          });
        }),
      }),
    getStats: (req) => {
      const names = new Set(selected(proxy, req.listener));
      return sidecarV1.GetStatsResponse.create({
        methods: proxy.stats
          .methods()
          .filter((m) => names.has(m.listener))
          .map((m) =>
            sidecarV1.MethodStats.create({
              listener: m.listener,
              method: m.method,
              calls: BigInt(m.calls),
              statuses: [...m.statuses].sort(([a], [b]) => a - b).map(([code, calls]) => sidecarV1.StatusCount.create({ code, name: statusName(code), calls: BigInt(calls) })),
              requestBytes: BigInt(m.requestBytes),
              responseBytes: BigInt(m.responseBytes),
              requestMessages: BigInt(m.requestMessages),
              responseMessages: BigInt(m.responseMessages),
              latencySumMs: m.latencySumMs,
              latencyP50Ms: m.quantileMs(0.5),
              latencyP99Ms: m.quantileMs(0.99),
            }),
          ),
      });
    },
    listConnections: async (req) => {
      // through the loader, the kernel's connection states are read again first (one batch)
      await proxy.kernel.refresh?.();
      return sidecarV1.ListConnectionsResponse.create({
        connections: selected(proxy, req.listener).flatMap((name) =>
          proxy.listener(name)!.connections().map((c) =>
            sidecarV1.Connection.create({
              id: BigInt(c.id),
              listener: c.listener,
              remote: c.remote,
              activeStreams: c.activeStreams,
              streams: BigInt(c.streams),
              offloaded: c.offload.offloaded,
              notOffloadedReason: c.offload.offloaded ? '' : c.offload.reason,
            }),
          ),
        ),
      });
    },
  };
}
