/**
 * One BGP connection of a peer: framing and decoding of what arrives, encoding of what is sent,
 * the per-connection phase (OpenSent, OpenConfirm, Established), its HoldTimer and
 * KeepaliveTimer. During a connection collision (RFC 4271 §6.8) a peer has two of these; the
 * FSM in `fsm.ts` decides what each event does.
 */
import { bgp } from '@netaccel/protocol';
import type { Clock, Random } from './timers.js';
import { Timer, jitter } from './timers.js';
import type { BgpConnection } from './transport.js';

export type SessionPhase = 'open-sent' | 'open-confirm' | 'established';
export type Direction = 'out' | 'in';
export type MessageKind = 'open' | 'update' | 'notification' | 'keepalive' | 'route-refresh';

/** RFC 4271 §8.2.2: the HoldTimer's "large value" while waiting for the peer's OPEN. */
export const OPEN_HOLD_MS = 240_000; // 4 min

export interface SessionHooks {
  message(s: Session, msg: bgp.ReceivedMessage): void;
  /** A BgpNotificationError (or another failure) decoding the peer's bytes. */
  decodeError(s: Session, err: unknown): void;
  /** The connection closed without us closing it. */
  closed(s: Session, err: Error | undefined): void;
  holdExpired(s: Session): void;
  /** Counters: every message in or out. */
  counted(s: Session, direction: 'in' | 'out', kind: MessageKind): void;
}

let nextSessionId = 1;

export class Session {
  readonly id = nextSessionId++;
  phase: SessionPhase = 'open-sent';
  ctx: bgp.SessionContext = bgp.DEFAULT_CONTEXT;
  negotiated: bgp.NegotiatedSession | undefined;
  remoteOpen: bgp.OpenMessage | undefined;
  /** When the session reached Established (clock ms). */
  establishedAt: number | undefined;
  closing = false;
  private readonly framer = new bgp.BgpFramer();
  private readonly holdTimer: Timer;
  private readonly keepaliveTimer: Timer;
  private keepaliveMs = 0;
  private holdMs = OPEN_HOLD_MS;

  constructor(
    readonly conn: BgpConnection,
    readonly direction: Direction,
    readonly localOpen: bgp.OpenMessage,
    clock: Clock,
    private readonly random: Random,
    private readonly hooks: SessionHooks,
  ) {
    this.holdTimer = new Timer(clock, () => this.hooks.holdExpired(this), { drainInput: true });
    this.keepaliveTimer = new Timer(clock, () => this.sendKeepalive());
    conn.onData((chunk) => this.receive(chunk));
    conn.onClose((err) => {
      if (this.closing) return;
      this.closing = true;
      this.stopTimers();
      this.hooks.closed(this, err);
    });
  }

  /** Sends our OPEN and arms the HoldTimer with the large value (OpenSent). */
  begin(): void {
    this.send(this.localOpen);
    this.holdTimer.start(OPEN_HOLD_MS);
  }

  /** Seconds of the negotiated hold time (or of our OPEN before negotiation). */
  get holdTime(): number {
    return this.negotiated?.holdTime ?? this.localOpen.holdTime;
  }

  /** Takes the negotiated session: codec context, frame limit, HoldTimer and KeepaliveTimer. */
  useNegotiated(n: bgp.NegotiatedSession, remote: bgp.OpenMessage): void {
    this.negotiated = n;
    this.remoteOpen = remote;
    this.ctx = n;
    this.framer.useContext(n);
    this.holdMs = n.holdTime * 1000;
    this.keepaliveMs = n.keepaliveTime * 1000;
    this.restartHold();
    this.keepaliveTimer.start(jitter(this.keepaliveMs, this.random));
  }

  /** Restarts the HoldTimer after a KEEPALIVE or UPDATE (a hold time of 0 runs none). */
  restartHold(): void {
    this.holdTimer.start(this.holdMs);
  }

  send(msg: bgp.BgpMessage): void {
    if (this.closing) return;
    this.writeEncoded(bgp.encodeMessage(msg, this.ctx), msg.type);
  }

  /** Writes an already encoded message (UPDATEs built by the Adj-RIB-Out). */
  writeEncoded(buf: Buffer, kind: MessageKind): void {
    if (this.closing) return;
    this.conn.write(buf);
    this.hooks.counted(this, 'out', kind);
    // RFC 4271 §10: sending a KEEPALIVE or UPDATE restarts the KeepaliveTimer.
    if ((kind === 'update' || kind === 'keepalive') && this.keepaliveMs > 0) this.keepaliveTimer.start(jitter(this.keepaliveMs, this.random));
  }

  /**
   * Sends a KEEPALIVE now. Besides the timer, the daemon calls it before work that keeps the
   * event loop busy (a reload of a large configuration), so the peer's hold timer starts afresh.
   */
  sendKeepalive(): void {
    this.send(bgp.keepalive());
  }

  /** Sends a NOTIFICATION (if given) and closes the connection; no hook runs afterwards. */
  close(notification?: bgp.NotificationMessage): void {
    if (this.closing) return;
    if (notification !== undefined) {
      try {
        this.send(notification);
      } catch {
        // an unencodable NOTIFICATION must not keep the connection open
      }
    }
    this.closing = true;
    this.stopTimers();
    if (notification !== undefined) this.conn.end();
    else this.conn.destroy();
  }

  private stopTimers(): void {
    this.holdTimer.stop();
    this.keepaliveTimer.stop();
  }

  private receive(chunk: Buffer): void {
    if (this.closing) return;
    try {
      this.framer.push(chunk);
    } catch (err) {
      this.hooks.decodeError(this, err);
      return;
    }
    while (!this.closing) {
      let decoded: bgp.Decoded | null;
      try {
        const m = this.framer.next();
        if (m === null) return;
        decoded = bgp.decodeMessage(m, this.ctx);
      } catch (err) {
        this.hooks.decodeError(this, err);
        return;
      }
      if (decoded === null) return; // cannot happen: the framer hands out whole messages
      this.hooks.counted(this, 'in', decoded.message.type);
      this.hooks.message(this, decoded.message);
    }
  }
}
