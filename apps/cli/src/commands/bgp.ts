/**
 * `netaccel bgp peers | routes | announce | withdraw`: the bgp-announcer's Announcer service
 * (libs/rpc/proto/netaccel/announcer/v1), like `gobgp neighbor` / `gobgp global rib`.
 */
import { AnnouncerClient, announcerV1 } from '@netaccel/rpc';
import type { Command, CommandContext, CommandGroup } from '../command.js';
import { withDaemon } from '../daemons.js';
import { NA_ERR_CLI_USAGE } from '../errors.js';

const STATE: Readonly<Record<number, string>> = { 1: 'idle', 2: 'connect', 3: 'active', 4: 'open-sent', 5: 'open-confirm', 6: 'established' };
const BFD: Readonly<Record<number, string>> = { 1: 'admin-down', 2: 'down', 3: 'init', 4: 'up' };

function uptime(s: number): string {
  if (s === 0) return '';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

function communities(r: announcerV1.Route): string {
  return [...r.communities.map((c) => `${c.asn}:${c.value}`), ...r.largeCommunities.map((c) => `${c.globalAdmin}:${c.localData1}:${c.localData2}`)].join(' ');
}

function optString(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function uint(ctx: CommandContext, name: string): number | undefined {
  const v = optString(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw NA_ERR_CLI_USAGE(`--${name}: expected an integer 0..4294967295, got ${JSON.stringify(v)}`);
  return Number(v);
}

function list(ctx: CommandContext, name: string): string[] {
  const v = ctx.values[name];
  const all = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return all.filter((x): x is string => typeof x === 'string').flatMap((x) => x.split(',')).filter((x) => x !== '');
}

function prefixArg(ctx: CommandContext): string {
  const p = ctx.positionals[0];
  if (p === undefined) throw NA_ERR_CLI_USAGE('expected a prefix, like 192.0.2.10/32');
  return p;
}

const peers: Command = {
  summary: 'configured peers, session state, BFD and prefixes',
  async run(ctx) {
    const r = await withDaemon('bgp-announcer', AnnouncerClient, ctx, (c) => c.listPeers(announcerV1.ListPeersRequest.create()));
    ctx.out.table(
      [
        { header: 'peer', value: (p: announcerV1.Peer) => p.address },
        { header: 'as', value: (p) => p.asn, align: 'right' },
        { header: 'state', value: (p) => STATE[p.state] ?? 'unspecified' },
        { header: 'up', value: (p) => uptime(p.uptimeSeconds) },
        { header: 'hold', value: (p) => p.holdTimeSeconds || '', align: 'right' },
        { header: 'bfd', value: (p) => BFD[p.bfdState] ?? '' },
        { header: 'sent', value: (p) => p.prefixesSent, align: 'right' },
        { header: 'rcvd', value: (p) => p.prefixesReceived, align: 'right' },
        { header: 'last error', value: (p) => p.lastError },
      ],
      r.peers,
      { peers: r.peers.map((p) => ({ ...p, state: STATE[p.state] ?? 'unspecified', bfdState: BFD[p.bfdState] ?? null })) },
    );
  },
};

const routes: Command = {
  summary: 'routes announced, or sent to / received from one peer',
  options: {
    peer: { type: 'string', default: '', value: 'address', help: 'the routes sent to this peer (default: every route announced)' },
    received: { type: 'boolean', default: false, help: 'the routes received from --peer instead of those sent to it' },
  },
  async run(ctx) {
    const peer = optString(ctx, 'peer') ?? '';
    if (ctx.values.received === true && peer === '') throw NA_ERR_CLI_USAGE('--received needs --peer <address>');
    const r = await withDaemon('bgp-announcer', AnnouncerClient, ctx, (c) => c.listRoutes(announcerV1.ListRoutesRequest.create({ peer, received: ctx.values.received === true })));
    ctx.out.table(
      [
        { header: 'prefix', value: (x: announcerV1.Route) => x.prefix },
        { header: 'next hop', value: (x) => x.nextHop || 'self' },
        { header: 'med', value: (x) => x.med, align: 'right' },
        { header: 'local pref', value: (x) => x.localPref, align: 'right' },
        { header: 'communities', value: (x) => communities(x) },
      ],
      r.routes,
      { routes: r.routes },
    );
  },
};

const announce: Command = {
  summary: 'announce a prefix (this node as next hop unless --next-hop)',
  args: '<prefix>',
  options: {
    'next-hop': { type: 'string', value: 'address', help: 'the next hop, an IPv4 or IPv6 address (default: this node)' },
    med: { type: 'string', value: 'n', help: 'MULTI_EXIT_DISC, an integer 0..4294967295 (default: none)' },
    'local-pref': { type: 'string', value: 'n', help: 'LOCAL_PREF for iBGP peers, an integer 0..4294967295 (default: none)' },
    community: { type: 'string', multiple: true, value: 'asn:value', help: 'a community, ASN:VALUE; several joined by commas' },
    'large-community': { type: 'string', multiple: true, value: 'global:local1:local2', help: 'a large community, GLOBAL:LOCAL1:LOCAL2; several joined by commas' },
  },
  async run(ctx) {
    const route = announcerV1.Route.create({
      prefix: prefixArg(ctx),
      nextHop: optString(ctx, 'next-hop') ?? '',
      med: uint(ctx, 'med'),
      localPref: uint(ctx, 'local-pref'),
      communities: list(ctx, 'community').map((c) => {
        const m = /^(\d+):(\d+)$/.exec(c);
        if (m === null) throw NA_ERR_CLI_USAGE(`--community: expected ASN:VALUE, got ${JSON.stringify(c)}`);
        return { asn: Number(m[1]), value: Number(m[2]) };
      }),
      largeCommunities: list(ctx, 'large-community').map((c) => {
        const m = /^(\d+):(\d+):(\d+)$/.exec(c);
        if (m === null) throw NA_ERR_CLI_USAGE(`--large-community: expected GLOBAL:LOCAL1:LOCAL2, got ${JSON.stringify(c)}`);
        return { globalAdmin: Number(m[1]), localData1: Number(m[2]), localData2: Number(m[3]) };
      }),
    });
    const r = await withDaemon('bgp-announcer', AnnouncerClient, ctx, (c) => c.announce(announcerV1.AnnounceRequest.create({ route })));
    ctx.out.result(`announced ${route.prefix} to ${r.peers} established peer(s)`, { prefix: route.prefix, peers: r.peers });
  },
};

const withdraw: Command = {
  summary: 'withdraw a prefix from every peer',
  args: '<prefix>',
  async run(ctx) {
    const prefix = prefixArg(ctx);
    const r = await withDaemon('bgp-announcer', AnnouncerClient, ctx, (c) => c.withdraw(announcerV1.WithdrawRequest.create({ prefix })));
    ctx.out.result(r.wasAnnounced ? `withdrew ${prefix} from ${r.peers} established peer(s)` : `${prefix} was not announced`, { prefix, ...r });
  },
};

export const bgp: CommandGroup = {
  name: 'bgp',
  summary: 'the BGP announcer: peers, routes, announce, withdraw',
  daemon: 'bgp-announcer',
  commands: { peers, routes, announce, withdraw },
};
