/**
 * The BGP speaker: the configured peers (one FSM each), the local RIB (routes from the
 * configuration and the API), an Adj-RIB-Out per established session and the Adj-RIB-In of
 * what peers send. Incoming connections are handed to the peer of their source address.
 * Everything that happens is told to `SpeakerEvents` (metrics, the WatchPeers stream, BFD).
 */
import { EventEmitter } from 'node:events';
import type { NetaccelError } from '@netaccel/errors';
import { bgp } from '@netaccel/protocol';
import { NA_ERR_BGPD_NO_PEER_FOR_FAMILY } from './errors.js';
import type { Logger } from '@netaccel/telemetry';
import type { BgpState } from './fsm.js';
import { Peer } from './fsm.js';
import type { PeerSettings } from './peer-config.js';
import { AdjRibOut } from './rib-out.js';
import type { LocalRoute } from './routes.js';
import type { MessageKind, Session } from './session.js';
import type { Clock, Random } from './timers.js';
import type { BgpConnection, Dialer } from './transport.js';

export interface ReceivedRoute {
  readonly prefix: string;
  readonly pathId: number | undefined;
  readonly nextHop: string | undefined;
  readonly attrs: bgp.PathAttributes;
}

export interface PeerEntry {
  readonly peer: Peer;
  ribOut: AdjRibOut | undefined;
  readonly ribIn: Map<string, ReceivedRoute>;
  /** BFD state name when BFD runs for the peer (set by the BFD manager). */
  bfdState: 'admin-down' | 'down' | 'init' | 'up' | undefined;
}

export interface PeerChange {
  readonly address: string;
  readonly prev: BgpState;
  readonly next: BgpState;
  readonly reason: string;
}

export interface SpeakerEventMap {
  state: [PeerChange];
  message: [{ address: string; direction: 'in' | 'out'; kind: MessageKind }];
  established: [{ address: string; session: Session }];
  down: [{ address: string; reason: NetaccelError }];
  'peer-added': [{ address: string; settings: PeerSettings }];
  'peer-removed': [{ address: string }];
  bfd: [{ address: string; prev: string; next: string; reason: string }];
}

export interface SpeakerDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly dialer: Dialer;
  readonly log: Logger;
}

