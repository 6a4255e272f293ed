/**
 * One BFD session in asynchronous mode (RFC 5880 §6.8): the state machine AdminDown / Down /
 * Init / Up, periodic transmission with jitter (§6.8.7), the detection time (§6.8.4), and the
 * Poll sequence that changes timers once the session is Up (§6.8.3: while not Up, the desired
 * TX interval is at least one second). Pure logic on a clock; `transmit` sends the bytes.
 */
import type { Clock, Random } from '../timers.js';
import { Timer } from '../timers.js';
import type { BfdControl, BfdStateName } from './packet.js';
import { DIAG_TEXT, Diag, encodeControl } from './packet.js';

export interface BfdSessionOptions {
  /** µs */
  readonly desiredMinTx: number;
  /** µs */
  readonly requiredMinRx: number;
  readonly detectMult: number;
  readonly localDiscriminator: number;
}

/** §6.8.3: the TX interval while the session is not Up. */
export const SLOW_TX_US = 1_000_000;

export class BfdSession {
  state: BfdStateName = 'down';
  remoteState: BfdStateName = 'down';
  remoteDiscriminator = 0;
  localDiag: number = Diag.None;
  private remoteMinRx = 1; // µs, until the peer tells
  private remoteDesiredMinTx = 0;
  private remoteDetectMult = 0;
  /** The interval we advertise (1 s until Up). */
  private desiredMinTx = SLOW_TX_US;
  private pollActive = false;
  private readonly txTimer: Timer;
  private readonly detectTimer: Timer;
  /** Packets sent and received, for status and tests. */
  sent = 0;
  received = 0;

  constructor(
    readonly opts: BfdSessionOptions,
    clock: Clock,
    private readonly random: Random,
    private readonly transmit: (pkt: Buffer) => void,
    private readonly changed: (prev: BfdStateName, next: BfdStateName, diag: string) => void,
  ) {
    this.txTimer = new Timer(clock, () => this.periodic());
    this.detectTimer = new Timer(clock, () => this.detectionExpired(), { drainInput: true });
  }

  start(): void {
    this.scheduleTx();
  }

  stop(): void {
    this.txTimer.stop();
    this.detectTimer.stop();
  }

  /** Administratively down: tell the peer (diag 7) and stop reacting to it. */
  adminDown(): void {
    this.localDiag = Diag.AdministrativelyDown;
    this.setState('admin-down');
    this.send(false);
  }

  /** µs between our packets: max(our desired TX, the peer's required RX) (§6.8.7). */
  get txIntervalUs(): number {
    return Math.max(this.desiredMinTx, this.remoteMinRx);
  }

  /** µs without a packet before the session is declared down (§6.8.4, asynchronous mode). */
  get detectionTimeUs(): number {
    return this.remoteDetectMult * Math.max(this.opts.requiredMinRx, this.remoteDesiredMinTx);
  }

  private control(poll: boolean, final: boolean): BfdControl {
    return {
      diag: this.localDiag,
      state: this.state,
      poll,
      final,
      cpi: true,
      demand: false,
      detectMult: this.opts.detectMult,
      myDiscriminator: this.opts.localDiscriminator,
      yourDiscriminator: this.remoteDiscriminator,
      desiredMinTx: this.desiredMinTx,
      requiredMinRx: this.opts.requiredMinRx,
      requiredMinEchoRx: 0,
    };
  }

  private send(final: boolean): void {
    this.transmit(encodeControl(this.control(this.pollActive && !final, final)));
    this.sent++;
  }

  private periodic(): void {
    // §6.8.7: no periodic packets before the peer's discriminator is known is allowed only in
    // passive role; we are active and send from the start.
    this.send(false);
    this.scheduleTx();
  }

  private scheduleTx(): void {
    const base = this.txIntervalUs / 1000;
    // 0..25% less, or 10..25% less with a detect multiplier of 1
    const factor = this.opts.detectMult === 1 ? 0.75 + 0.15 * this.random() : 0.75 + 0.25 * this.random();
    this.txTimer.start(Math.max(1, base * factor));
  }

  private detectionExpired(): void {
    if (this.state === 'init' || this.state === 'up') {
      this.localDiag = Diag.ControlDetectionTimeExpired;
      this.setState('down');
      this.remoteDiscriminator = 0;
    }
  }

  private setState(next: BfdStateName): void {
    const prev = this.state;
    if (prev === next) return;
    this.state = next;
    if (next === 'up') {
      // §6.8.3: now the configured interval, announced with a Poll sequence
      if (this.desiredMinTx !== this.opts.desiredMinTx) {
        this.desiredMinTx = this.opts.desiredMinTx;
        this.pollActive = true;
      }
      this.scheduleTx();
    } else if (this.desiredMinTx !== SLOW_TX_US) {
      this.desiredMinTx = SLOW_TX_US;
      this.pollActive = false;
    }
    this.changed(prev, next, DIAG_TEXT[this.localDiag] ?? `diagnostic ${this.localDiag}`);
  }

  /** A Control packet from the peer that passed `decodeControl` (RFC 5880 §6.8.6). */
  receive(p: BfdControl): void {
    if (p.yourDiscriminator === 0 && p.state !== 'down' && p.state !== 'admin-down') return;
    if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== this.opts.localDiscriminator) return;
    this.received++;
    this.remoteDiscriminator = p.myDiscriminator;
    this.remoteState = p.state;
    this.remoteMinRx = p.requiredMinRx;
    this.remoteDesiredMinTx = p.desiredMinTx;
    this.remoteDetectMult = p.detectMult;
    if (p.final && this.pollActive) this.pollActive = false;
    if (this.state === 'admin-down') return;
    if (p.state === 'admin-down') {
      if (this.state !== 'down') {
        this.localDiag = Diag.NeighborSignaledSessionDown;
        this.setState('down');
      }
    } else if (this.state === 'down') {
      if (p.state === 'down') this.setState('init');
      else if (p.state === 'init') this.setState('up');
    } else if (this.state === 'init') {
      if (p.state === 'init' || p.state === 'up') this.setState('up');
    } else if (p.state === 'down') {
      this.localDiag = Diag.NeighborSignaledSessionDown;
      this.setState('down');
    }
    if (this.state === 'up' && this.localDiag !== Diag.None && p.state === 'up') this.localDiag = Diag.None;
    if (p.poll) this.send(true);
    if (this.state === 'init' || this.state === 'up') this.detectTimer.start(this.detectionTimeUs / 1000);
    else this.detectTimer.stop();
  }
}
