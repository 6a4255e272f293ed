/**
 * A client of a replica group: one request outstanding at a time (VR's client model, which the
 * client table's at-most-once execution relies on), sent to the leader it believes current; a
 * NOT_LEADER reply redirects it, silence makes it re-send the same request id to every replica,
 * and the deadline ends it with NA_ERR_PAXOS_TIMEOUT (outcome unknown: it may still execute).
 * Request ids are session-checked (log.ts SESSION_FIRST, SESSION_FIRST + 1, ...): when the group
 * evicted this client's row, a request after its first is answered SESSION_EXPIRED instead of
 * executed; the request fails with NA_ERR_PAXOS_SESSION_EXPIRED and the client starts a new
 * session (a new random client id, request ids from SESSION_FIRST again).
 */
import { randomBytes } from 'node:crypto';
import { ipFamily, paxos } from '@netaccel/protocol';
import { NA_ERR_PAXOS_CLOSED, NA_ERR_PAXOS_INVALID_OPTIONS, NA_ERR_PAXOS_OP_TOO_LARGE, NA_ERR_PAXOS_REJECTED, NA_ERR_PAXOS_SESSION_EXPIRED, NA_ERR_PAXOS_TIMEOUT } from './errors.js';
import { SESSION_FIRST } from './log.js';
import type { Peer, Transport } from './transport.js';
import { udpTransport } from './transport.js';

const { PaxosType, ReplyStatus } = paxos;

export interface ClientOptions {
  readonly replicas: readonly Peer[];
  /** Default: 64 random bits (a session that expired goes on under a new random id). */
  readonly clientId?: bigint;
  /** Re-send to every replica after this long without a reply (ms). */
  readonly retryMs?: number;
  /** Give up after this long (ms). */
  readonly timeoutMs?: number;
  /** Default: a UDP socket on an ephemeral port of the replicas' family. */
  readonly transport?: Transport;
}

const DEFAULTS = {
  retryMs: 100, // re-send to all replicas after 100 ms without a reply
  timeoutMs: 5000, // a request fails (outcome unknown) after 5 s
} as const;

interface Outstanding {
  readonly requestId: bigint;
  readonly bytes: Buffer;
  readonly resolve: (result: Buffer) => void;
  readonly reject: (err: Error) => void;
  readonly started: number;
  sentAt: number;
}

export class PaxosClient {
  private id: bigint;
  private leader = 0;
  private view = 0;
  private nextRequestId = SESSION_FIRST;
  private current: Outstanding | null = null;
  private readonly waiting: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly replicas: readonly Peer[],
    private readonly transport: Transport,
    clientId: bigint,
    private readonly retryMs: number,
    private readonly timeoutMs: number,
  ) {
    this.id = clientId;
    transport.onMessage((data) => this.onReply(data));
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(retryMs / 4)));
  }

  static async create(opts: ClientOptions): Promise<PaxosClient> {
    if (!Array.isArray(opts.replicas) || opts.replicas.length === 0) throw NA_ERR_PAXOS_INVALID_OPTIONS('replicas', 'expected at least one replica');
    const family = ipFamily(opts.replicas[0]!.address);
    if (family === undefined) throw NA_ERR_PAXOS_INVALID_OPTIONS('replicas[0].address', `expected an IP address, got ${JSON.stringify(opts.replicas[0]!.address)}`);
    const num = (name: 'retryMs' | 'timeoutMs'): number => {
      const v = opts[name] ?? DEFAULTS[name];
      if (!Number.isInteger(v) || v < 1) throw NA_ERR_PAXOS_INVALID_OPTIONS(name, `expected a positive integer, got ${String(v)}`);
      return v;
    };
    const clientId = opts.clientId ?? randomBytes(8).readBigUInt64BE(0);
    if (typeof clientId !== 'bigint' || clientId < 0n || clientId >= 1n << 64n) throw NA_ERR_PAXOS_INVALID_OPTIONS('clientId', 'expected a u64 bigint');
    const transport = opts.transport ?? (await udpTransport({ address: family === 4 ? '0.0.0.0' : '::', port: 0 }));
    return new PaxosClient(opts.replicas, transport, clientId, num('retryMs'), num('timeoutMs'));
  }

  /** Replicates and executes one operation; resolves with the state machine's result. */
  async invoke(op: Buffer): Promise<Buffer> {
    if (this.closed) throw NA_ERR_PAXOS_CLOSED(`client ${this.clientId}`);
    if (op.length > paxos.PAXOS_MAX_OP) throw NA_ERR_PAXOS_OP_TOO_LARGE('op', op.length, paxos.PAXOS_MAX_OP);
    while (this.current !== null) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.closed) throw NA_ERR_PAXOS_CLOSED(`client ${this.clientId}`);
    const requestId = this.nextRequestId++;
    const bytes = paxos.encodePaxos({ type: PaxosType.Request, view: this.view, clientId: this.clientId, requestId, payload: op });
    try {
      return await new Promise<Buffer>((resolve, reject) => {
        const now = performance.now();
        this.current = { requestId, bytes, resolve, reject, started: now, sentAt: now };
        this.transport.send(bytes, this.replicas[this.leader]!);
      });
    } finally {
      this.current = null;
      this.waiting.shift()?.();
    }
  }

  /** The client id of the current session. */
  get clientId(): bigint {
    return this.id;
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
    if (m.type !== PaxosType.Reply || m.clientId !== this.clientId || c === null || m.requestId !== c.requestId) return;
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
    if (m.status === ReplyStatus.Ok) c.resolve(Buffer.from(m.result));
    else if (m.status === ReplyStatus.SessionExpired) {
      const expired = this.id;
      this.id = randomBytes(8).readBigUInt64BE(0);
      this.nextRequestId = SESSION_FIRST;
      c.reject(NA_ERR_PAXOS_SESSION_EXPIRED(String(c.requestId), String(expired), String(this.id)));
    } else c.reject(NA_ERR_PAXOS_REJECTED(String(c.requestId), String(this.clientId), m.result.toString()));
  }

  private tick(): void {
    const c = this.current;
    if (c === null) return;
    const now = performance.now();
    if (now - c.started >= this.timeoutMs) {
      c.reject(NA_ERR_PAXOS_TIMEOUT(String(c.requestId), String(this.clientId), this.timeoutMs));
      return;
    }
    if (now - c.sentAt >= this.retryMs) {
      c.sentAt = now;
      for (const p of this.replicas) this.transport.send(c.bytes, p);
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
