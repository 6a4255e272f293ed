/**
 * BFD for the BGP peers (RFC 5881, single hop): one session per peer with BFD configured,
 * Control packets to UDP 3784 from a source port in 49152..65535 with TTL 255, received on
 * port 3784 (one socket per address family) and matched by Your Discriminator, or by source
 * address while the peer does not know ours. A session going from Up to Down takes the BGP
 * session down (`Peer.bfdDown`).
 *
 * Node's dgram sockets cannot report the TTL of a received packet (no IP_RECVTTL), so the
 * GTSM check of RFC 5881 §5 (drop packets whose TTL is not 255) is not made on receipt.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { errorMessage } from '@netaccel/errors';
import { NA_ERR_BGPD_BFD_SOCKET } from '../errors.js';
import type { Logger } from '@netaccel/telemetry';
import type { PeerSettings } from '../peer-config.js';
import type { Speaker } from '../speaker.js';
import { plainAddress } from '../speaker.js';
import type { Clock, Random } from '../timers.js';
import type { BfdStateName } from './packet.js';
import { decodeControl } from './packet.js';
import { BfdSession } from './session.js';

export const BFD_PORT = 3784;
const SRC_PORT_MIN = 49152;
const SRC_PORT_MAX = 65535;

interface Entry {
  readonly address: string;
  readonly session: BfdSession;
  readonly tx: dgram.Socket;
}

export interface BfdManagerDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
}

export class BfdManager {
  private readonly byAddress = new Map<string, Entry>();
  private readonly byDiscriminator = new Map<number, Entry>();
  private readonly rx = new Map<4 | 6, dgram.Socket>();

  constructor(
    private readonly speaker: Speaker,
    private readonly deps: BfdManagerDeps,
  ) {}

  get size(): number {
    return this.byAddress.size;
  }

  /** The session of a peer, for status and tests. */
  session(address: string): BfdSession | undefined {
    return this.byAddress.get(address)?.session;
  }

  private discriminator(): number {
    for (;;) {
      const d = 1 + Math.floor(this.deps.random() * 0xfffffffe);
      if (!this.byDiscriminator.has(d)) return d;
    }
  }

  private receiver(family: 4 | 6): void {
    if (this.rx.has(family)) return;
    const sock = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', reuseAddr: true, ipv6Only: family === 6 });
    sock.on('message', (msg, rinfo) => this.packet(msg, plainAddress(rinfo.address)));
    sock.on('error', (err) => this.deps.log.error({ err: NA_ERR_BGPD_BFD_SOCKET.with({ cause: err }, `port ${BFD_PORT}`, err.message) }, 'BFD receive socket failed'));
    sock.bind(BFD_PORT, family === 6 ? '::' : '0.0.0.0');
    sock.unref();
    this.rx.set(family, sock);
  }

  private packet(msg: Buffer, from: string): void {
    const p = decodeControl(msg);
    if (typeof p === 'string') {
      this.deps.log.debug({ from, reason: p }, 'BFD packet discarded');
      return;
    }
    const e = p.yourDiscriminator !== 0 ? this.byDiscriminator.get(p.yourDiscriminator) : this.byAddress.get(from);
    if (e === undefined || e.address !== from) return;
    e.session.receive(p);
  }

  private transmitter(s: PeerSettings, onReady: (sock: dgram.Socket) => void): dgram.Socket {
    const v6 = isIPv6(s.address);
    const sock = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4' });
    let attempts = 0;
    const tryBind = (): void => {
      attempts++;
      const port = SRC_PORT_MIN + Math.floor(this.deps.random() * (SRC_PORT_MAX - SRC_PORT_MIN + 1));
      sock.bind({ port, ...(s.localAddress === undefined ? {} : { address: s.localAddress }), exclusive: true });
    };
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' && attempts < 20) return tryBind();
      this.deps.log.error({ peer: s.address, err: NA_ERR_BGPD_BFD_SOCKET.with({ cause: err }, s.address, errorMessage(err)) }, 'BFD socket failed');
    });
    sock.on('listening', () => {
      sock.setTTL(255);
      onReady(sock);
    });
    tryBind();
    sock.unref();
    return sock;
  }

  add(s: PeerSettings): void {
    const bfd = s.bfd;
    if (bfd === undefined || this.byAddress.has(s.address)) return;
    this.receiver(isIPv6(s.address) ? 6 : 4);
    const entry = this.speaker.peers.get(s.address);
    let ready = false;
    const tx = this.transmitter(s, () => {
      ready = true;
      session.start();
    });
    const session = new BfdSession(
      { desiredMinTx: bfd.minTxUs, requiredMinRx: bfd.minRxUs, detectMult: bfd.multiplier, localDiscriminator: this.discriminator() },
      this.deps.clock,
      this.deps.random,
      (pkt) => {
        if (ready) tx.send(pkt, BFD_PORT, s.address);
      },
      (prev, next, diag) => this.changed(s.address, prev, next, diag),
    );
    const e: Entry = { address: s.address, session, tx };
    this.byAddress.set(s.address, e);
    this.byDiscriminator.set(session.opts.localDiscriminator, e);
    if (entry !== undefined) entry.bfdState = session.state;
  }

  private changed(address: string, prev: BfdStateName, next: BfdStateName, diag: string): void {
    const entry = this.speaker.peers.get(address);
    if (entry !== undefined) entry.bfdState = next;
    this.deps.log.info({ peer: address, prev, next, diag }, 'bfd state change');
    this.speaker.emit('bfd', { address, prev, next, reason: diag });
    if (prev === 'up' && next !== 'up') entry?.peer.bfdDown(diag);
  }

  remove(address: string): void {
    const e = this.byAddress.get(address);
    if (e === undefined) return;
    e.session.adminDown();
    e.session.stop();
    e.tx.close();
    this.byAddress.delete(address);
    this.byDiscriminator.delete(e.session.opts.localDiscriminator);
    const entry = this.speaker.peers.get(address);
    if (entry !== undefined) entry.bfdState = undefined;
  }

  stopAll(): void {
    for (const a of [...this.byAddress.keys()]) this.remove(a);
    for (const s of this.rx.values()) s.close();
    this.rx.clear();
  }
}
