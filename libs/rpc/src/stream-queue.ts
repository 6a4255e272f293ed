/**
 * A push-to-pull queue for server-streaming handlers that forward events (WatchPeers, health
 * Watch): the handler pushes as events happen and returns the queue, which the server reads as
 * an async iterable. It ends when the call's signal aborts (client gone, deadline, shutdown),
 * when the handler calls end() or fail(), or when a slow reader lets more than `maxBuffered`
 * items pile up (then it fails with NA_ERR_RPC_STREAM_OVERFLOW, RESOURCE_EXHAUSTED on the wire,
 * instead of growing without bound).
 *
 *   watchPeers: (req, ctx) => {
 *     const q = new StreamQueue<PeerEvent>({ signal: ctx.signal, onClose: () => fsm.off('change', push) });
 *     const push = (e: PeerEvent) => q.push(e);
 *     fsm.on('change', push);
 *     return q;
 *   }
 */
import { NA_ERR_RPC_INVALID_OPTIONS, NA_ERR_RPC_STREAM_OVERFLOW } from './errors.js';

export interface StreamQueueOptions {
  /** Ends the queue when aborted (pass the handler's ctx.signal). */
  readonly signal?: AbortSignal;
  /** Items allowed to wait for the reader before the queue fails. Default 1000. */
  readonly maxBuffered?: number;
  /** Called once when the queue closes for any reason: unsubscribe here. */
  readonly onClose?: () => void;
}

const DEFAULT_MAX_BUFFERED = 1000; // items

export class StreamQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly maxBuffered: number;
  private readonly onClose: (() => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => this.end();
  private wake: (() => void) | undefined;
  private failure: { error: unknown } | undefined;
  private ended = false;
  private iterating = false;

  constructor(opts: StreamQueueOptions = {}) {
    const max = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    if (!Number.isInteger(max) || max < 1) throw NA_ERR_RPC_INVALID_OPTIONS('maxBuffered', `expected a whole number >= 1, got ${max}`);
    this.maxBuffered = max;
    this.onClose = opts.onClose;
    this.signal = opts.signal;
    if (this.signal?.aborted === true) this.end();
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** True once end() or fail() was called or the signal aborted; pushes are then ignored. */
  get closed(): boolean {
    return this.ended;
  }

  /** Items waiting for the reader. */
  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.ended) return;
    if (this.items.length >= this.maxBuffered) {
      this.fail(NA_ERR_RPC_STREAM_OVERFLOW(this.maxBuffered));
      return;
    }
    this.items.push(item);
    this.notify();
  }

  /** Ends the stream after the items already pushed. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.notify();
    this.onClose?.();
  }

  /** Ends the stream with an error (the call fails with its status); waiting items are dropped. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.items.length = 0;
    this.end();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterating) throw NA_ERR_RPC_INVALID_OPTIONS('StreamQueue', 'has one reader; it is already being read');
    this.iterating = true;
    try {
      while (true) {
        if (this.items.length > 0) {
          yield this.items.shift()!;
          continue;
        }
        if (this.failure !== undefined) throw this.failure.error;
        if (this.ended) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      this.end(); // the reader stopped (break, return, error): unsubscribe
    }
  }
}
