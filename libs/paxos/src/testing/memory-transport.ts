/**
 * A transport that records what is sent instead of sending it, for the unit tests of single
 * protocol steps (the cluster tests use real UDP sockets).
 */
import { paxos } from '@netaccel/protocol';
import type { DatagramHandler, Peer, Transport } from '../transport.js';
import { peerKey } from '../transport.js';

export interface SentDatagram {
  readonly to: Peer;
  readonly data: Buffer;
  readonly message: paxos.PaxosMessage;
}

export class MemoryTransport implements Transport {
  readonly sent: SentDatagram[] = [];
  private handler: DatagramHandler = () => undefined;
  closed = false;

  constructor(readonly local: Peer) {}

  send(data: Buffer, to: Peer): void {
    this.sent.push({ to, data: Buffer.from(data), message: paxos.decodePaxos(data) });
  }

  onMessage(handler: DatagramHandler): void {
    this.handler = handler;
  }

  /** Delivers a datagram as if it came from `from`. */
  deliver(data: Buffer, from: Peer): void {
    this.handler(data, from);
  }

  /** Takes (and forgets) what was sent so far, optionally only to `to`. */
  take(to?: Peer): SentDatagram[] {
    const out = to === undefined ? this.sent.splice(0) : this.sent.filter((s) => peerKey(s.to) === peerKey(to));
    if (to !== undefined) for (const s of out) this.sent.splice(this.sent.indexOf(s), 1);
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
