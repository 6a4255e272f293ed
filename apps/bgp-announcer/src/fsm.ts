/**
 * The BGP finite state machine of RFC 4271 §8 for one configured peer.
 *
 * States: Idle, Connect, Active, OpenSent, OpenConfirm, Established. Each TCP connection is a
 * `Session` with its own phase (OpenSent, OpenConfirm, Established) and timers, so that a
 * connection collision (§6.8) is two sessions until the BGP identifiers decide; the peer's state
 * is that of its most advanced session, or Idle / Connect / Active when it has none.
 *
 * Events handled (RFC numbering): ManualStart (1) and ManualStart with passive TCP (4), ManualStop
 * (2), AutomaticStart (3 / 5, after the IdleHoldTimer when a session failed),
 * ConnectRetryTimer_Expires (9, jittered per §10), HoldTimer_Expires (10), KeepaliveTimer_Expires
 * (11), TcpConnectionConfirmed / Tcp_CR_Acked (16 / 17), TcpConnectionFails (18), BGPOpen (19),
 * BGPHeaderErr / BGPOpenMsgErr (21 / 22), OpenCollisionDump (23), NotifMsg (25), KeepAliveMsg
 * (26), UpdateMsg (27), UpdateMsgErr (28).
 *
 * Deviations, as most implementations do: a failed outgoing connection in Connect goes to Active
 * with the ConnectRetryTimer restarted (RFC 4271 does this only with DelayOpen; otherwise Idle);
 * a NOTIFICATION received in OpenSent is not answered with another; a new connection while
 * Established replaces the old session when graceful restart was negotiated (RFC 4724 §4.2),
 * and is closed otherwise.
 */
import { bgp } from '@netaccel/protocol';
import type { NetaccelError } from '@netaccel/errors';
import type { Logger } from '@netaccel/telemetry';
import {
  NA_ERR_BGPD_BFD_DOWN,
  NA_ERR_BGPD_COLLISION,
  NA_ERR_BGPD_CONNECTION_LOST,
  NA_ERR_BGPD_CONNECT_FAILED,
  NA_ERR_BGPD_FSM_UNEXPECTED_MESSAGE,
  NA_ERR_BGPD_HOLD_TIMER_EXPIRED,
  NA_ERR_BGPD_NOTIFICATION_RECEIVED,
  NA_ERR_BGPD_NOTIFICATION_SENT,
  NA_ERR_BGPD_STOPPED,
} from './errors.js';
import type { PeerSettings } from './peer-config.js';
import type { Direction, MessageKind } from './session.js';
import { Session } from './session.js';
import type { Clock, Random } from './timers.js';
import { Timer, jitter } from './timers.js';
import type { BgpConnection, Dialer } from './transport.js';

export type BgpState = 'idle' | 'connect' | 'active' | 'open-sent' | 'open-confirm' | 'established';

/** What the rest of the daemon hears from a peer. */
export interface PeerHandlers {
  stateChanged?(peer: Peer, prev: BgpState, next: BgpState, reason: string): void;
  established?(peer: Peer, s: Session): void;
  /** The established session ended (before `stateChanged` reports the new state). */
  down?(peer: Peer, s: Session, reason: NetaccelError): void;
  update?(peer: Peer, s: Session, result: bgp.UpdateDecodeResult): void;
  routeRefresh?(peer: Peer, s: Session, msg: bgp.RouteRefreshMessage): void;
  counted?(peer: Peer, direction: 'in' | 'out', kind: MessageKind): void;
}

export interface PeerDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly dialer: Dialer;
  readonly log: Logger;
  readonly handlers: PeerHandlers;
}

const { Cease, Fsm, HoldTimerExpired } = bgp.NotificationCode;
const FSM_SUBCODE: Readonly<Record<string, number>> = { 'open-sent': 1, 'open-confirm': 2, established: 3 }; // RFC 6608

