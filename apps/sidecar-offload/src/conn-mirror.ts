/**
 * The kernel's per-socket state as the proxy follows it through ebpf-loader (`kernel.via:
 * loader`, kernel-loader.ts): a mirror of the `conns` and `takeback` entries of the sockets of
 * spliced connections, read in batches.
 *
 * Every read asked in one turn of the event loop goes out as ONE MapLookupBatch per map, sent
 * from `setImmediate` (after the turn's socket reads): N spliced connections with bytes in user
 * space in the same turn cost one round trip to the loader, not N, and a connection the kernel
 * carries socket to socket costs none (its pipes see no bytes). `conn()` answers the last read
 * at once (what splice.ts and the connection list use); `fresh(key)` resolves once a read asked
 * after the call is in, so bytes that arrived before it are judged with state read after them.
 */
import { decodeConn, encodeSockKey } from '@netaccel/bpf-programs/sidecar';
import type { ConnState, SockKey } from '@netaccel/bpf-programs/sidecar';

/** Reads many keys of one map, values aligned with the keys (undefined: absent). */
export type ReadMany = (keys: Buffer[]) => Promise<(Buffer | undefined)[]>;

/** Keys whose last value a mirror keeps, at most (the kernel's sockhash holds 65,536 sockets). */
const MAX_KEPT = 65_536;

interface Waiting {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

function waiting(): Waiting {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The reads of one map, batched per turn of the event loop; the last value of each key read. */
export class BatchedReads {
  /** Last value read, by key (hex); absent keys are not kept. */
  readonly last = new Map<string, Buffer>();
  /** Round trips made, and keys read in them (how much batching saved). */
  batches = 0;
  keysRead = 0;
  private readonly asked = new Map<string, Buffer>();
  private next: Waiting | undefined;

  constructor(private readonly readMany: ReadMany) {}

  /** Resolves once `key` was read in a batch sent after this call (rejects when the batch fails). */
  ask(key: Buffer): Promise<void> {
    this.asked.set(key.toString('hex'), key);
    if (this.next === undefined) {
      this.next = waiting();
      setImmediate(() => void this.send());
    }
    return this.next.promise;
  }

  /** Stops keeping a key's value (its socket is gone). */
  drop(key: Buffer): void {
    this.last.delete(key.toString('hex'));
  }

  private async send(): Promise<void> {
    const batch = this.next!;
    this.next = undefined;
    const keys = [...this.asked.values()];
    this.asked.clear();
    this.batches += 1;
    this.keysRead += keys.length;
    try {
      const values = await this.readMany(keys);
      keys.forEach((k, i) => {
        const hex = k.toString('hex');
        const v = values[i];
        this.last.delete(hex); // re-inserted last: the oldest keys are the first dropped
        if (v !== undefined) this.last.set(hex, v);
      });
      for (const hex of this.last.keys()) {
        if (this.last.size <= MAX_KEPT) break;
        this.last.delete(hex);
      }
      batch.resolve();
    } catch (err) {
      batch.reject(err);
    }
  }
}

/** The `conns` (and `takeback`) entries of the sockets the proxy follows. */
export class ConnMirror {
  readonly conns: BatchedReads;
  readonly takeback: BatchedReads;
  /** Sockets of spliced connections (both sides), read again by `refresh()`. */
  private readonly followed = new Map<string, Buffer>();

  constructor(readConns: ReadMany, readTakeback: ReadMany) {
    this.conns = new BatchedReads(readConns);
    this.takeback = new BatchedReads(readTakeback);
  }

  /** The last state read of a socket (undefined: not read yet, or not in the kernel's sockhash). */
  conn(key: SockKey): ConnState | undefined {
    const raw = this.conns.last.get(encodeSockKey(key).toString('hex'));
    return raw === undefined ? undefined : decodeConn(raw);
  }

  /** Reads a socket's state again (batched with the other reads of this turn). */
  fresh(key: SockKey): Promise<void> {
    return this.conns.ask(encodeSockKey(key));
  }

  follow(key: SockKey): void {
    const k = encodeSockKey(key);
    this.followed.set(k.toString('hex'), k);
    if (this.followed.size > MAX_KEPT) this.followed.delete(this.followed.keys().next().value!);
  }

  forget(key: SockKey): void {
    const k = encodeSockKey(key);
    this.followed.delete(k.toString('hex'));
    this.conns.drop(k);
    this.takeback.drop(k);
  }

  /** Reads every followed socket again, in one batch; a socket the kernel no longer has is forgotten. */
  async refresh(): Promise<void> {
    const keys = [...this.followed.values()];
    if (keys.length === 0) return;
    await Promise.all(keys.map((k) => this.conns.ask(k)));
    for (const k of keys) {
      const hex = k.toString('hex');
      if (!this.conns.last.has(hex)) this.followed.delete(hex);
    }
  }

  get followedCount(): number {
    return this.followed.size;
  }
}
