/**
 * FSM test harness: a Peer on a fake clock and scripted dialer, and a scripted remote speaker
 * (codecs from @netaccel/protocol) on the other end of an in-memory connection.
 */
import { bgp, seededRandom } from '@netaccel/protocol';
import type { BgpState, PeerHandlers } from '../fsm.js';
import { Peer } from '../fsm.js';
import type { PeerSettings } from '../peer-config.js';
import { FakeClock } from './fake-clock.js';
import type { MemoryConnection } from './memory-transport.js';
import { ScriptedDialer, flush, memoryPair } from './memory-transport.js';
import { silentLogger } from '@netaccel/errors';

export const LOCAL = '10.0.0.2';
export const REMOTE = '10.0.0.1';

export function settings(over: Partial<PeerSettings> = {}): PeerSettings {
  return {
    address: REMOTE,
    port: 179,
    remoteAs: 65000,
    localAs: 65001,
    routerId: '10.0.0.2',
    localAddress: undefined,
    holdTime: 9,
    connectRetryMs: 1000,
    idleHoldMs: 500,
    passive: false,
    ttl: undefined,
    password: undefined,
    families: ['ipv4-unicast'],
    addPath: false,
    gracefulRestart: undefined,
    bfd: undefined,
    nextHop: {},
    updateRate: 0,
    updateBurst: 100,
    description: '',
    ...over,
  };
}

/** The remote speaker's end: decodes what the peer sends, sends what the test wants. */
export class Remote {
  readonly received: bgp.ReceivedMessage[] = [];
  private readonly framer = new bgp.BgpFramer();
  ctx: bgp.SessionContext = bgp.DEFAULT_CONTEXT;

  constructor(readonly conn: MemoryConnection) {
    conn.onData((chunk) => {
      this.framer.push(chunk);
      for (let m = this.framer.next(); m !== null; m = this.framer.next()) this.received.push(bgp.decodeMessage(m, this.ctx)!.message);
    });
  }

  send(msg: bgp.BgpMessage): void {
    this.conn.write(bgp.encodeMessage(msg, this.ctx));
  }

  raw(bytes: Buffer): void {
    this.conn.write(bytes);
  }

  types(): string[] {
    return this.received.map((m) => m.type);
  }

  last<T extends bgp.ReceivedMessage['type']>(type: T): Extract<bgp.ReceivedMessage, { type: T }> | undefined {
    return this.received.filter((m) => m.type === type).pop() as Extract<bgp.ReceivedMessage, { type: T }> | undefined;
  }

  open(opts: Partial<bgp.OpenOptions> = {}): bgp.OpenMessage {
    return bgp.open({ asn: 65000, routerId: '10.0.0.1', holdTime: 9, families: ['ipv4-unicast'], ...opts } as bgp.OpenOptions);
  }
}

export interface Transition {
  prev: BgpState;
  next: BgpState;
  reason: string;
}

export class Harness {
  readonly clock = new FakeClock();
  readonly dialer = new ScriptedDialer();
  readonly transitions: Transition[] = [];
  readonly peer: Peer;
  readonly events: string[] = [];

  constructor(over: Partial<PeerSettings> = {}, handlers: PeerHandlers = {}) {
    const log = silentLogger;
    this.peer = new Peer(settings(over), {
      clock: this.clock,
      random: seededRandom(42),
      dialer: this.dialer,
      log,
      handlers: {
        ...handlers,
        stateChanged: (p, prev, next, reason) => {
          this.transitions.push({ prev, next, reason });
          handlers.stateChanged?.(p, prev, next, reason);
        },
        established: (p, s) => {
          this.events.push('established');
          handlers.established?.(p, s);
        },
        down: (p, s, r) => {
          this.events.push(`down:${r.code}`);
          handlers.down?.(p, s, r);
        },
      },
    });
  }

  states(): BgpState[] {
    return this.transitions.map((t) => t.next);
  }

  /** Completes the pending outgoing dial with a fresh in-memory connection; answers the remote end. */
  async connectOut(): Promise<Remote> {
    const [a, b] = memoryPair(LOCAL, 40000 + this.dialer.attempts.length, REMOTE, 179);
    const remote = new Remote(b);
    this.dialer.last!.succeed(a);
    await flush();
    return remote;
  }

  /** An incoming connection from the remote speaker. */
  async connectIn(): Promise<{ remote: Remote; accepted: boolean }> {
    const [a, b] = memoryPair(LOCAL, 179, REMOTE, 50000);
    const remote = new Remote(b);
    const accepted = this.peer.accept(a);
    await flush();
    return { remote, accepted };
  }

  /** Drives an outgoing session to Established; answers the remote end. */
  async establish(openOpts: Partial<bgp.OpenOptions> = {}): Promise<Remote> {
    this.peer.start();
    const remote = await this.connectOut();
    const o = remote.open(openOpts);
    remote.send(o);
    await flush();
    remote.ctx = bgp.negotiate(o, remote.received.find((m) => m.type === 'open') as bgp.OpenMessage);
    remote.send(bgp.keepalive());
    await flush();
    return remote;
  }

  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await flush();
  }
}

export { flush };