function ipv4Number(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function notificationText(n: bgp.NotificationMessage): string {
  const comm = bgp.shutdownCommunication(n);
  return comm === undefined ? '' : comm;
}

export class Peer {
  private base: 'idle' | 'connect' | 'active' = 'idle';
  private readonly sessions: Session[] = [];
  private cancelDial: (() => void) | undefined;
  private readonly connectRetry: Timer;
  private readonly idleHold: Timer;
  private started = false;
  private reported: BgpState = 'idle';
  /** Sessions that reached Established, for the R bit of graceful restart. */
  private establishedCount = 0;
  connectRetryCounter = 0;
  flaps = 0;
  lastError: NetaccelError | undefined;

  constructor(
    public settings: PeerSettings,
    private readonly deps: PeerDeps,
  ) {
    this.connectRetry = new Timer(deps.clock, () => this.connectRetryExpired());
    this.idleHold = new Timer(deps.clock, () => this.automaticStart());
  }

  get address(): string {
    return this.settings.address;
  }

  get state(): BgpState {
    return this.reported;
  }

  /** The Established session, if there is one. */
  get established(): Session | undefined {
    return this.sessions.find((s) => s.phase === 'established');
  }

  /** Connections open to the peer (2 during a collision). */
  get connections(): number {
    return this.sessions.length;
  }

  /** ManualStart (1), or ManualStart with passive TCP establishment (4) for a passive peer. */
  start(): void {
    this.started = true;
    this.connectRetryCounter = 0;
    this.automaticStart();
  }

  /** AutomaticStart (3 / 5): Idle → Connect (or Active when passive). */
  private automaticStart(): void {
    this.idleHold.stop();
    if (!this.started || this.base !== 'idle' || this.sessions.length > 0) return;
    this.connectRetry.start(this.retryMs());
    if (this.settings.passive) {
      this.base = 'active';
      this.update('start (passive)');
      return;
    }
    this.base = 'connect';
    this.update('start');
    this.dial();
  }

  /** ManualStop (2): Cease / Administrative Shutdown on every connection, then Idle. */
  stop(reason = 'administrative shutdown', subcode: number = bgp.CeaseSubcode.AdministrativeShutdown): void {
    this.started = false;
    this.cancelDialing();
    this.connectRetry.stop();
    this.idleHold.stop();
    const err = NA_ERR_BGPD_STOPPED(this.address, reason);
    const communication = subcode === bgp.CeaseSubcode.AdministrativeShutdown || subcode === bgp.CeaseSubcode.AdministrativeReset ? reason.slice(0, 120) : undefined;
    for (const s of [...this.sessions]) this.drop(s, bgp.cease(subcode, communication), err, 'idle');
    this.base = 'idle';
    this.connectRetryCounter = 0;
    this.update(reason);
  }

  /** Closes the connections without a NOTIFICATION (a restarting speaker, RFC 4724) and stops. */
  abandon(reason: string): void {
    this.started = false;
    this.cancelDialing();
    this.connectRetry.stop();
    this.idleHold.stop();
    for (const s of [...this.sessions]) this.drop(s, undefined, NA_ERR_BGPD_STOPPED(this.address, reason), 'idle');
    this.base = 'idle';
    this.update(reason);
  }

  /** BFD reported the path down: the session goes down (Cease / BFD Down, RFC 9384). */
  bfdDown(diagnostic: string): void {
    const s = this.established ?? this.sessions[0];
    if (s === undefined) return;
    this.deps.log.warn({ peer: this.address, diagnostic }, 'BFD down: closing the BGP session');
    this.drop(s, bgp.cease(bgp.CeaseSubcode.BfdDown), NA_ERR_BGPD_BFD_DOWN(this.address, diagnostic), 'idle');
  }

  /**
   * An incoming connection from the peer (TcpConnectionConfirmed, 17). Answers false when it is
   * refused (Idle, or a collision with an Established session without graceful restart).
   */
  accept(conn: BgpConnection): boolean {
    if (!this.started) {
      conn.destroy();
      return false;
    }
    const est = this.established;
    if (est !== undefined) {
      if (est.negotiated?.gracefulRestart === undefined) {
        this.deps.log.info({ peer: this.address }, 'connection while established: closed (collision, RFC 4271 §6.8)');
        conn.destroy();
        return false;
      }
      // RFC 4724 §4.2: a new connection from a restarting peer ends the old session.
      this.drop(est, undefined, NA_ERR_BGPD_CONNECTION_LOST(this.address, 'established', ': the peer reconnected (graceful restart)'), 'keep');
    }
    if (this.sessions.length >= 2) {
      conn.destroy();
      return false;
    }
    this.connected(conn, 'in');
    return true;
  }

  private retryMs(): number {
    return jitter(this.settings.connectRetryMs, this.deps.random);
  }

  private dial(): void {
    this.cancelDialing();
    const s = this.settings;
    this.cancelDial = this.deps.dialer.dial(
      {
        address: s.address,
        port: s.port,
        ...(s.localAddress === undefined ? {} : { localAddress: s.localAddress }),
        ...(s.ttl === undefined ? {} : { ttl: s.ttl }),
        ...(s.password === undefined ? {} : { password: s.password }),
        timeoutMs: s.connectRetryMs,
      },
      (err, conn) => {
        this.cancelDial = undefined;
        if (err !== undefined || conn === undefined) this.tcpFails(err);
        else if (!this.started || this.base !== 'connect' || this.sessions.length >= 2) conn.destroy();
        else this.connected(conn, 'out');
      },
    );
  }

  private cancelDialing(): void {
    const c = this.cancelDial;
    this.cancelDial = undefined;
    c?.();
  }

  /** ConnectRetryTimer_Expires (9). */
  private connectRetryExpired(): void {
    if (!this.started || this.sessions.length > 0) return;
    this.connectRetry.start(this.retryMs());
    if (this.settings.passive) return; // passive peers only listen
    if (this.base === 'connect' || this.base === 'active') {
      this.base = 'connect';
      this.update('connect retry timer expired');
      this.dial();
    }
  }

  /** TcpConnectionFails (18) of the outgoing attempt. */
  private tcpFails(err: Error | undefined): void {
    if (!this.started || this.base !== 'connect' || this.sessions.length > 0) return;
    this.lastError = NA_ERR_BGPD_CONNECT_FAILED(this.address, err?.message ?? 'unknown error');
    this.base = 'active';
    this.connectRetry.start(this.retryMs());
    this.update('connection failed');
  }

  /** Tcp_CR_Acked / TcpConnectionConfirmed (16 / 17): send OPEN, OpenSent. */
  private connected(conn: BgpConnection, direction: Direction): void {
    if (direction === 'in') this.cancelDialing();
    this.connectRetry.stop();
    const s = new Session(conn, direction, this.localOpen(), this.deps.clock, this.deps.random, {
      message: (x, m) => this.message(x, m),
      decodeError: (x, e) => this.decodeError(x, e),
      closed: (x, e) => this.closed(x, e),
      holdExpired: (x) => this.holdExpired(x),
      counted: (_x, d, k) => this.deps.handlers.counted?.(this, d, k),
    });
    this.sessions.push(s);
    this.deps.log.debug({ peer: this.address, direction, local: `${conn.localAddress}:${conn.localPort}`, remote: `${conn.remoteAddress}:${conn.remotePort}` }, 'tcp connection up');
    s.begin();
    this.update(direction === 'in' ? 'incoming connection' : 'connected');
  }

  private localOpen(): bgp.OpenMessage {
    const s = this.settings;
    const gr = s.gracefulRestart;
    return bgp.open({
      asn: s.localAs,
      routerId: s.routerId,
      holdTime: s.holdTime,
      families: s.families,
      routeRefresh: true,
      ...(s.addPath ? { addPath: Object.fromEntries(s.families.map((f) => [f, 'send' as const])) } : {}),
      ...(gr === undefined
        ? {}
        : { gracefulRestart: { restartTime: gr.restartTime, restarting: this.establishedCount === 0 && gr.restarted, forwardingPreserved: s.families } }),
    });
  }

  private message(s: Session, m: bgp.ReceivedMessage): void {
    switch (m.type) {
      case 'open':
        return this.bgpOpen(s, m);
      case 'keepalive':
        if (s.phase === 'open-sent') return this.fsmError(s, 'KEEPALIVE');
        s.restartHold();
        if (s.phase === 'open-confirm') this.establish(s);
        return;
      case 'update':
        if (s.phase !== 'established') return this.fsmError(s, 'UPDATE');
        s.restartHold();
        this.deps.handlers.update?.(this, s, m);
        return;
      case 'route-refresh':
        if (s.phase !== 'established') return this.fsmError(s, 'ROUTE-REFRESH');
        this.deps.handlers.routeRefresh?.(this, s, m);
        return;
      case 'notification': {
        const err = NA_ERR_BGPD_NOTIFICATION_RECEIVED(this.address, m.code, m.subcode, notificationText(m));
        this.deps.log.warn({ peer: this.address, code: m.code, subcode: m.subcode, data: m.data.toString('hex') }, 'NOTIFICATION received');
        this.drop(s, undefined, err, 'idle');
        return;
      }
    }
  }

  /** BGPOpen (19), with the OPEN checks that need configuration and collision detection (§6.8). */
  private bgpOpen(s: Session, open: bgp.OpenMessage): void {
    if (s.phase !== 'open-sent') return this.fsmError(s, 'OPEN');
    let n: bgp.NegotiatedSession;
    try {
      n = bgp.negotiate(s.localOpen, open, { peerAs: this.settings.remoteAs });
    } catch (err) {
      return this.decodeError(s, err);
    }
    const other = this.sessions.find((o) => o !== s && (o.phase === 'open-confirm' || o.phase === 'established'));
    if (other !== undefined) {
      // The connection initiated by the speaker with the higher BGP identifier survives.
      const localWins = ipv4Number(this.settings.routerId) > ipv4Number(open.routerId);
      const loser = [s, other].find((x) => x.direction === (localWins ? 'in' : 'out')) ?? s;
      const err = NA_ERR_BGPD_COLLISION(this.address, `kept the connection opened by ${localWins ? 'us' : 'the peer'}`);
      this.deps.log.info({ peer: this.address, localId: this.settings.routerId, remoteId: open.routerId }, 'connection collision');
      this.drop(loser, bgp.cease(bgp.CeaseSubcode.ConnectionCollisionResolution), err, 'keep');
      if (loser === s) return;
    }
    this.deps.log.debug({ peer: this.address, routerId: open.routerId, holdTime: open.holdTime, capabilities: open.capabilities.map((c) => (c.type === 'unknown' ? `unknown-${c.code}` : c.type)) }, 'OPEN received');
    s.useNegotiated(n, open);
    s.send(bgp.keepalive());
    s.phase = 'open-confirm';
    this.update('OPEN received');
  }

  private establish(s: Session): void {
    s.phase = 'established';
    s.establishedAt = this.deps.clock.now();
    this.establishedCount++;
    this.connectRetry.stop();
    this.connectRetryCounter = 0;
    for (const o of [...this.sessions]) {
      if (o !== s) this.drop(o, bgp.cease(bgp.CeaseSubcode.ConnectionCollisionResolution), NA_ERR_BGPD_COLLISION(this.address, 'another connection is established'), 'keep');
    }
    this.deps.log.info({ peer: this.address, holdTime: s.holdTime, direction: s.direction, families: s.negotiated?.families, addPath: s.negotiated?.addPath.send }, 'bgp session established');
    this.update('KEEPALIVE received');
    this.deps.handlers.established?.(this, s);
  }

  private fsmError(s: Session, what: string): void {
    const sub = FSM_SUBCODE[s.phase] ?? 0;
    const err = NA_ERR_BGPD_FSM_UNEXPECTED_MESSAGE(this.address, what, s.phase);
    this.drop(s, bgp.notification(Fsm, sub), err, 'idle');
  }

  /** BGPHeaderErr / BGPOpenMsgErr / UpdateMsgErr (21 / 22 / 28): the NOTIFICATION the codec prescribes. */
  private decodeError(s: Session, err: unknown): void {
    if (bgp.isBgpNotificationError(err)) {
      const n = bgp.notificationFor(err, s.ctx);
      const e = NA_ERR_BGPD_NOTIFICATION_SENT.with({ cause: err }, this.address, n.code, n.subcode, err.message);
      this.deps.log.warn({ peer: this.address, code: n.code, subcode: n.subcode, err }, 'malformed message from peer: NOTIFICATION sent');
      this.drop(s, n, e, 'idle');
      return;
    }
    // Not a peer error: a bug on our side; the session cannot continue.
    const e = NA_ERR_BGPD_NOTIFICATION_SENT.with({ cause: err }, this.address, Cease, 0, err instanceof Error ? err.message : String(err));
    this.deps.log.warn({ peer: this.address, err }, 'internal error handling a message: session closed');
    this.drop(s, bgp.notification(Cease, 0), e, 'idle');
  }

  private closed(s: Session, err: Error | undefined): void {
    this.drop(s, undefined, NA_ERR_BGPD_CONNECTION_LOST(this.address, s.phase, err === undefined ? '' : `: ${err.message}`), s.phase === 'open-sent' ? 'active' : 'idle');
  }

  private holdExpired(s: Session): void {
    this.drop(s, bgp.notification(HoldTimerExpired, 0), NA_ERR_BGPD_HOLD_TIMER_EXPIRED(this.address, s.holdTime), 'idle');
  }

  /**
   * Closes one session (sending `notification` first) and decides where the FSM goes when it was
   * the last one: 'active' (TcpConnectionFails in OpenSent), 'idle' (errors; AutomaticStart
   * follows after the IdleHoldTimer while the peer is started) or 'keep' (a collision loser).
   */
  private drop(s: Session, notification: bgp.NotificationMessage | undefined, reason: NetaccelError, next: 'active' | 'idle' | 'keep'): void {
    const i = this.sessions.indexOf(s);
    if (i < 0) return;
    this.sessions.splice(i, 1);
    const wasEstablished = s.phase === 'established';
    s.close(notification);
    if (next !== 'keep' || wasEstablished) this.lastError = reason;
    if (wasEstablished) {
      this.flaps++;
      this.deps.log.warn({ peer: this.address, err: reason }, 'bgp session down');
      this.deps.handlers.down?.(this, s, reason);
    }
    if (this.sessions.length === 0) {
      if (!this.started) this.base = 'idle';
      else if (next === 'active') {
        this.base = 'active';
        this.connectRetry.start(this.retryMs());
      } else if (next === 'idle' || wasEstablished) {
        this.base = 'idle';
        this.connectRetryCounter++;
        this.connectRetry.stop();
        this.idleHold.start(this.settings.idleHoldMs);
      } else {
        // a collision loser was the last session: wait for the peer or the retry timer
        this.base = 'active';
        this.connectRetry.start(this.retryMs());
      }
    }
    this.update(reason.message);
  }

  private update(reason: string): void {
    const est = this.sessions.some((s) => s.phase === 'established');
    const next: BgpState = est
      ? 'established'
      : this.sessions.some((s) => s.phase === 'open-confirm')
        ? 'open-confirm'
        : this.sessions.length > 0
          ? 'open-sent'
          : this.base;
    const prev = this.reported;
    if (prev === next) return;
    this.reported = next;
    this.deps.log.debug({ peer: this.address, prev, next, reason }, 'bgp state change');
    this.deps.handlers.stateChanged?.(this, prev, next, reason);
  }
}
