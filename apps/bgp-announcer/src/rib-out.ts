/**
 * Adj-RIB-Out of one established session: what we told the peer, the changes still to send
 * (coalesced: only the latest state of a prefix is sent), and the pacing of UPDATE messages by a
 * token bucket. The initial table ends with End-of-RIB for every negotiated family (RFC 4724);
 * a ROUTE-REFRESH resends the family's whole Adj-RIB-Out (RFC 2918). With add-path negotiated
 * for sending, each next hop gets its own path identifier (RFC 7911).
 */
import { bgp } from '@netaccel/protocol';
import { TokenBucket } from './rate-limit.js';
import type { LocalRoute, SessionView } from './routes.js';
import { attributesFor, nextHopFor } from './routes.js';
import type { Session } from './session.js';
import type { Clock } from './timers.js';
import { Timer } from './timers.js';

export interface SentRoute {
  readonly prefix: string;
  readonly pathId: number | undefined;
  readonly nextHop: string;
  readonly attrs: bgp.RouteAttributes;
  /** Encoded identity, to tell whether a route changed. */
  readonly signature: string;
}

/**
 * What a route becomes on this session apart from its prefix: next hop, path attributes, path
 * identifier. Shared by every prefix announced the same way (routes without their own next hop,
 * MED, LOCAL_PREF or communities: one per family), so the Adj-RIB-Out holds one map entry per
 * prefix, keyed by the route's own prefix string, and no object of its own.
 */
interface PathSet {
  readonly family: bgp.Family;
  readonly nextHop: string;
  readonly attrs: bgp.RouteAttributes;
  readonly pathId: number | undefined;
  /** Encoded identity, to tell whether a route changed. */
  readonly signature: string;
}

/** A pending withdrawal (the prefix and path identifier are in the key). */
const WITHDRAW = null;

/** Path sets of routes with attributes of their own, shared while this many are known. */
const MAX_INTERNED = 4096;

export interface RibOutOptions {
  readonly clock: Clock;
  readonly view: SessionView;
  readonly updateRate: number;
  readonly updateBurst: number;
  /** Path identifier of a next hop (stable across sessions). */
  readonly pathIdOf: (nextHop: string) => number;
  readonly onWarn?: (obj: object, msg: string) => void;
}

/** The map key of a prefix and path identifier: the prefix itself without add-path. */
function keyOf(prefix: string, pathId: number | undefined): string {
  return pathId === undefined ? prefix : `${prefix}#${pathId}`;
}

function prefixOf(key: string): string {
  const hash = key.indexOf('#');
  return hash < 0 ? key : key.slice(0, hash);
}

/** A route with nothing of its own but its prefix (the next hop is the session's). */
function isPlain(r: LocalRoute): boolean {
  return r.nextHop === undefined && r.med === undefined && r.localPref === undefined && r.communities.length === 0 && r.largeCommunities.length === 0;
}

export class AdjRibOut {
  /** What the peer has (or will have once the queue drains): key → path set. */
  private readonly sent = new Map<string, PathSet>();
  /** Changes not yet built into UPDATEs, in the order they came; WITHDRAW for a withdrawal. */
  private readonly pending = new Map<string, PathSet | typeof WITHDRAW>();
  private readonly queue: { buf: Buffer }[] = [];
  private readonly bucket: TokenBucket;
  private readonly drainTimer: Timer;
  private closed = false;
  private warnedNoNextHop = new Set<string>();
  /** The path set of plain routes per family (null: the family is not sent on this session). */
  private readonly plain = new Map<bgp.Family, PathSet | null>();
  /** Path sets of routes with attributes of their own, by signature and path identifier. */
  private readonly interned = new Map<string, PathSet>();
  /** UPDATE messages written, End-of-RIB included. */
  updatesSent = 0;

  constructor(
    private readonly session: Session,
    private readonly opts: RibOutOptions,
  ) {
    this.bucket = new TokenBucket(opts.clock, opts.updateRate, opts.updateBurst);
    this.drainTimer = new Timer(opts.clock, () => this.drain());
  }

  /** Prefixes in the Adj-RIB-Out (what the peer has or will have once the queue drains). */
  get size(): number {
    return this.sent.size;
  }

  /** Messages built but waiting for tokens, and changes not yet built. */
  get backlog(): number {
    return this.queue.length + this.pending.size;
  }

  routes(): SentRoute[] {
    return [...this.sent].map(([k, d]) => ({ prefix: prefixOf(k), pathId: d.pathId, nextHop: d.nextHop, attrs: d.attrs, signature: d.signature }));
  }

  private desired(route: LocalRoute): PathSet | undefined {
    if (!isPlain(route)) return this.pathSet(route);
    let d = this.plain.get(route.family);
    if (d === undefined) {
      d = this.pathSet(route) ?? null; // the same for every plain route of the family: the session's
      this.plain.set(route.family, d);
    }
    return d ?? undefined;
  }

