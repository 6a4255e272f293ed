/**
 * The client's UDP side: one socket per address family, request ids, a reply matched by its
 * request id (a write's reply comes from the tail, not from the head it was sent to), a timeout
 * per attempt. Retries and the choice of node are the client's (client.ts).
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { craq, ipFamily } from '@netaccel/protocol';
import type { Endpoint } from './data-plane.js';
import { NA_ERR_CRAQCLIENT_CLOSED } from './errors.js';

interface Waiter {
  readonly resolve: (m: craq.CraqMessage | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

export interface TransportStats {
  sent: number;
  received: number;
  /** Replies nobody waited for any more (late, duplicate) or that did not decode. */
  unmatched: number;
  malformed: number;
}

export class CraqTransport {
  readonly stats: TransportStats = { sent: 0, received: 0, unmatched: 0, malformed: 0 };
  readonly #sockets = new Map<4 | 6, Promise<Socket>>();
  readonly #waiting = new Map<bigint, Waiter>();
  /** Request ids: a random 32-bit prefix per client, then a counter (unique across clients with high probability). */
  #nextId: bigint;
  #closed = false;

  constructor() {
    this.#nextId = BigInt(randomBytes(4).readUInt32BE(0)) << 32n;
  }

  /** A fresh request id. */
  nextRequestId(): bigint {
    this.#nextId = (this.#nextId + 1n) & 0xffffffffffffffffn;
    return this.#nextId;
  }

  #socket(family: 4 | 6): Promise<Socket> {
    let s = this.#sockets.get(family);
    if (s === undefined) {
      s = new Promise<Socket>((resolve, reject) => {
        const sock = createSocket(family === 6 ? 'udp6' : 'udp4');
        sock.once('error', reject);
        sock.on('message', (buf) => this.#receive(buf));
        sock.bind(0, () => {
          sock.off('error', reject);
          sock.on('error', () => undefined); // ICMP unreachable and the like: the attempt times out
          sock.unref();
          resolve(sock);
        });
      });
      this.#sockets.set(family, s);
    }
    return s;
  }

  #receive(buf: Buffer): void {
    let m: craq.CraqMessage;
    try {
      m = craq.decodeCraq(buf);
    } catch {
      this.stats.malformed++;
      return;
    }
    const w = this.#waiting.get(m.reqId);
    if (w === undefined || craq.craqReplyOp(m.op) !== undefined || (m.op & 0x80) === 0) {
      this.stats.unmatched++;
      return;
    }
    this.stats.received++;
    this.#waiting.delete(m.reqId);
    clearTimeout(w.timer);
    w.resolve(m);
  }

  /** Sends one request and waits for its reply: the reply, or undefined after `timeoutMs`. */
  async request(to: Endpoint, message: craq.CraqMessage, timeoutMs: number): Promise<craq.CraqMessage | undefined> {
    if (this.#closed) throw NA_ERR_CRAQCLIENT_CLOSED();
    const family = ipFamily(to.address) === 6 ? 6 : 4;
    const sock = await this.#socket(family);
    const bytes = craq.encodeCraq(message);
    const reply = new Promise<craq.CraqMessage | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(message.reqId);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(message.reqId, { resolve, timer });
    });
    this.stats.sent++;
    sock.send(bytes, to.port, to.address);
    return reply;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.#waiting.clear();
    const socks = await Promise.allSettled([...this.#sockets.values()]);
    this.#sockets.clear();
    await Promise.all(socks.map((s) => (s.status === 'fulfilled' ? new Promise<void>((r) => s.value.close(() => r())) : undefined)));
  }
}
