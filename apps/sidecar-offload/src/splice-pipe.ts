/**
 * One direction of a spliced connection (splice.ts): bytes read from the proxy's socket facing the
 * sender, written to the socket facing the receiver. Raw until the kernel's hand-over point of the
 * sender (`conns.user_from`) is known and reached, HTTP/2 frames after it (handed to the relay,
 * splice-relay.ts); frames of the relay's own go in at a frame boundary; writes are held while a
 * take-back trigger byte is on its way to the kernel; a full sink pauses the source.
 */
import type { Socket } from 'node:net';
import { SIDECAR_CONN_F, SIDECAR_REASON } from '@netaccel/bpf-programs/sidecar';
import type { SockKey } from '@netaccel/bpf-programs/sidecar';
import { H2_PREFACE_LEN, cutFrames } from './h2-frames.js';
import type { Frame } from './h2-frames.js';
import type { SpliceKernel } from './offload.js';

const EMPTY = Buffer.alloc(0);
/** The byte written towards a socket the proxy takes back (the kernel cuts it off: sidecar_take_back). */
const TRIGGER = Buffer.from([0]);

/**
 * One direction: bytes read from `src` (the proxy's socket facing the sender), written to `dst`.
 * Raw until the hand-over point is known and reached, frames after it.
 */
export class Pipe {
  read = 0;
  from: number | undefined;
  private pending: Buffer = EMPTY;
  private readonly injections: Buffer[] = [];
  private waiting = false;
  /** Writes to `dst` wait here while a take-back trigger written to it is not seen by the kernel yet. */
  private held: Buffer[] | undefined;
  /** Through the loader (`kernel.fresh`): chunks waiting for a read of the sender's state asked after they arrived. */
  private queued: Buffer[] = [];
  private reading = false;
  private settled = false;
  /** While set, arriving chunks wait (a take-over's read of the kernel's calls). */
  private gate: Promise<void> | undefined;

  constructor(
    private readonly src: Socket,
    readonly dst: Socket,
    /** The kernel's key of the socket whose sends arrive here. */
    readonly sender: SockKey,
    private readonly kernel: SpliceKernel,
    /** The client's direction: its first byte may be the preface (passed with the message handed over). */
    private readonly preface: boolean,
    private readonly onFrame: (f: Frame) => Buffer[],
    /**
     * Through the loader: awaited once, when a read first finds the direction handed over, before
     * any frame after the hand-over point goes to `onFrame` (the connection reads the kernel's
     * calls in flight then, so that the relay can adopt them).
     */
    private readonly settle?: () => Promise<void>,
  ) {
    src.on('data', (d: Buffer) => this.arrive(d));
  }

  /**
   * In process, `data` looks the state up as each chunk arrives. Through the loader the state is
   * a mirror (`kernel.fresh`): until the hand-over point is known, chunks wait for a read asked
   * after they arrived (one batch for every connection of this turn), then go through `data`.
   */
  private arrive(d: Buffer): void {
    if (this.gate === undefined && (this.kernel.fresh === undefined || (this.from !== undefined && this.queued.length === 0 && !this.reading))) return this.data(d);
    this.queued.push(d);
    this.drain();
  }

  /** Chunks arriving until `until` settles wait for it (in order, before any later one). */
  hold(until: Promise<void>): void {
    this.gate = until;
    const open = () => {
      if (this.gate === until) this.gate = undefined;
      this.drain();
    };
    until.then(open, open);
  }

  private drain(): void {
    if (this.reading || this.gate !== undefined || this.queued.length === 0) return;
    if (this.from !== undefined || this.kernel.fresh === undefined) {
      for (const d of this.queued.splice(0)) this.data(d);
      return;
    }
    const n = this.queued.length;
    this.readAgain(() => {
      for (const d of this.queued.splice(0, n)) this.data(d);
    });
  }

  /** Reads the sender's state again through the loader, then `then`; a failed read ends the connection (its state is unknown). */
  private readAgain(then: () => void): void {
    this.reading = true;
    this.kernel.fresh!(this.sender)
      .then(() => {
        if (this.settle === undefined || this.settled || !this.handedOver()) return undefined;
        this.settled = true;
        return this.settle();
      })
      .then(
        () => {
          this.reading = false;
          then();
          this.drain();
        },
        (err: unknown) => {
          this.reading = false;
          this.queued = [];
          this.src.destroy(err instanceof Error ? err : new Error(String(err)));
          this.dst.destroy();
        },
      );
  }

  /** Learns from the kernel whether (and from where) this direction is handed over. */
  handedOver(): boolean {
    if (this.from === undefined) {
      const c = this.kernel.conn(this.sender);
      if (c !== undefined && (c.flags & SIDECAR_CONN_F.USER) !== 0) {
        // not HTTP/2 from the start: nothing to read frames in, the bytes go on as they are
        this.from = c.reason === SIDECAR_REASON.BAD_PREFACE ? Infinity : Number(c.userFrom);
      }
    }
    return this.from !== undefined;
  }

  private data(d: Buffer): void {
    // Bytes the kernel passed after handing the socket over exist only once it marked it: a
    // lookup after they arrived sees the mark.
    this.handedOver();
    // the preface is not a frame: when the kernel handed the first send over, it is passed as it is
    if (this.preface && this.from === 0 && this.read === 0 && d.subarray(0, 4).toString('latin1') === 'PRI ') this.from = H2_PREFACE_LEN;
    const start = this.read;
    this.read += d.length;
    const rawEnd = Math.min(d.length, Math.max(0, (this.from ?? Infinity) - start));
    if (rawEnd > 0) this.write(d.subarray(0, rawEnd));
    if (rawEnd < d.length) {
      const rest = d.subarray(rawEnd);
      const { frames, rest: left } = cutFrames(this.pending.length === 0 ? rest : Buffer.concat([this.pending, rest]));
      this.pending = Buffer.from(left);
      const out: Buffer[] = [];
      for (const f of frames) out.push(...this.onFrame(f));
      if (out.length > 0) this.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    }
    this.flush();
  }

  /** A frame of the relay's own, written at the next frame boundary of this direction. */
  inject(b: Buffer): void {
    this.injections.push(b);
    this.flush();
  }

  flush(): void {
    // through the loader, whether the direction is handed over is read once more before waiting for bytes
    if (this.injections.length > 0 && !this.handedOver() && this.kernel.fresh !== undefined && !this.reading) return this.readAgain(() => this.flushKnown());
    this.flushKnown();
  }

  private flushKnown(): void {
    if (this.injections.length === 0 || !this.handedOver() || this.read < this.from!) return;
    this.write(Buffer.concat(this.injections.splice(0)));
  }

  /**
   * Writes the take-back trigger to `dst` and holds every later write until `release()`: the
   * kernel cuts the trigger off as the LAST byte of what it receives, so nothing may follow it
   * before the kernel saw it.
   */
  trigger(): void {
    this.held ??= [];
    if (!this.dst.destroyed) this.dst.write(TRIGGER);
  }

  release(): void {
    const held = this.held;
    this.held = undefined;
    if (held !== undefined && held.length > 0) this.write(Buffer.concat(held));
  }

  private write(b: Buffer): void {
    if (this.held !== undefined) {
      this.held.push(Buffer.from(b));
      return;
    }
    if (this.dst.destroyed) return;
    if (!this.dst.write(b) && !this.waiting) {
      // the slow side holds the fast one back (TCP flow control reaches the sender)
      this.waiting = true;
      this.src.pause();
      this.dst.once('drain', () => {
        this.waiting = false;
        this.src.resume();
      });
    }
  }
}
