/**
 * A client of a replica group: one request outstanding at a time (VR's client model, which the
 * client table's at-most-once execution relies on), sent to the leader it believes current; a
 * NOT_LEADER reply redirects it, silence makes it re-send the same request id (the first re-send
 * to that leader, a lost datagram; later ones to every replica, the leader may be gone), and the
 * deadline ends it with NA_ERR_PAXOS_TIMEOUT (outcome unknown: it may still execute).
 * The re-send timeout adapts to the latency the client measures (rto.ts' RetransmitTimeout: RFC
 * 6298's estimator, Karn's rule — a re-sent request gives no sample —, a doubling back-off until
 * the next sample), within [retryMs, retryMaxMs]. retryMs stays the floor, so the client never
 * re-sends earlier than a fixed retryMs timer did: a group that answers slower than retryMs
 * (queued, not lost: bench/paxos' paced points where a configuration falls behind) no longer
 * gets every request again from every client, n datagrams each, which deepened its queue.
 * Sessions (log.ts): before its first request the client registers — a REGISTER request under a
 * random 63-bit id, executed through the log, whose reply carries the session's client id — and
 * numbers its requests SESSION_FIRST, SESSION_FIRST + 1, ... under that id. When the group has
 * no row for the session (evicted), a request is answered SESSION_EXPIRED instead of executed:
 * it fails with NA_ERR_PAXOS_SESSION_EXPIRED and the next request registers a new session.
 */
import { randomBytes } from 'node:crypto';
import { ipFamily, paxos } from '@netaccel/protocol';
import { NA_ERR_PAXOS_BAD_REGISTRATION, NA_ERR_PAXOS_CLOSED, NA_ERR_PAXOS_INVALID_OPTIONS, NA_ERR_PAXOS_OP_TOO_LARGE, NA_ERR_PAXOS_REJECTED, NA_ERR_PAXOS_SESSION_EXPIRED, NA_ERR_PAXOS_TIMEOUT } from './errors.js';
import { SESSION_BIT, SESSION_FIRST, SESSION_REGISTER } from './log.js';
import { RetransmitTimeout } from './rto.js';
import type { Peer, Transport } from './transport.js';
import { udpTransport } from './transport.js';

const { PaxosType, ReplyStatus } = paxos;

export interface ClientOptions {
  readonly replicas: readonly Peer[];
  /**
   * The id the client's first registration is sent under (below 2^63: ids with the top bit are
   * the sessions the log assigns). Default: 63 random bits; later registrations (after a
   * SESSION_EXPIRED) use new random ones.
   */
  readonly clientId?: bigint;
  /** The least re-send timeout (ms): until a latency is measured, and the floor after (default 100). */
  readonly retryMs?: number;
  /** The most re-send timeout (ms), back-off included (default max(2000, retryMs)). */
  readonly retryMaxMs?: number;
  /** Give up after this long (ms). */
  readonly timeoutMs?: number;
  /** Default: a UDP socket on an ephemeral port of the replicas' family. */
  readonly transport?: Transport;
}

const DEFAULTS = {
  retryMs: 100, // re-send after 100 ms without a reply until a latency is measured; the timeout's floor
  retryMaxMs: 2000, // the back-off's ceiling: a lost request of a slow group still re-sent within 2 s
  timeoutMs: 5000, // a request fails (outcome unknown) after 5 s
} as const;

interface Outstanding {
  readonly clientId: bigint;
  readonly requestId: bigint;
  readonly bytes: Buffer;
  readonly resolve: (result: Buffer) => void;
  readonly reject: (err: Error) => void;
  readonly started: number;
  sentAt: number;
  /** Re-sends by the timer (0: a reply is a latency sample, Karn's rule). */
  resends: number;
}

const EMPTY = Buffer.alloc(0);

/** 63 random bits: an id to register under (outside the sessions' ids). */
function registrant(): bigint {
  return randomBytes(8).readBigUInt64BE(0) & (SESSION_BIT - 1n);
}

export class PaxosClient {
  /** The registered session's client id; null before the first registration and after SESSION_EXPIRED. */
  private session: bigint | null = null;
  /** The id the next registration is sent under. */
  private registrant: bigint;
  private leader = 0;
  private view = 0;
  private nextRequestId = SESSION_FIRST;
  private current: Outstanding | null = null;
  private readonly waiting: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly rto: RetransmitTimeout;