/** Strips the IPv4-mapped prefix a dual-stack listener reports. */
export function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export class Speaker extends EventEmitter<SpeakerEventMap> {
  readonly peers = new Map<string, PeerEntry>();
  private readonly rib = new Map<string, LocalRoute>();
  private readonly pathIds = new Map<string, number>();
  private running = false;

  constructor(private readonly deps: SpeakerDeps) {
    super();
  }

  /** Routes this node announces. */
  routes(): LocalRoute[] {
    return [...this.rib.values()];
  }

  /** How many routes this node announces (without copying them as `routes()` does). */
  get routeCount(): number {
    return this.rib.size;
  }

  addPeer(settings: PeerSettings): PeerEntry {
    const entry: PeerEntry = { peer: undefined as unknown as Peer, ribOut: undefined, ribIn: new Map(), bfdState: undefined };
    const peer = new Peer(settings, {
      clock: this.deps.clock,
      random: this.deps.random,
      dialer: this.deps.dialer,
      log: this.deps.log,
      handlers: {
        stateChanged: (_p, prev, next, reason) => this.emit('state', { address: settings.address, prev, next, reason }),
        established: (p, s) => this.established(entry, p, s),
        down: (p, _s, reason) => {
          entry.ribOut?.close();
          entry.ribOut = undefined;
          entry.ribIn.clear();
          this.emit('down', { address: p.address, reason });
        },
        update: (_p, _s, u) => this.received(entry, u),
        routeRefresh: (_p, _s, m) => entry.ribOut?.refresh(bgp.familyOf(m.afi, m.safi)),
        counted: (p, direction, kind) => this.emit('message', { address: p.address, direction, kind }),
      },
    });
    (entry as { peer: Peer }).peer = peer;
    this.peers.set(settings.address, entry);
    this.emit('peer-added', { address: settings.address, settings });
    if (this.running) peer.start();
    return entry;
  }

  removePeer(address: string, reason = 'peer deconfigured'): void {
    const e = this.peers.get(address);
    if (e === undefined) return;
    e.peer.stop(reason, bgp.CeaseSubcode.PeerDeconfigured);
    this.peers.delete(address);
    this.emit('peer-removed', { address });
  }

  start(): void {
    this.running = true;
    for (const e of this.peers.values()) e.peer.start();
  }

  /** Stops every peer: Cease / Administrative Shutdown, or (graceful restart) closes without NOTIFICATION. */
  stop(reason = 'bgp-announcer shutting down', graceful = false): void {
    this.running = false;
    for (const e of this.peers.values()) {
      if (graceful) e.peer.abandon(reason);
      else e.peer.stop(reason);
    }
  }

  /** An incoming TCP connection: handed to the peer of its source address, or refused. */
  accept(conn: BgpConnection): boolean {
    const e = this.peers.get(plainAddress(conn.remoteAddress));
    if (e === undefined) {
      this.deps.log.info({ remote: conn.remoteAddress }, 'connection from an address that is not a peer: refused');
      conn.destroy();
      return false;
    }
    return e.peer.accept(conn);
  }

  private viewOf(peer: Peer, s: Session): AdjRibOut {
    return new AdjRibOut(s, {
      clock: this.deps.clock,
      view: { ctx: s.ctx, localAs: peer.settings.localAs, localAddress: plainAddress(s.conn.localAddress), nextHop: peer.settings.nextHop },
      updateRate: peer.settings.updateRate,
      updateBurst: peer.settings.updateBurst,
      pathIdOf: (nh) => this.pathIdOf(nh),
      onWarn: (obj, msg) => this.deps.log.warn({ peer: peer.address, ...obj }, msg),
    });
  }

  private pathIdOf(nextHop: string): number {
    let id = this.pathIds.get(nextHop);
    if (id === undefined) {
      id = this.pathIds.size + 1;
      this.pathIds.set(nextHop, id);
    }
    return id;
  }

  private established(entry: PeerEntry, peer: Peer, s: Session): void {
    entry.ribOut?.close();
    const out = this.viewOf(peer, s);
    entry.ribOut = out;
    out.sync(this.rib.values());
    out.endOfRib();
    this.emit('established', { address: peer.address, session: s });
  }

  private received(entry: PeerEntry, u: bgp.UpdateDecodeResult): void {
    if (u.kind === 'treat-as-withdraw') {
      this.deps.log.warn({ peer: entry.peer.address, err: u.reason }, 'UPDATE treated as withdraw (RFC 7606)');
      for (const n of u.withdrawn) entry.ribIn.delete(`${n.prefix}#${n.pathId ?? ''}`);
      return;
    }
    if (u.kind === 'ok-with-discards') this.deps.log.info({ peer: entry.peer.address, discarded: u.discarded.map((d) => d.message) }, 'UPDATE attributes discarded (RFC 7606)');
    const m = u.update;
    for (const n of [...m.withdrawn, ...(m.mpUnreach?.withdrawn ?? [])]) entry.ribIn.delete(`${n.prefix}#${n.pathId ?? ''}`);
    for (const n of m.nlri) entry.ribIn.set(`${n.prefix}#${n.pathId ?? ''}`, { prefix: n.prefix, pathId: n.pathId, nextHop: m.attributes.nextHop, attrs: m.attributes });
    if (m.mpReach !== undefined) {
      for (const n of m.mpReach.nlri) entry.ribIn.set(`${n.prefix}#${n.pathId ?? ''}`, { prefix: n.prefix, pathId: n.pathId, nextHop: m.mpReach.nextHop, attrs: m.attributes });
    }
  }

  private familyPeers(family: bgp.Family): PeerEntry[] {
    return [...this.peers.values()].filter((e) => e.peer.settings.families.includes(family));
  }

  /** Announces (or replaces) a route; answers the established peers it went to. */
  /** Sends a KEEPALIVE on every established session (before a long synchronous task). */
  keepaliveAll(): number {
    let n = 0;
    for (const e of this.peers.values()) {
      const s = e.peer.established;
      if (s !== undefined) {
        s.sendKeepalive();
        n++;
      }
    }
    return n;
  }

  announce(route: LocalRoute): number {
    if (this.familyPeers(route.family).length === 0) throw NA_ERR_BGPD_NO_PEER_FOR_FAMILY(route.family, route.prefix);
    const old = this.rib.get(route.prefix);
    this.rib.set(route.prefix, route);
    return this.propagate(route, old);
  }

  /** Withdraws a route; answers whether it was announced and to how many established peers. */
  withdraw(prefix: string): { wasAnnounced: boolean; peers: number } {
    const old = this.rib.get(prefix);
    if (old === undefined) return { wasAnnounced: false, peers: 0 };
    this.rib.delete(prefix);
    return { wasAnnounced: true, peers: this.propagate(undefined, old) };
  }

  /** Replaces every route of a source (configuration reload). */
  replaceSource(source: LocalRoute['source'], routes: readonly LocalRoute[]): void {
    for (const [k, r] of this.rib) if (r.source === source) this.rib.delete(k);
    for (const r of routes) if (!this.rib.has(r.prefix) || this.rib.get(r.prefix)?.source === source) this.rib.set(r.prefix, r);
    for (const e of this.peers.values()) e.ribOut?.sync(this.rib.values());
  }

  private propagate(route: LocalRoute | undefined, old: LocalRoute | undefined): number {
    let n = 0;
    const family = (route ?? old)!.family;
    for (const e of this.peers.values()) {
      if (e.ribOut === undefined) continue;
      e.ribOut.changed(route, old);
      if (e.peer.established?.ctx.families.includes(family) === true) n++;
    }
    return n;
  }
}
