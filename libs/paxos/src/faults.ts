/**
 * Fault injection around a transport, for tests and the lab: outgoing datagrams are dropped,
 * duplicated, reordered or delayed by a seeded generator (seededRandom of @netaccel/protocol: one
 * seed gives the same decisions for the same sequence of sends), and peers can be cut off.
 */
import { seededRandom } from '@netaccel/protocol';
import { NA_ERR_PAXOS_INVALID_OPTIONS } from './errors.js';
import type { DatagramHandler, Peer, Transport } from './transport.js';
import { peerKey } from './transport.js';

export interface FaultOptions {
  /** Seed of the generator. */
  readonly seed: number;
  /** Probability of dropping a datagram, 0..1. */
  readonly drop?: number;
  /** Probability of sending a datagram twice (the copy after a delay). */
  readonly duplicate?: number;
  /** Probability of holding a datagram back so later ones overtake it. */
  readonly reorder?: number;
  /** Extra delay of every datagram, [min, max] ms (0: none). */
  readonly delayMs?: readonly [number, number];
  /** Drops every outgoing datagram this says yes to (e.g. one message type to one peer). */
  readonly dropIf?: ((data: Buffer, to: Peer) => boolean) | null;
}

export interface FaultStats {
  sent: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  delayed: number;
  blocked: number;
}

export class FaultyTransport implements Transport {
  readonly stats: FaultStats = { sent: 0, dropped: 0, duplicated: 0, reordered: 0, delayed: 0, blocked: 0 };
  private readonly rand: () => number;
  private readonly blockedPeers = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private faults: Required<Omit<FaultOptions, 'seed'>>;
  private closed = false;

  constructor(
    private readonly inner: Transport,
    opts: FaultOptions,
  ) {
    this.rand = seededRandom(opts.seed);
    this.faults = FaultyTransport.check(opts);
  }

  private static check(opts: Omit<FaultOptions, 'seed'>): Required<Omit<FaultOptions, 'seed'>> {
    const p = (name: 'drop' | 'duplicate' | 'reorder'): number => {
      const v = opts[name] ?? 0;
      if (!(v >= 0 && v <= 1)) throw NA_ERR_PAXOS_INVALID_OPTIONS(`faults.${name}`, `expected a probability 0..1, got ${v}`);
      return v;
    };
    const delay = opts.delayMs ?? [0, 0];
    if (!(delay[0] >= 0 && delay[1] >= delay[0])) throw NA_ERR_PAXOS_INVALID_OPTIONS('faults.delayMs', `expected [min, max] with 0 <= min <= max, got [${delay.join(', ')}]`);
    return { drop: p('drop'), duplicate: p('duplicate'), reorder: p('reorder'), delayMs: delay, dropIf: opts.dropIf ?? null };
  }

  get local(): Peer {
    return this.inner.local;
  }

  /** Changes the fault rates (the generator continues). */
  setFaults(opts: Omit<FaultOptions, 'seed'>): void {
    this.faults = FaultyTransport.check(opts);
  }

  /** Drops everything to (and, on the receiving side, from) this peer until unblocked. */
  block(peer: Peer): void {
    this.blockedPeers.add(peerKey(peer));
  }

  unblock(peer: Peer): void {
    this.blockedPeers.delete(peerKey(peer));
  }

  send(data: Buffer, to: Peer): void {
    if (this.closed) return;
    this.stats.sent++;
    if (this.blockedPeers.has(peerKey(to))) {
      this.stats.blocked++;
      return;
    }
    const f = this.faults;
    if (f.dropIf?.(data, to) === true) {
      this.stats.dropped++;
      return;
    }
    if (this.rand() < f.drop) {
      this.stats.dropped++;
      return;
    }
    let delay = f.delayMs[1] > 0 ? f.delayMs[0] + this.rand() * (f.delayMs[1] - f.delayMs[0]) : 0;
    if (delay > 0) this.stats.delayed++;
    if (this.rand() < f.reorder) {
      this.stats.reordered++;
      delay += 1 + this.rand() * 5;
    }
    this.later(delay, Buffer.from(data), to);
    if (this.rand() < f.duplicate) {
      this.stats.duplicated++;
      this.later(delay + 1 + this.rand() * 3, Buffer.from(data), to);
    }
  }

  private later(delay: number, data: Buffer, to: Peer): void {
    if (delay <= 0) {
      this.inner.send(data, to);
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) this.inner.send(data, to);
    }, delay);
    this.timers.add(t);
  }

  onMessage(handler: DatagramHandler): void {
    this.inner.onMessage((data, from) => {
      if (this.blockedPeers.has(peerKey(from))) {
        this.stats.blocked++;
        return;
      }
      handler(data, from);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.inner.close();
  }
}