  private constructor(
    private readonly replicas: readonly Peer[],
    private readonly transport: Transport,
    clientId: bigint,
    retryMs: number,
    retryMaxMs: number,
    private readonly timeoutMs: number,
  ) {
    this.registrant = clientId;
    this.rto = new RetransmitTimeout(retryMs, retryMaxMs);
    transport.onMessage((data) => this.onReply(data));
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(retryMs / 4)));
  }

  static async create(opts: ClientOptions): Promise<PaxosClient> {
    if (!Array.isArray(opts.replicas) || opts.replicas.length === 0) throw NA_ERR_PAXOS_INVALID_OPTIONS('replicas', 'expected at least one replica');
    const family = ipFamily(opts.replicas[0]!.address);
    if (family === undefined) throw NA_ERR_PAXOS_INVALID_OPTIONS('replicas[0].address', `expected an IP address, got ${JSON.stringify(opts.replicas[0]!.address)}`);
    const num = (name: 'retryMs' | 'retryMaxMs' | 'timeoutMs', dflt: number = DEFAULTS[name]): number => {
      const v = opts[name] ?? dflt;
      if (!Number.isInteger(v) || v < 1) throw NA_ERR_PAXOS_INVALID_OPTIONS(name, `expected a positive integer, got ${String(v)}`);
      return v;
    };
    const clientId = opts.clientId ?? registrant();
    if (typeof clientId !== 'bigint' || clientId < 0n || clientId >= SESSION_BIT) throw NA_ERR_PAXOS_INVALID_OPTIONS('clientId', 'expected a bigint from 0 to 2^63 - 1 (ids from 2^63 are sessions the group assigns)');
    const retryMs = num('retryMs');
    const retryMaxMs = num('retryMaxMs', Math.max(DEFAULTS.retryMaxMs, retryMs));
    if (retryMaxMs < retryMs) throw NA_ERR_PAXOS_INVALID_OPTIONS('retryMaxMs', `expected at least retryMs (${retryMs}), got ${retryMaxMs}`);
    const transport = opts.transport ?? (await udpTransport({ address: family === 4 ? '0.0.0.0' : '::', port: 0 }));
    return new PaxosClient(opts.replicas, transport, clientId, retryMs, retryMaxMs, num('timeoutMs'));
  }

  /** Replicates and executes one operation; resolves with the state machine's result. */
  async invoke(op: Buffer): Promise<Buffer> {
    if (this.closed) throw NA_ERR_PAXOS_CLOSED(`client ${this.clientId}`);
    if (op.length > paxos.PAXOS_MAX_OP) throw NA_ERR_PAXOS_OP_TOO_LARGE('op', op.length, paxos.PAXOS_MAX_OP);
    while (this.current !== null) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.closed) throw NA_ERR_PAXOS_CLOSED(`client ${this.clientId}`);
    // the registration and the request share the deadline (this.current stays set between them)
    const started = performance.now();
    try {
      const session = this.session ?? (await this.register(started));
      return await this.exchange(session, this.nextRequestId++, op, started);
    } finally {
      this.current = null;
      this.waiting.shift()?.();
    }
  }

  /** Registers a new session (a REGISTER through the log); returns its client id. */
  private async register(started: number): Promise<bigint> {
    const result = await this.exchange(this.registrant, SESSION_REGISTER, EMPTY, started);
    // a later registration goes under a new id: this one's row answers with this session
    this.registrant = registrant();
    if (result.length !== 8 || (result[0]! & 0x80) === 0) throw NA_ERR_PAXOS_BAD_REGISTRATION(String(SESSION_REGISTER), result.length === 0 ? 'nothing' : `0x${result.toString('hex')}`);
    this.session = result.readBigUInt64BE(0);
    this.nextRequestId = SESSION_FIRST;
    return this.session;
  }

  /** Sends one request (retried, redirected) until its reply or the deadline. */
  private exchange(clientId: bigint, requestId: bigint, payload: Buffer, started: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(NA_ERR_PAXOS_CLOSED(`client ${clientId}`));
    const bytes = paxos.encodePaxos({ type: PaxosType.Request, view: this.view, clientId, requestId, payload });
    return new Promise<Buffer>((resolve, reject) => {
      this.current = { clientId, requestId, bytes, resolve, reject, started, sentAt: performance.now(), resends: 0 };
      this.transport.send(bytes, this.replicas[this.leader]!);
    });
  }

  /** The client id of the current session (before one is registered: the id the registration goes under). */
  get clientId(): bigint {
    return this.session ?? this.registrant;
  }

  /** The re-send timeout now (ms): the measured latency's, backed off after re-sends. */
  get retryTimeoutMs(): number {
    return this.rto.ms;
  }

  /** The replica the client believes is the leader. */
  get leaderGuess(): number {
    return this.leader;
  }

  private onReply(data: Buffer): void {
    let m: paxos.PaxosMessage;
    try {
      m = paxos.decodePaxos(data);
    } catch {
      return;
    }
    const c = this.current;
    if (m.type !== PaxosType.Reply || c === null || m.clientId !== c.clientId || m.requestId !== c.requestId) return;
    if (m.view > this.view) this.view = m.view;
    if (m.status === ReplyStatus.NotLeader) {
      const leader = m.result[0]!;
      if (leader < this.replicas.length && leader !== this.leader) {
        this.leader = leader;
        c.sentAt = performance.now();
        this.transport.send(c.bytes, this.replicas[leader]!);
      }
      return;
    }
    this.leader = m.sender;
    // Karn's rule: after a re-send the reply may answer any copy, so it measures nothing. A
    // redirect restarted sentAt: the new leader saw only that copy.
    if (c.resends === 0) this.rto.sample(performance.now() - c.sentAt);
    if (m.status === ReplyStatus.Ok) c.resolve(Buffer.from(m.result));
    else if (m.status === ReplyStatus.SessionExpired) {
      if (this.session === c.clientId) this.session = null;
      c.reject(NA_ERR_PAXOS_SESSION_EXPIRED(String(c.requestId), String(c.clientId)));
    } else c.reject(NA_ERR_PAXOS_REJECTED(String(c.requestId), String(c.clientId), m.result.toString()));
  }

  private tick(): void {
    const c = this.current;
    if (c === null) return;
    const now = performance.now();
    if (now - c.started >= this.timeoutMs) {
      c.reject(NA_ERR_PAXOS_TIMEOUT(String(c.requestId), String(c.clientId), this.timeoutMs));
      return;
    }
    if (now - c.sentAt >= this.rto.ms) {
      c.sentAt = now;
      c.resends++;
      this.rto.timedOut();
      if (c.resends === 1) this.transport.send(c.bytes, this.replicas[this.leader]!);
      else for (const p of this.replicas) this.transport.send(c.bytes, p);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.current?.reject(NA_ERR_PAXOS_CLOSED(`client ${this.clientId}`));
    for (const w of this.waiting.splice(0)) w();
    await this.transport.close();
  }
}
