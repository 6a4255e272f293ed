/**
 * The Announcer gRPC service (libs/rpc/proto/netaccel/announcer/v1): Announce / Withdraw,
 * ListPeers, ListRoutes and the WatchPeers stream, on top of the Speaker.
 */
import type { AnnouncerService, ServiceHandlers } from '@netaccel/rpc';
import { StreamQueue, announcerV1 } from '@netaccel/rpc';
import { canonicalIp } from '@netaccel/protocol';
import type { Logger } from '@netaccel/telemetry';
import { NA_ERR_BGPD_INVALID_ROUTE, NA_ERR_BGPD_PEER_NOT_FOUND } from './errors.js';
import type { BgpState } from './fsm.js';
import { parseRoute, routeOutput } from './routes.js';
import type { PeerEntry, Speaker } from './speaker.js';
import type { Clock } from './timers.js';

const PEER_STATE: Readonly<Record<BgpState, announcerV1.PeerState>> = {
  idle: announcerV1.PeerState.PEER_STATE_IDLE,
  connect: announcerV1.PeerState.PEER_STATE_CONNECT,
  active: announcerV1.PeerState.PEER_STATE_ACTIVE,
  'open-sent': announcerV1.PeerState.PEER_STATE_OPEN_SENT,
  'open-confirm': announcerV1.PeerState.PEER_STATE_OPEN_CONFIRM,
  established: announcerV1.PeerState.PEER_STATE_ESTABLISHED,
};

const BFD_STATE: Readonly<Record<string, announcerV1.BfdState>> = {
  'admin-down': announcerV1.BfdState.BFD_STATE_ADMIN_DOWN,
  down: announcerV1.BfdState.BFD_STATE_DOWN,
  init: announcerV1.BfdState.BFD_STATE_INIT,
  up: announcerV1.BfdState.BFD_STATE_UP,
};

export function bfdStateOf(e: PeerEntry): announcerV1.BfdState {
  return e.bfdState === undefined ? announcerV1.BfdState.BFD_STATE_UNSPECIFIED : (BFD_STATE[e.bfdState] ?? announcerV1.BfdState.BFD_STATE_UNSPECIFIED);
}

export function peerMessage(e: PeerEntry, clock: Clock): announcerV1.Peer {
  const p = e.peer;
  const est = p.established;
  return announcerV1.Peer.create({
    address: p.address,
    asn: p.settings.remoteAs,
    localAsn: p.settings.localAs,
    state: PEER_STATE[p.state],
    uptimeSeconds: est?.establishedAt === undefined ? 0 : Math.floor((clock.now() - est.establishedAt) / 1000),
    prefixesSent: e.ribOut?.size ?? 0,
    prefixesReceived: e.ribIn.size,
    bfdState: bfdStateOf(e),
    holdTimeSeconds: est?.holdTime ?? 0,
    lastError: p.lastError?.message ?? '',
    description: p.settings.description,
  });
}

function lookup(speaker: Speaker, address: string): PeerEntry {
  let key = address;
  try {
    key = canonicalIp(address);
  } catch {
    throw NA_ERR_BGPD_PEER_NOT_FOUND(JSON.stringify(address));
  }
  const e = speaker.peers.get(key);
  if (e === undefined) throw NA_ERR_BGPD_PEER_NOT_FOUND(key);
  return e;
}

