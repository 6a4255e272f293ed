/**
 * `netaccel sidecar routes | policies | stats | connections`: the sidecar-offload's Sidecar
 * service (libs/rpc/proto/netaccel/sidecar/v1): listeners and their routes, clusters and
 * endpoints, the allow/deny policies, per-method telemetry, and the client connections with
 * whether the kernel path carries each (and why not).
 */
import { SidecarClient, sidecarV1 } from '@netaccel/rpc';
import type { Command, CommandContext, CommandGroup } from '../command.js';
import { withDaemon } from '../daemons.js';

const DIRECTION: Readonly<Record<number, string>> = { 1: 'inbound', 2: 'outbound' };
const BALANCING: Readonly<Record<number, string>> = { 1: 'round-robin', 2: 'least-requests' };
const ACTION: Readonly<Record<number, string>> = { 1: 'allow', 2: 'deny' };

function match(r: sidecarV1.Route): string {
  return r.method !== '' ? r.method : r.service !== '' ? `service ${r.service}` : `prefix ${r.prefix}`;
}

function listenerArg(ctx: CommandContext): string {
  return ctx.positionals[0] ?? '';
}

const ms = (v: number): string => (v < 10 ? v.toFixed(2) : v.toFixed(1));

const routes: Command = {
  summary: 'listeners with their routes, and the clusters with their endpoints',
  async run(ctx) {
    const r = await withDaemon('sidecar-offload', SidecarClient, ctx, (c) => c.listRoutes(sidecarV1.ListRoutesRequest.create()));
    type Row = { listener: string; direction: string; address: string; match: string; cluster: string; timeout: string };
    const rows: Row[] = r.listeners.flatMap((l) =>
      l.routes.map((x) => ({ listener: l.name, direction: DIRECTION[l.direction] ?? '', address: l.address, match: match(x), cluster: x.cluster, timeout: `${x.timeoutMs}ms / ${x.maxTimeoutMs}ms` })),
    );
    ctx.out.table(
      [
        { header: 'listener', value: (x: Row) => x.listener },
        { header: 'direction', value: (x) => x.direction },
        { header: 'address', value: (x) => x.address },
        { header: 'match', value: (x) => x.match },
        { header: 'cluster', value: (x) => x.cluster },
        { header: 'timeout / max', value: (x) => x.timeout },
      ],
      rows,
      {
        listeners: r.listeners.map((l) => ({ ...l, direction: DIRECTION[l.direction] ?? 'unspecified' })),
        clusters: r.clusters.map((k) => ({ ...k, balancing: BALANCING[k.balancing] ?? 'unspecified' })),
      },
    );
    if (ctx.values.json === true) return;
    type E = { cluster: string; balancing: string; endpoint: sidecarV1.Endpoint };
    ctx.out.table(
      [
        { header: 'cluster', value: (x: E) => x.cluster },
        { header: 'balancing', value: (x) => x.balancing },
        { header: 'endpoint', value: (x) => x.endpoint.address },
        { header: 'healthy', value: (x) => (x.endpoint.healthy ? 'yes' : 'ejected') },
        { header: 'active', value: (x) => x.endpoint.activeRequests, align: 'right' },
        { header: 'calls', value: (x) => x.endpoint.calls, align: 'right' },
        { header: 'connect failures', value: (x) => x.endpoint.connectFailures, align: 'right' },
      ],
      r.clusters.flatMap((k) => k.endpoints.map((endpoint) => ({ cluster: k.name, balancing: BALANCING[k.balancing] ?? '', endpoint }))),
    );
  },
};

const policies: Command = {
  summary: 'the allow/deny policy of every listener (or one)',
  args: '[listener]',
  async run(ctx) {
    const r = await withDaemon('sidecar-offload', SidecarClient, ctx, (c) => c.listPolicies(sidecarV1.ListPoliciesRequest.create({ listener: listenerArg(ctx) })));
    type Row = { listener: string; rule: string; action: string };
    const rows: Row[] = r.policies.flatMap((p) => [
      ...p.rules.map((x) => ({ listener: p.listener, rule: x.method !== '' ? x.method : `service ${x.service}`, action: ACTION[x.action] ?? '' })),
      { listener: p.listener, rule: '(default)', action: ACTION[p.defaultAction] ?? '' },
    ]);
    ctx.out.table(
      [
        { header: 'listener', value: (x: Row) => x.listener },
        { header: 'rule', value: (x) => x.rule },
        { header: 'action', value: (x) => x.action },
      ],
      rows,
      { policies: r.policies.map((p) => ({ listener: p.listener, defaultAction: ACTION[p.defaultAction], rules: p.rules.map((x) => ({ method: x.method, service: x.service, action: ACTION[x.action] })) })) },
    );
  },
};

const stats: Command = {
  summary: 'per-method calls by gRPC status, message bytes and latency',
  args: '[listener]',
  async run(ctx) {
    const r = await withDaemon('sidecar-offload', SidecarClient, ctx, (c) => c.getStats(sidecarV1.GetStatsRequest.create({ listener: listenerArg(ctx) })));
    ctx.out.table(
      [
        { header: 'listener', value: (m: sidecarV1.MethodStats) => m.listener },
        { header: 'method', value: (m) => m.method },
        { header: 'calls', value: (m) => m.calls, align: 'right' },
        { header: 'statuses', value: (m) => m.statuses.map((s) => `${s.name}=${s.calls}`).join(' ') },
        { header: 'req bytes', value: (m) => m.requestBytes, align: 'right' },
        { header: 'resp bytes', value: (m) => m.responseBytes, align: 'right' },
        { header: 'p50 ms', value: (m) => ms(m.latencyP50Ms), align: 'right' },
        { header: 'p99 ms', value: (m) => ms(m.latencyP99Ms), align: 'right' },
      ],
      r.methods,
      r,
    );
  },
};

const connections: Command = {
  summary: 'client connections, their streams, and whether the kernel path carries them',
  args: '[listener]',
  async run(ctx) {
    const r = await withDaemon('sidecar-offload', SidecarClient, ctx, (c) => c.listConnections(sidecarV1.ListConnectionsRequest.create({ listener: listenerArg(ctx) })));
    ctx.out.table(
      [
        { header: 'id', value: (c: sidecarV1.Connection) => c.id, align: 'right' },
        { header: 'listener', value: (c) => c.listener },
        { header: 'remote', value: (c) => c.remote },
        { header: 'active', value: (c) => c.activeStreams, align: 'right' },
        { header: 'streams', value: (c) => c.streams, align: 'right' },
        { header: 'offloaded', value: (c) => (c.offloaded ? 'yes' : `no: ${c.notOffloadedReason}`) },
      ],
      r.connections,
      r,
    );
  },
};

export const sidecar: CommandGroup = {
  name: 'sidecar',
  summary: 'the gRPC sidecar: routes, policies, per-method stats, connections',
  daemon: 'sidecar-offload',
  commands: { routes, policies, stats, connections },
};
