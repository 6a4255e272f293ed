/**
 * `netaccel lb …`: lb-controller's Balancer service — services, backends, stats, drain.
 */
import { ipFamily } from '@netaccel/protocol';
import { BalancerClient, balancerV1 } from '@netaccel/rpc';
import type { CommandGroup } from '../command.js';
import { withDaemon } from '../daemons.js';
import { NA_ERR_CLI_USAGE } from '../errors.js';

// Enums by the names the services file uses (--json prints these, never the numbers).
const MODES: Readonly<Record<number, string>> = { 1: 'l2dsr', 2: 'ipip', 3: 'gue', 4: 'nat' };
const PROTOCOLS: Readonly<Record<number, string>> = { 1: 'tcp', 2: 'udp' };
const SCHEDULERS: Readonly<Record<number, string>> = { 1: 'maglev' };
const HEALTH: Readonly<Record<number, string>> = { 0: 'unchecked', 1: 'healthy', 2: 'unhealthy', 3: 'not checked' };

/** A service as --json prints it: enums as their names. */
export function serviceJson(s: balancerV1.Service): Record<string, unknown> {
  return { ...s, protocol: PROTOCOLS[s.protocol] ?? 'unspecified', mode: MODES[s.mode] ?? 'unspecified', scheduler: SCHEDULERS[s.scheduler] ?? 'unspecified' };
}

/** The port a backend receives on: its own (NAT), else the service's (from the id `<vip>:<port>/<protocol>`). */
export function backendPort(b: balancerV1.Backend): number | undefined {
  if (b.port !== 0) return b.port;
  const m = /:(\d+)\/[a-z]+$/.exec(b.serviceId);
  return m === null ? undefined : Number(m[1]);
}

/** A backend as --json prints it: health as its name, the port it receives on, `samePortAsService` when it is the service's. */
export function backendJson(b: balancerV1.Backend): Record<string, unknown> {
  return { ...b, port: backendPort(b) ?? 0, samePortAsService: b.port === 0, health: HEALTH[b.health] ?? 'unspecified' };
}

export const lbGroup: CommandGroup = {
  name: 'lb',
  summary: 'the XDP load balancer (lb-controller): services, backends, counters, drain',
  daemon: 'lb-controller',
  commands: {
    services: {
      summary: 'list the virtual services',
      async run(ctx) {
        const r = await withDaemon('lb-controller', BalancerClient, ctx, (c) => c.listServices(balancerV1.ListServicesRequest.create()));
        ctx.out.table(
          [
            { header: 'service', value: (s: balancerV1.Service) => s.id },
            { header: 'name', value: (s) => s.name },
            { header: 'mode', value: (s) => MODES[s.mode] ?? String(s.mode) },
            { header: 'table', value: (s) => s.tableSize, align: 'right' },
            { header: 'backends', value: (s) => `${s.backendsHealthy}/${s.backendsTotal}`, align: 'right' },
            { header: 'flags', value: (s) => [s.flags?.hashSourceIpOnly ? 'sh' : '', s.flags?.announce ? 'announce' : ''].filter(Boolean).join(',') },
            { header: 'announced', value: (s) => (s.announced ? 'yes' : 'no') },
          ],
          r.services,
          { services: r.services.map(serviceJson), ...(r.lastRefused === undefined ? {} : { lastRefused: r.lastRefused }) },
        );
        const refused = r.lastRefused;
        if (refused !== undefined && !ctx.out.json) {
          ctx.out.result(`\nrefused: the last desired state from ${refused.origin} (${refused.at?.toISOString() ?? 'unknown time'}) was refused; these services are the state before it [${refused.code}]\n  ${refused.error.split('\n').join('\n  ')}`, null);
        }
      },
    },
    backends: {
      summary: 'list backends with weight, health and drain state',
      args: '[service-id]',
      async run(ctx) {
        const serviceId = ctx.positionals[0] ?? '';
        const r = await withDaemon('lb-controller', BalancerClient, ctx, (c) => c.listBackends(balancerV1.ListBackendsRequest.create({ serviceId })));
        ctx.out.table(
          [
            { header: 'service', value: (b: balancerV1.Backend) => b.serviceId },
            { header: 'address', value: (b) => b.address },
            { header: 'port', value: (b) => backendPort(b), align: 'right' },
            { header: 'weight', value: (b) => b.weight, align: 'right' },
            { header: 'health', value: (b) => HEALTH[b.health] ?? String(b.health) },
            { header: 'draining', value: (b) => (b.draining ? 'yes' : 'no') },
            { header: 'last error', value: (b) => b.lastCheckError },
          ],
          r.backends,
          { backends: r.backends.map(backendJson) },
        );
      },
    },
    stats: {
      summary: 'packets, bytes and new flows per service and backend; drops by reason',
      args: '[service-id]',
      async run(ctx) {
        const serviceId = ctx.positionals[0] ?? '';
        const r = await withDaemon('lb-controller', BalancerClient, ctx, (c) => c.getStats(balancerV1.GetStatsRequest.create({ serviceId })));
        type Row = { what: string; packets: bigint; bytes: bigint; newFlows: bigint };
        const rows: Row[] = [];
        for (const v of r.vips) {
          rows.push({ what: v.serviceId, packets: v.counters?.packets ?? 0n, bytes: v.counters?.bytes ?? 0n, newFlows: v.counters?.newFlows ?? 0n });
          for (const b of v.backends) rows.push({ what: `  ${b.address}${b.port ? `:${b.port}` : ''}`, packets: b.counters?.packets ?? 0n, bytes: b.counters?.bytes ?? 0n, newFlows: b.counters?.newFlows ?? 0n });
        }
        const drops = r.vips[0]?.counters?.drops ?? [];
        for (const d of drops) rows.push({ what: `drop ${d.reason}`, packets: d.packets, bytes: 0n, newFlows: 0n });
        ctx.out.table(
          [
            { header: 'service / backend', value: (x: Row) => x.what },
            { header: 'packets', value: (x) => x.packets, align: 'right' },
            { header: 'bytes', value: (x) => x.bytes, align: 'right' },
            { header: 'new flows', value: (x) => x.newFlows, align: 'right' },
          ],
          rows,
          r,
        );
      },
    },
    drain: {
      summary: 'drain a backend (no new flows; established ones stay), or --cancel',
      args: '<backend-address>',
      options: {
        service: { type: 'string', value: 'service-id', help: 'only in this service, <vip>:<port>/<protocol> as `lb services` lists it (default: every service the backend is in)' },
        cancel: { type: 'boolean', default: false, help: 'undrain: the backend takes new flows again' },
      },
      async run(ctx) {
        const address = ctx.positionals[0];
        if (address === undefined || ipFamily(address) === undefined) throw NA_ERR_CLI_USAGE(`<backend-address>: expected an IPv4 or IPv6 address, got ${JSON.stringify(address ?? '')}`);
        const serviceId = typeof ctx.values.service === 'string' ? ctx.values.service : '';
        const cancel = ctx.values.cancel === true;
        const r = await withDaemon('lb-controller', BalancerClient, ctx, (c) => c.drain(balancerV1.DrainRequest.create({ address, serviceId, cancel })));
        ctx.out.result(`${cancel ? 'undrained' : 'draining'} ${address}: ${r.changed} backend${r.changed === 1 ? '' : 's'} changed`, r);
      },
    },
  },
};