  private pathSet(route: LocalRoute): PathSet | undefined {
    const view = this.opts.view;
    if (!view.ctx.families.includes(route.family)) return undefined;
    const nextHop = nextHopFor(route, view);
    if (nextHop === undefined) {
      if (!this.warnedNoNextHop.has(route.family)) {
        this.warnedNoNextHop.add(route.family);
        this.opts.onWarn?.({ prefix: route.prefix, family: route.family }, 'no next hop of the family on this session (set bgp.nextHop): route not sent');
      }
      return undefined;
    }
    const attrs = attributesFor(route, view);
    const pathId = bgp.addPathOn(view.ctx, route.family, 'send') ? this.opts.pathIdOf(nextHop) : undefined;
    const signature = JSON.stringify([nextHop, attrs]);
    const k = `${pathId ?? ''}|${signature}`;
    const known = this.interned.get(k);
    if (known !== undefined) return known;
    if (this.interned.size >= MAX_INTERNED) this.interned.clear(); // sharing saves memory; identity is the signature
    const d: PathSet = { family: route.family, nextHop, attrs, pathId, signature };
    this.interned.set(k, d);
    return d;
  }

  /** Makes the Adj-RIB-Out follow `routes` (the whole local RIB) and sends the difference. */
  sync(routes: Iterable<LocalRoute>): void {
    const wanted = new Set<string>();
    for (const r of routes) {
      const d = this.desired(r);
      if (d === undefined) continue;
      const k = keyOf(r.prefix, d.pathId);
      wanted.add(k);
      const have = this.sent.get(k);
      if (have === undefined || (have !== d && have.signature !== d.signature)) this.set(k, d);
    }
    for (const k of this.sent.keys()) if (!wanted.has(k)) this.remove(k);
    this.drain();
  }

  /** One route changed (announced, replaced); `old` is the route it replaces, if any. */
  changed(route: LocalRoute | undefined, old: LocalRoute | undefined): void {
    const d = route === undefined ? undefined : this.desired(route);
    const dk = d === undefined || route === undefined ? undefined : keyOf(route.prefix, d.pathId);
    if (old !== undefined) {
      if (this.sent.has(old.prefix)) {
        if (old.prefix !== dk) this.remove(old.prefix);
      } else {
        for (const k of [...this.sent.keys()]) if (k !== dk && prefixOf(k) === old.prefix) this.remove(k);
      }
    }
    if (d !== undefined && dk !== undefined) {
      const have = this.sent.get(dk);
      if (have === undefined || (have !== d && have.signature !== d.signature)) this.set(dk, d);
    }
    this.drain();
  }

  private set(k: string, d: PathSet): void {
    this.sent.set(k, d);
    this.pending.set(k, d);
  }

  private remove(k: string): void {
    this.sent.delete(k);
    this.pending.set(k, WITHDRAW);
  }

  /** Queues End-of-RIB markers for the session's families (after what is pending). */
  endOfRib(): void {
    this.build();
    for (const f of this.opts.view.ctx.families) this.queue.push({ buf: bgp.encodeMessage(bgp.endOfRib(f), this.session.ctx) });
    this.drain();
  }

  /** ROUTE-REFRESH: resend every route of the family. */
  refresh(family: bgp.Family | undefined): void {
    for (const [k, d] of this.sent) if (family === undefined || d.family === family) this.pending.set(k, d);
    this.drain();
  }

  close(): void {
    this.closed = true;
    this.drainTimer.stop();
    this.queue.length = 0;
    this.pending.clear();
  }

  /**
   * Turns pending changes into encoded UPDATEs, as few as the codec can pack: withdrawals first,
   * then announcements by path set, built as the changes are read (no object per prefix).
   */
  private build(): void {
    if (this.pending.size === 0) return;
    const packer = new bgp.UpdatePacker(this.session.ctx);
    const packed = new Map<PathSet, bgp.PackedAttributes>();
    for (const [k, c] of this.pending) {
      const prefix = prefixOf(k);
      if (c === WITHDRAW) {
        packer.withdraw(prefix, k.length === prefix.length ? undefined : Number(k.slice(prefix.length + 1)));
        continue;
      }
      let attrs = packed.get(c);
      if (attrs === undefined) {
        attrs = packer.attributes(c.family, c.nextHop, c.attrs);
        packed.set(c, attrs);
      }
      packer.announce(attrs, prefix, c.pathId);
    }
    this.pending.clear();
    for (const buf of packer.finish()) this.queue.push({ buf });
  }

  /** Sends queued UPDATEs while tokens last; builds from pending changes when the queue is empty. */
  private drain(): void {
    if (this.closed || this.session.closing) return;
    for (;;) {
      if (this.queue.length === 0) this.build();
      const next = this.queue[0];
      if (next === undefined) return;
      if (!this.bucket.take()) {
        if (!this.drainTimer.running) this.drainTimer.start(Math.max(1, this.bucket.waitMs()));
        return;
      }
      this.queue.shift();
      this.session.writeEncoded(next.buf, 'update');
      this.updatesSent++;
    }
  }
}
