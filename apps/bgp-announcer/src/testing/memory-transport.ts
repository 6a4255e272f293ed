/**
 * In-memory connections for FSM tests: a pair of `BgpConnection`s whose writes arrive at the
 * other end on the next microtask (never re-entrantly), and a dialer whose outcome each test
 * decides. `flush()` lets queued deliveries run.
 */
import type { BgpConnection, DialOptions, Dialer } from '../transport.js';

export class MemoryConnection implements BgpConnection {
  peer: MemoryConnection | undefined;
  private dataCb: ((chunk: Buffer) => void) | undefined;
  private closeCb: ((err?: Error) => void) | undefined;
  closed = false;
  /** Everything written, for assertions. */
  readonly written: Buffer[] = [];

  constructor(
    readonly localAddress: string,
    readonly localPort: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  write(data: Buffer): void {
    if (this.closed) return;
    this.written.push(data);
    const p = this.peer;
    queueMicrotask(() => {
      if (p !== undefined && !p.closed) p.dataCb?.(data);
    });
  }

  end(): void {
    this.shut();
  }

  destroy(): void {
    this.shut();
  }

  private shut(): void {
    if (this.closed) return;
    this.closed = true;
    const p = this.peer;
    queueMicrotask(() => p?.remoteClosed());
  }

  /** The other side closed. */
  remoteClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCb?.();
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.dataCb = cb;
  }

  onClose(cb: (err?: Error) => void): void {
    this.closeCb = cb;
  }

  /** Delivers bytes as if the other side wrote them. */
  inject(data: Buffer): void {
    queueMicrotask(() => {
      if (!this.closed) this.dataCb?.(data);
    });
  }
}

/** Two connected ends: `a` at addrA, `b` at addrB. */
export function memoryPair(addrA: string, portA: number, addrB: string, portB: number): [MemoryConnection, MemoryConnection] {
  const a = new MemoryConnection(addrA, portA, addrB, portB);
  const b = new MemoryConnection(addrB, portB, addrA, portA);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export interface PendingDial {
  readonly opts: DialOptions;
  cancelled: boolean;
  succeed(conn: BgpConnection): void;
  fail(err: Error): void;
}

/** A dialer that records attempts; the test completes them. */
export class ScriptedDialer implements Dialer {
  readonly attempts: PendingDial[] = [];

  dial(opts: DialOptions, done: (err: Error | undefined, conn: BgpConnection | undefined) => void): () => void {
    let finished = false;
    const p: PendingDial = {
      opts,
      cancelled: false,
      succeed: (conn) => {
        if (finished || p.cancelled) return;
        finished = true;
        done(undefined, conn);
      },
      fail: (err) => {
        if (finished || p.cancelled) return;
        finished = true;
        done(err, undefined);
      },
    };
    this.attempts.push(p);
    return () => {
      p.cancelled = true;
    };
  }

  get last(): PendingDial | undefined {
    return this.attempts[this.attempts.length - 1];
  }
}

/** Lets queued microtask deliveries (and what they trigger) run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