export function announcerHandlers(speaker: Speaker, clock: Clock, log?: Logger): ServiceHandlers<typeof AnnouncerService> {
  return {
    announce: (req) => {
      const requestedAt = Date.now();
      if (req.route === undefined) throw NA_ERR_BGPD_INVALID_ROUTE('route: is required');
      const r = req.route;
      const route = parseRoute(
        { prefix: r.prefix, nextHop: r.nextHop, med: r.med, localPref: r.localPref, communities: r.communities, largeCommunities: r.largeCommunities },
        'api',
      );
      const peers = speaker.announce(route);
      log?.info({ prefix: route.prefix, nextHop: route.nextHop ?? 'self', peers, requestedAt }, 'route announced');
      return announcerV1.AnnounceResponse.create({ peers });
    },
    withdraw: (req) => {
      let prefix = req.prefix;
      try {
        prefix = parseRoute({ prefix: req.prefix }, 'api', 'withdraw').prefix;
      } catch (err) {
        throw NA_ERR_BGPD_INVALID_ROUTE.with({ cause: err }, `prefix: expected a prefix, got ${JSON.stringify(req.prefix)}`);
      }
      const r = speaker.withdraw(prefix);
      log?.info({ prefix, ...r }, 'route withdrawn');
      return announcerV1.WithdrawResponse.create(r);
    },
    listPeers: () => announcerV1.ListPeersResponse.create({ peers: [...speaker.peers.values()].map((e) => peerMessage(e, clock)) }),
    listRoutes: (req) => {
      if (req.peer === '') return announcerV1.ListRoutesResponse.create({ routes: speaker.routes().map((r) => announcerV1.Route.create(routeOutput(r))) });
      const e = lookup(speaker, req.peer);
      const routes = req.received
        ? [...e.ribIn.values()].map((r) =>
            routeOutput({ prefix: r.prefix, nextHop: r.nextHop, med: r.attrs.med, localPref: r.attrs.localPref, communities: r.attrs.communities ?? [], largeCommunities: r.attrs.largeCommunities ?? [] }),
          )
        : (e.ribOut?.routes() ?? []).map((r) =>
            routeOutput({ prefix: r.prefix, nextHop: r.nextHop, med: r.attrs.med, localPref: r.attrs.localPref, communities: r.attrs.communities ?? [], largeCommunities: r.attrs.largeCommunities ?? [] }),
          );
      return announcerV1.ListRoutesResponse.create({ routes: routes.map((r) => announcerV1.Route.create(r)) });
    },
    watchPeers: (req, ctx) => {
      const bfdPrev = new Map<string, announcerV1.BfdState>();
      const onState = (c: { address: string; prev: BgpState; reason: string }): void => {
        const e = speaker.peers.get(c.address);
        if (e === undefined) return;
        const bfd = bfdStateOf(e);
        q.push(
          announcerV1.PeerEvent.create({
            peer: peerMessage(e, clock),
            previousState: PEER_STATE[c.prev],
            previousBfdState: bfdPrev.get(c.address) ?? bfd,
            at: new Date(),
            reason: c.reason,
          }),
        );
        bfdPrev.set(c.address, bfd);
      };
      const onBfd = (c: { address: string; prev: string; reason: string }): void => {
        const e = speaker.peers.get(c.address);
        if (e === undefined) return;
        q.push(
          announcerV1.PeerEvent.create({
            peer: peerMessage(e, clock),
            previousState: PEER_STATE[e.peer.state],
            previousBfdState: BFD_STATE[c.prev] ?? announcerV1.BfdState.BFD_STATE_UNSPECIFIED,
            at: new Date(),
            reason: c.reason,
          }),
        );
        bfdPrev.set(c.address, bfdStateOf(e));
      };
      const q = new StreamQueue<announcerV1.PeerEvent>({
        signal: ctx.signal,
        onClose: () => {
          speaker.off('state', onState);
          speaker.off('bfd', onBfd);
        },
      });
      if (req.initial) {
        for (const e of speaker.peers.values()) {
          q.push(announcerV1.PeerEvent.create({ peer: peerMessage(e, clock), previousState: announcerV1.PeerState.PEER_STATE_UNSPECIFIED, at: new Date(), reason: 'initial' }));
          bfdPrev.set(e.peer.address, bfdStateOf(e));
        }
      }
      speaker.on('state', onState);
      speaker.on('bfd', onBfd);
      return q;
    },
  };
}
