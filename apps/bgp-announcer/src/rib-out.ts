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

type Change = { readonly kind: 'announce'; readonly route: SentRoute } | { readonly kind: 'withdraw'; readonly prefix: string; readonly pathId: number | undefined };

export interface RibOutOptions {
  readonly clock: Clock;
  readonly view: SessionView;
  readonly updateRate: number;
  readonly updateBurst: number;
  /** Path identifier of a next hop (stable across sessions). */
  readonly pathIdOf: (nextHop: string) => number;
  readonly onWarn?: (obj: object, msg: string) => void;
}

function keyOf(prefix: string, pathId: number | undefined): string {
  return pathId === undefined ? prefix : `${prefix}#${pathId}`;
}

export class AdjRibOut {
  private readonly sent = new Map<string, SentRoute>();
  private readonly pending = new Map<string, Change>();
  private readonly queue: { buf: Buffer }[] = [];
  private readonly bucket: TokenBucket;
  private readonly drainTimer: Timer;
  private closed = false;
  private warnedNoNextHop = new Set<string>();
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
    return [...this.sent.values()];
  }

  private desired(route: LocalRoute): SentRoute | undefined {
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
    return { prefix: route.prefix, pathId, nextHop, attrs, signature: JSON.stringify([nextHop, attrs]) };
  }

  /** Makes the Adj-RIB-Out follow `routes` (the whole local RIB) and sends the difference. */
  sync(routes: Iterable<LocalRoute>): void {
    const want = new Map<string, SentRoute>();
    for (const r of routes) {
      const d = this.desired(r);
      if (d !== undefined) want.set(keyOf(d.prefix, d.pathId), d);
    }
    for (const [k, d] of want) {
      const have = this.sent.get(k);
      if (have === undefined || have.signature !== d.signature) this.set(k, d);
    }
    for (const [k, have] of this.sent) if (!want.has(k)) this.remove(k, have);
    this.drain();
  }

  /** One route changed (announced, replaced); `old` is the route it replaces, if any. */
  changed(route: LocalRoute | undefined, old: LocalRoute | undefined): void {
    const d = route === undefined ? undefined : this.desired(route);
    const dk = d === undefined ? undefined : keyOf(d.prefix, d.pathId);
    if (old !== undefined) {
      for (const [k, have] of this.sent) if (have.prefix === old.prefix && k !== dk) this.remove(k, have);
    }
    if (d !== undefined && dk !== undefined && this.sent.get(dk)?.signature !== d.signature) this.set(dk, d);
    this.drain();
  }

  private set(k: string, d: SentRoute): void {
    this.sent.set(k, d);
    this.pending.set(k, { kind: 'announce', route: d });
  }

  private remove(k: string, have: SentRoute): void {
    this.sent.delete(k);
    this.pending.set(k, { kind: 'withdraw', prefix: have.prefix, pathId: have.pathId });
  }

  /** Queues End-of-RIB markers for the session's families (after what is pending). */
  endOfRib(): void {
    this.build();
    for (const f of this.opts.view.ctx.families) this.queue.push({ buf: bgp.encodeMessage(bgp.endOfRib(f), this.session.ctx) });
    this.drain();
  }

  /** ROUTE-REFRESH: resend every route of the family. */
  refresh(family: bgp.Family | undefined): void {
    for (const [k, r] of this.sent) {
      if (family === undefined || (r.prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast') === family) this.pending.set(k, { kind: 'announce', route: r });
    }
    this.drain();
  }

  close(): void {
    this.closed = true;
    this.drainTimer.stop();
    this.queue.length = 0;
    this.pending.clear();
  }

  /** Turns pending changes into encoded UPDATEs (as few as the codec can pack). */
  private build(): void {
    if (this.pending.size === 0) return;
    const announce: bgp.Announcement[] = [];
    const withdraw: bgp.Withdrawal[] = [];
    for (const c of this.pending.values()) {
      if (c.kind === 'announce') {
        const r = c.route;
        announce.push({ prefix: r.prefix, nextHop: r.nextHop, attrs: r.attrs, ...(r.pathId === undefined ? {} : { pathId: r.pathId }) });
      } else {
        withdraw.push(c.pathId === undefined ? c.prefix : { prefix: c.prefix, pathId: c.pathId });
      }
    }
    this.pending.clear();
    for (const m of bgp.update({ announce, withdraw }, this.session.ctx)) this.queue.push({ buf: bgp.encodeMessage(m, this.session.ctx) });
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
