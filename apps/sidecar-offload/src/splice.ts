/**
 * One client connection spliced in the kernel (README "The kernel path"): the proxy accepts it,
 * picks an upstream endpoint and the local port of its own upstream socket, pairs the client's
 * socket with the upstream's accepted socket-to-be in the kernel (`pairs`, SPLICE mode), then
 * connects. From then on two byte pipes relay whatever the kernel lets through the normal path:
 *
 * - **Raw**, until the kernel hands the connection over: the client's first sends (made before
 *   the pair existed) and any send made while the peer had not yet received all of those
 *   (the kernel's catch-up, which keeps the bytes in order) are forwarded as they are. The
 *   kernel has judged and counted them already (policy, per-method telemetry, SETTINGS rewritten
 *   to a header table of size 0); once the peer has everything, sends go socket to socket in the
 *   kernel and these pipes see nothing.
 * - **Frames**, from the point the kernel names (`conns.user_from`) once it hands the connection
 *   over (a denied method, a header block it cannot read, a frame too many): this module is the
 *   user path of the rest of the connection, an HTTP/2 frame relay that keeps the end-to-end
 *   session (settings, HPACK state, flow control, stream ids) intact. A HEADERS block is read
 *   (HPACK without dynamic table: the kernel made both encoders use none) and the policy decides:
 *   a denied call is answered trailers-only PERMISSION_DENIED by the relay, its DATA dropped and
 *   their flow-control window given back (WINDOW_UPDATE), the upstream never sees the stream;
 *   every other frame is forwarded. Calls the relay carries are recorded in the user-space
 *   telemetry (CallStats), so each call of a connection is counted once: by the kernel before
 *   the hand-over, by the relay after it.
 *
 * Frames the relay writes to the client (a status, WINDOW_UPDATE) go in only at a frame boundary
 * of the upstream→client stream: after that direction too was handed over and every byte before
 * its `user_from` was forwarded.
 */
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SIDECAR_CONN_F, SIDECAR_REASON, reverseSockKey } from '@netaccel/bpf-programs/sidecar';
import type { SockKey } from '@netaccel/bpf-programs/sidecar';
import type { Logger } from '@netaccel/telemetry';
import { errorMessage } from '@netaccel/errors';
import { NA_ERR_SIDECARD_DEADLINE, NA_ERR_SIDECARD_METHOD_DENIED, NA_ERR_SIDECARD_SPLICE_FAILED } from './errors.js';
import { GrpcFramer, GrpcStatus, decodeGrpcMessage, encodeGrpcMessage, parseGrpcTimeout, parseStatus } from './grpc-wire.js';
import { FLAG, FRAME, H2_ERROR, H2_PREFACE_LEN, blockFragment, cutFrames, decodeHeaders, goAway, rstStream, trailers, trailersOnly, windowUpdate, zeroTableSize } from './h2-frames.js';
import type { Frame } from './h2-frames.js';
import type { SpliceKernel } from './offload.js';
import type { CompiledPolicy, CompiledRoute } from './policy.js';
import { decide, matchRoute } from './policy.js';
import type { CallStats } from './stats.js';

export interface SpliceEnv {
  readonly listener: string;
  readonly direction: string;
  /** The listener's policy now (the relay decides calls after a hand-over with it). */
  readonly policy: () => CompiledPolicy;
  /** The listener's routes now: their timeouts are the calls' deadlines (`expire`). */
  readonly routes: () => readonly CompiledRoute[];
  readonly stats: CallStats;
  readonly kernel: SpliceKernel;
  readonly log: Logger;
  /** ms to connect to the upstream endpoint. */
  readonly connectTimeout: number;
}

export interface SpliceUpstream {
  readonly host: string;
  readonly port: number;
  readonly address: string;
}

const EMPTY = Buffer.alloc(0);
const CONNECT_TRIES = 3;
/** The byte written towards a socket the proxy takes back (the kernel cuts it off: sidecar_take_back). */
const TRIGGER = Buffer.from([0]);
/** ms the kernel gets to see a trigger byte (it is on loopback: microseconds), polled every TAKE_BACK_POLL_MS. */
const TAKE_BACK_WAIT_MS = 2000;
const TAKE_BACK_POLL_MS = 2;

export function keyOf(s: Socket): SockKey {
  return { localAddress: s.localAddress ?? '', localPort: s.localPort ?? 0, remoteAddress: s.remoteAddress ?? '', remotePort: s.remotePort ?? 0 };
}

/** A TCP port free on `host` now (the kernel's pick for a listener on port 0). */
async function freePort(host: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, host, resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function connect(host: string, port: number, localAddress: string, localPort: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port, localAddress, localPort, noDelay: true });
    const timer = setTimeout(() => s.destroy(new Error(`connect timeout after ${timeoutMs} ms`)), timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** DATA payload without padding. */
function dataPayload(f: Frame): Buffer {
  const p = f.raw.subarray(9);
  if (!(f.flags & FLAG.PADDED)) return p;
  const pad = p[0] ?? 0;
  return p.subarray(1, Math.max(1, p.length - pad));
}

/**
 * One direction: bytes read from `src` (the proxy's socket facing the sender), written to `dst`.
 * Raw until the hand-over point is known and reached, frames after it.
 */
class Pipe {
  read = 0;
  from: number | undefined;
  private pending: Buffer = EMPTY;
  private readonly injections: Buffer[] = [];
  private waiting = false;
  /** Writes to `dst` wait here while a take-back trigger written to it is not seen by the kernel yet. */
  private held: Buffer[] | undefined;
  /** Through the loader (`kernel.fresh`): chunks waiting for a read of the sender's state asked after they arrived. */
  private queued: Buffer[] = [];
  private reading = false;

  constructor(
    private readonly src: Socket,
    readonly dst: Socket,
    /** The kernel's key of the socket whose sends arrive here. */
    readonly sender: SockKey,
    private readonly kernel: SpliceKernel,
    /** The client's direction: its first byte may be the preface (passed with the message handed over). */
    private readonly preface: boolean,
    private readonly onFrame: (f: Frame) => Buffer[],
  ) {
    src.on('data', (d: Buffer) => this.arrive(d));
  }

  /**
   * In process, `data` looks the state up as each chunk arrives. Through the loader the state is
   * a mirror (`kernel.fresh`): until the hand-over point is known, chunks wait for a read asked
   * after they arrived (one batch for every connection of this turn), then go through `data`.
   */
  private arrive(d: Buffer): void {
    if (this.kernel.fresh === undefined || (this.from !== undefined && this.queued.length === 0)) return this.data(d);
    this.queued.push(d);
    this.drain();
  }

  private drain(): void {
    if (this.reading || this.queued.length === 0) return;
    if (this.from !== undefined) {
      for (const d of this.queued.splice(0)) this.data(d);
      return;
    }
    const n = this.queued.length;
    this.readAgain(() => {
      for (const d of this.queued.splice(0, n)) this.data(d);
    });
  }

  /** Reads the sender's state again through the loader, then `then`; a failed read ends the connection (its state is unknown). */
  private readAgain(then: () => void): void {
    this.reading = true;
    this.kernel.fresh!(this.sender).then(
      () => {
        this.reading = false;
        then();
        this.drain();
      },
      (err: unknown) => {
        this.reading = false;
        this.queued = [];
        this.src.destroy(err instanceof Error ? err : new Error(String(err)));
        this.dst.destroy();
      },
    );
  }

  /** Learns from the kernel whether (and from where) this direction is handed over. */
  handedOver(): boolean {
    if (this.from === undefined) {
      const c = this.kernel.conn(this.sender);
      if (c !== undefined && (c.flags & SIDECAR_CONN_F.USER) !== 0) {
        // not HTTP/2 from the start: nothing to read frames in, the bytes go on as they are
        this.from = c.reason === SIDECAR_REASON.BAD_PREFACE ? Infinity : Number(c.userFrom);
      }
    }
    return this.from !== undefined;
  }

  private data(d: Buffer): void {
    // Bytes the kernel passed after handing the socket over exist only once it marked it: a
    // lookup after they arrived sees the mark.
    this.handedOver();
    // the preface is not a frame: when the kernel handed the first send over, it is passed as it is
    if (this.preface && this.from === 0 && this.read === 0 && d.subarray(0, 4).toString('latin1') === 'PRI ') this.from = H2_PREFACE_LEN;
    const start = this.read;
    this.read += d.length;
    const rawEnd = Math.min(d.length, Math.max(0, (this.from ?? Infinity) - start));
    if (rawEnd > 0) this.write(d.subarray(0, rawEnd));
    if (rawEnd < d.length) {
      const rest = d.subarray(rawEnd);
      const { frames, rest: left } = cutFrames(this.pending.length === 0 ? rest : Buffer.concat([this.pending, rest]));
      this.pending = Buffer.from(left);
      const out: Buffer[] = [];
      for (const f of frames) out.push(...this.onFrame(f));
      if (out.length > 0) this.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    }
    this.flush();
  }

  /** A frame of the relay's own, written at the next frame boundary of this direction. */
  inject(b: Buffer): void {
    this.injections.push(b);
    this.flush();
  }

  flush(): void {
    // through the loader, whether the direction is handed over is read once more before waiting for bytes
    if (this.injections.length > 0 && !this.handedOver() && this.kernel.fresh !== undefined && !this.reading) return this.readAgain(() => this.flushKnown());
    this.flushKnown();
  }

  private flushKnown(): void {
    if (this.injections.length === 0 || !this.handedOver() || this.read < this.from!) return;
    this.write(Buffer.concat(this.injections.splice(0)));
  }

  /**
   * Writes the take-back trigger to `dst` and holds every later write until `release()`: the
   * kernel cuts the trigger off as the LAST byte of what it receives, so nothing may follow it
   * before the kernel saw it.
   */
  trigger(): void {
    this.held ??= [];
    if (!this.dst.destroyed) this.dst.write(TRIGGER);
  }

  release(): void {
    const held = this.held;
    this.held = undefined;
    if (held !== undefined && held.length > 0) this.write(Buffer.concat(held));
  }

  private write(b: Buffer): void {
    if (this.held !== undefined) {
      this.held.push(Buffer.from(b));
      return;
    }
    if (this.dst.destroyed) return;
    if (!this.dst.write(b) && !this.waiting) {
      // the slow side holds the fast one back (TCP flow control reaches the sender)
      this.waiting = true;
      this.src.pause();
      this.dst.once('drain', () => {
        this.waiting = false;
        this.src.resume();
      });
    }
  }
}

interface Call {
  readonly path: string;
  readonly start: number;
  readonly requestId: string | undefined;
  readonly request: GrpcFramer;
  readonly response: GrpcFramer;
  /** Its response HEADERS went to the client (a status the relay writes then is trailers). */
  responded: boolean;
  deadline?: NodeJS.Timeout;
}

/** A header block being collected (HEADERS without END_HEADERS, then CONTINUATION). */
interface Held {
  readonly stream: number;
  readonly endStream: boolean;
  readonly frames: Frame[];
}

let nextSpliceId = 1;

export class SplicedConnection {
  readonly id = nextSpliceId++;
  readonly remote: string;
  readonly clientSide: SockKey;
  readonly upstreamSide: SockKey;
  active = 0;
  streams = 0;
  idleSince = performance.now();
  private readonly c2u: Pipe;
  private readonly u2c: Pipe;
  private readonly calls = new Map<number, Call>();
  private readonly denied = new Set<number>();
  private heldRequest: Held | undefined;
  private heldResponse: Held | undefined;
  private readonly closed: Promise<void>;
  /** The highest request stream id the relay saw. */
  private lastStream = 0;
  /** Set once GOAWAY is written: the last stream id it named (later streams are refused). */
  private goneAway: number | undefined;
  private draining: Promise<void> | undefined;
  private takingOver: Promise<boolean> | undefined;
  /** Streams ended by their deadline: what the upstream still sends on them is dropped. */
  private readonly cancelled = new Set<number>();
  /** While the kernel carries the connection: the kernel's calls watched for their deadline. */
  private watch: NodeJS.Timeout | undefined;
  private readonly watching = new Set<number>();
  private scannedTo = 0;

  private constructor(
    private readonly env: SpliceEnv,
    readonly client: Socket,
    readonly upstream: Socket,
    readonly endpoint: SpliceUpstream,
    sides: { clientSide: SockKey; upstreamSide: SockKey },
  ) {
    this.clientSide = sides.clientSide;
    this.upstreamSide = sides.upstreamSide;
    this.remote = client.remoteFamily === 'IPv6' ? `[${client.remoteAddress}]:${client.remotePort}` : `${client.remoteAddress}:${client.remotePort}`;
    this.c2u = new Pipe(client, upstream, this.clientSide, env.kernel, true, (f) => this.fromClient(f));
    this.u2c = new Pipe(upstream, client, this.upstreamSide, env.kernel, false, (f) => this.fromUpstream(f));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', (err) => env.log.debug({ listener: env.listener, remote: this.remote, err }, 'spliced client socket error'));
    upstream.on('error', (err) => env.log.debug({ listener: env.listener, upstream: endpoint.address, err }, 'spliced upstream socket error'));
    const gone = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
    // the first side to close: the calls in flight (the kernel's adopted) end with it, counted once
    let ended: [number, string] | undefined;
    const first = (status: number, why: string): void => {
      if (ended !== undefined) return;
      ended = [status, why];
      clearInterval(this.watch);
      this.adoptAll();
    };
    client.once('close', () => {
      first(GrpcStatus.CANCELLED, 'the client closed the connection');
      if (!upstream.destroyed) upstream.end();
    });
    upstream.once('close', () => {
      first(GrpcStatus.UNAVAILABLE, 'the upstream closed the connection');
      if (!client.destroyed) client.end();
    });
    this.closed = Promise.all([gone(client), gone(upstream)]).then(() => {
      clearInterval(this.watch);
      const [status, why] = ended ?? [GrpcStatus.UNAVAILABLE, 'connection closed'];
      for (const sid of [...this.calls.keys()]) this.finish(sid, status, why);
    });
    this.watchKernel();
    client.resume();
  }

  /**
   * Pairs the accepted client socket with the upstream's socket-to-be and connects (a few local
   * ports are tried); throws NA_ERR_SIDECARD_SPLICE_FAILED with nothing left paired. The client
   * socket must be paused (its first bytes stay queued for the pipe).
   */
  static async open(env: SpliceEnv, client: Socket, endpoint: SpliceUpstream): Promise<SplicedConnection> {
    const clientSide = reverseSockKey(keyOf(client));
    const localAddress = client.localAddress ?? '';
    let last: unknown;
    for (let i = 0; i < CONNECT_TRIES; i++) {
      let upstreamSide: SockKey | undefined;
      try {
        const localPort = await freePort(localAddress);
        upstreamSide = { localAddress: endpoint.host, localPort: endpoint.port, remoteAddress: localAddress, remotePort: localPort };
        await env.kernel.pair(clientSide, upstreamSide);
        const upstream = await connect(endpoint.host, endpoint.port, localAddress, localPort, env.connectTimeout);
        return new SplicedConnection(env, client, upstream, endpoint, { clientSide, upstreamSide });
      } catch (err) {
        last = err;
        if (upstreamSide !== undefined) await env.kernel.unpair(clientSide, upstreamSide);
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
      }
    }
    throw NA_ERR_SIDECARD_SPLICE_FAILED.with({ cause: last }, endpoint.address, errorMessage(last));
  }

  /** Bytes the proxy relayed in user space (both directions): before the kernel took over, and after a hand-over. */
  get relayed(): number {
    return this.c2u.read + this.u2c.read;
  }

  /** Resolves when both sockets are closed. */
  get done(): Promise<void> {
    return this.closed;
  }

  close(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  /**
   * Graceful end (drain, reload, shutdown): both sockets are taken back from the kernel at a frame
   * boundary of what each sends (`takeBack`), then GOAWAY (NO_ERROR) goes to the client with the
   * highest stream id it opened so far (the kernel's `last_stream` or the relay's), so the calls in
   * flight finish through the relay and a stream opened after it is refused (REFUSED_STREAM: the
   * client retries it elsewhere). The client closes the connection once its calls are done. A
   * connection whose sockets the kernel no longer holds is ended as it is.
   */
  goAway(): Promise<void> {
    this.draining ??= this.sendGoAway();
    return this.draining;
  }

  private async sendGoAway(): Promise<void> {
    const taken = await this.takeOver();
    if (this.client.destroyed || this.upstream.destroyed) return;
    if (!taken) {
      this.env.log.warn({ listener: this.env.listener, remote: this.remote }, 'spliced connection not taken back from the kernel: ended without GOAWAY');
      this.client.end();
      return;
    }
    this.goneAway = Math.max(this.lastStream, this.env.kernel.conn(this.clientSide)?.lastStream ?? 0);
    this.u2c.inject(goAway(this.goneAway, H2_ERROR.NO_ERROR));
    this.env.log.debug({ listener: this.env.listener, remote: this.remote, lastStream: this.goneAway }, 'GOAWAY written to a spliced connection');
  }

  /**
   * Both sockets taken back from the kernel (at most once), then the kernel's calls in flight
   * adopted (their deadlines armed): the relay carries the rest of the connection.
   */
  private takeOver(): Promise<boolean> {
    this.takingOver ??= Promise.all([this.takeBack(this.c2u, this.u2c), this.takeBack(this.u2c, this.c2u)]).then(([c, u]) => {
      if (c && u) this.adoptAll();
      return c && u;
    });
    return this.takingOver;
  }

  // --- deadlines (the routes' timeouts, as the user path applies them) ------------------------

  /**
   * The kernel does not time calls out: while it carries the connection, its calls in flight
   * (`streams`, up to the client socket's `last_stream`) are looked at every quarter of the
   * shortest route timeout (5 ms..1 s); one older than its route's timeout makes the proxy take
   * the connection over (`takeOver`), adopt the calls and end that one DEADLINE_EXCEEDED.
   * The kernel does not read grpc-timeout: a kernel call is held to its route's `timeout` (a
   * shorter grpc-timeout is the client's and the server's to apply); a path not in the kernel's
   * policy to the longest timeout of the listener's routes.
   */
  private watchKernel(): void {
    const routes = this.env.routes();
    if (routes.length === 0 || this.env.kernel.peekStream === undefined) return;
    const every = Math.min(1000, Math.max(5, Math.floor(Math.min(...routes.map((r) => r.timeoutMs)) / 4)));
    this.watch = setInterval(() => this.checkKernel(), every);
    this.watch.unref();
  }

  private checkKernel(): void {
    const k = this.env.kernel;
    const c = k.conn(this.clientSide);
    if (c === undefined || (c.flags & SIDECAR_CONN_F.USER) !== 0 || this.takingOver !== undefined) {
      clearInterval(this.watch);
      // handed over for another reason (a denied call): the relay adopts the kernel's calls now
      if (c !== undefined && this.takingOver === undefined && this.c2u.handedOver() && this.u2c.handedOver()) this.adoptAll();
      return;
    }
    for (let id = this.scannedTo + 1; id <= c.lastStream; id++) if (id % 2 === 1) this.watching.add(id);
    this.scannedTo = Math.max(this.scannedTo, c.lastStream);
    for (const id of this.watching) {
      const s = k.peekStream!(this.clientSide, id);
      if (s === undefined) this.watching.delete(id);
      else if (s.ageMs >= this.timeoutOf(s.path)) {
        void this.takeOver();
        return;
      }
    }
  }

  /** The kernel's calls still in flight become the relay's. */
  private adoptAll(): void {
    const last = this.env.kernel.conn(this.clientSide)?.lastStream ?? this.scannedTo;
    for (let id = this.scannedTo + 1; id <= last; id++) if (id % 2 === 1) this.watching.add(id);
    this.scannedTo = Math.max(this.scannedTo, last);
    for (const id of this.watching) this.adopt(id);
    this.watching.clear();
  }

  /** ms a kernel call on `path` may take: its route's timeout (the longest route's for a path the kernel does not name). */
  private timeoutOf(path: string): number {
    const routes = this.env.routes();
    const r = path === 'other' ? undefined : matchRoute(routes, path);
    return r?.timeoutMs ?? Math.max(...routes.map((x) => x.timeoutMs));
  }

  private arm(stream: number, c: Call, deadlineMs: number, remainingMs: number): void {
    c.deadline = setTimeout(() => this.expire(stream, deadlineMs), Math.max(0, remainingMs));
  }

  /** A call past its deadline: the upstream's stream cancelled, the client answered DEADLINE_EXCEEDED, counted as such. */
  private expire(stream: number, deadlineMs: number): void {
    const c = this.calls.get(stream);
    if (c === undefined || this.client.destroyed) return;
    const message = NA_ERR_SIDECARD_DEADLINE(c.path, deadlineMs).message;
    this.cancelled.add(stream);
    this.denied.add(stream); // the client's DATA still coming is dropped, its window given back
    this.c2u.inject(rstStream(stream, H2_ERROR.CANCEL));
    this.u2c.inject((c.responded ? trailers : trailersOnly)(stream, GrpcStatus.DEADLINE_EXCEEDED, encodeGrpcMessage(message)));
    this.finish(stream, GrpcStatus.DEADLINE_EXCEEDED, message);
  }

  /**
   * Hands the socket whose sends `pipe` reads to user space: the takeback entry, then one trigger
   * byte through `towards` (the pipe writing to that socket), held writes released once the kernel
   * took it. True when the pipe is handed over.
   */
  private async takeBack(pipe: Pipe, towards: Pipe): Promise<boolean> {
    if (pipe.handedOver()) return true;
    const kernel = this.env.kernel;
    if (!kernel.takeBack(pipe.sender)) return false;
    towards.trigger();
    try {
      for (let waited = 0; kernel.takeBackPending(pipe.sender) && waited < TAKE_BACK_WAIT_MS && !towards.dst.destroyed; waited += TAKE_BACK_POLL_MS) {
        await new Promise((resolve) => setTimeout(resolve, TAKE_BACK_POLL_MS));
      }
    } finally {
      towards.release();
    }
    const done = pipe.handedOver();
    pipe.flush();
    return done;
  }

  private fail(why: string): void {
    this.env.log.warn({ listener: this.env.listener, remote: this.remote, upstream: this.endpoint.address }, `spliced connection closed: ${why}`);
    this.close();
  }

  // --- client -> upstream (frames after the hand-over) ---------------------------------------

  private fromClient(f: Frame): Buffer[] {
    if (this.heldRequest !== undefined || f.type === FRAME.HEADERS) return this.requestHeaders(f);
    switch (f.type) {
      case FRAME.SETTINGS:
        zeroTableSize(f);
        return [f.raw];
      case FRAME.DATA: {
        if (this.denied.has(f.stream)) {
          // never forwarded: give the window back, or the connection's flow control runs dry
          if (f.raw.length > 9) this.u2c.inject(windowUpdate(f.raw.length - 9));
          if (f.flags & FLAG.END_STREAM) this.denied.delete(f.stream);
          return [];
        }
        if (this.adopt(f.stream)) this.calls.get(f.stream)!.request.push(dataPayload(f));
        return [f.raw];
      }
      case FRAME.RST_STREAM:
        if (this.denied.delete(f.stream)) return [];
        if (this.adopt(f.stream)) this.finish(f.stream, GrpcStatus.CANCELLED, 'client reset the stream');
        return [f.raw];
      default:
        return [f.raw];
    }
  }

  private requestHeaders(f: Frame): Buffer[] {
    const held = this.collect(this.heldRequest, f);
    if (held === 'error') return [];
    this.heldRequest = held.done ? undefined : held.held;
    if (!held.done) return [];
    const { stream, endStream, frames } = held.held;
    const raws = frames.map((x) => x.raw);
    if (this.calls.has(stream) || this.denied.has(stream)) return this.denied.has(stream) ? [] : raws; // trailers of a call
    let fields: Map<string, string>;
    try {
      fields = decodeHeaders(Buffer.concat(frames.map(blockFragment)));
    } catch (err) {
      this.fail(`request header block not readable: ${errorMessage(err)}`);
      return [];
    }
    const path = fields.get(':path') ?? '';
    if (this.goneAway !== undefined && stream > this.goneAway) {
      // opened after GOAWAY: never processed, the client may retry it on another connection
      if (!endStream) this.denied.add(stream);
      this.u2c.inject(rstStream(stream, H2_ERROR.REFUSED_STREAM));
      return [];
    }
    this.lastStream = Math.max(this.lastStream, stream);
    this.streams += 1;
    if (decide(this.env.policy(), path).action === 'deny') {
      const message = NA_ERR_SIDECARD_METHOD_DENIED(path, this.env.listener).message;
      if (!endStream) this.denied.add(stream);
      this.u2c.inject(trailersOnly(stream, GrpcStatus.PERMISSION_DENIED, encodeGrpcMessage(message)));
      this.record(path, performance.now(), fields.get('x-request-id'), new GrpcFramer(), new GrpcFramer(), GrpcStatus.PERMISSION_DENIED, message);
      return [];
    }
    this.active += 1;
    const call: Call = { path, start: performance.now(), requestId: fields.get('x-request-id'), request: new GrpcFramer(), response: new GrpcFramer(), responded: false };
    this.calls.set(stream, call);
    const route = matchRoute(this.env.routes(), path);
    if (route !== undefined) {
      const deadlineMs = Math.min(parseGrpcTimeout(fields.get('grpc-timeout')) ?? route.timeoutMs, route.maxTimeoutMs);
      this.arm(stream, call, deadlineMs, deadlineMs);
    }
    return raws;
  }

  // --- upstream -> client (frames after the hand-over) ---------------------------------------

  private fromUpstream(f: Frame): Buffer[] {
    if (this.heldResponse !== undefined || f.type === FRAME.HEADERS) return this.responseHeaders(f);
    if (this.cancelled.has(f.stream)) {
      // a stream the relay ended (deadline) and reset towards the upstream: nothing more of it reaches the client
      if (f.type === FRAME.DATA && f.raw.length > 9) this.c2u.inject(windowUpdate(f.raw.length - 9));
      if (f.type === FRAME.RST_STREAM || (f.type === FRAME.DATA && f.flags & FLAG.END_STREAM)) this.cancelled.delete(f.stream);
      return [];
    }
    switch (f.type) {
      case FRAME.SETTINGS:
        zeroTableSize(f);
        break;
      case FRAME.DATA:
        if (!this.adopt(f.stream)) break;
        this.calls.get(f.stream)!.response.push(dataPayload(f));
        if (f.flags & FLAG.END_STREAM) this.finish(f.stream, GrpcStatus.INTERNAL, 'upstream ended the stream without a status');
        break;
      case FRAME.RST_STREAM:
        if (this.adopt(f.stream)) this.finish(f.stream, GrpcStatus.UNAVAILABLE, 'upstream reset the stream');
        break;
      default:
        break;
    }
    return [f.raw];
  }

  private responseHeaders(f: Frame): Buffer[] {
    const held = this.collect(this.heldResponse, f);
    if (held === 'error') return [];
    this.heldResponse = held.done ? undefined : held.held;
    if (!held.done) return [];
    const { stream, endStream, frames } = held.held;
    if (this.cancelled.has(stream)) {
      if (endStream) this.cancelled.delete(stream);
      return [];
    }
    if (!endStream && this.adopt(stream)) this.calls.get(stream)!.responded = true;
    if (endStream && this.adopt(stream)) {
      try {
        const fields = decodeHeaders(Buffer.concat(frames.map(blockFragment)));
        this.finish(stream, parseStatus(fields.get('grpc-status')), decodeGrpcMessage(fields.get('grpc-message') ?? ''));
      } catch (err) {
        this.fail(`response header block not readable: ${errorMessage(err)}`);
        return [];
      }
    }
    return frames.map((x) => x.raw);
  }

  /**
   * Whether the relay carries `stream` as a call: one it opened, or one the kernel opened before
   * the hand-over and still had in flight, adopted now (the kernel forgets it, the relay finishes
   * and counts it: once). An adopted call's bytes and messages are those the relay saw.
   */
  private adopt(stream: number): boolean {
    if (this.calls.has(stream)) return true;
    if (stream === 0 || this.denied.has(stream)) return false;
    const a = this.env.kernel.adoptStream?.(this.clientSide, stream);
    if (a === undefined) return false;
    this.active += 1;
    this.lastStream = Math.max(this.lastStream, stream);
    const call: Call = { path: a.path, start: performance.now() - a.ageMs, requestId: undefined, request: new GrpcFramer(), response: new GrpcFramer(), responded: a.responded ?? false };
    this.calls.set(stream, call);
    const timeout = this.timeoutOf(a.path);
    this.arm(stream, call, timeout, timeout - a.ageMs);
    return true;
  }

  /** Adds a HEADERS / CONTINUATION frame to the block being collected. */
  private collect(held: Held | undefined, f: Frame): { held: Held; done: boolean } | 'error' {
    if (held === undefined) {
      if (f.type !== FRAME.HEADERS) return { held: { stream: f.stream, endStream: false, frames: [f] }, done: true };
      held = { stream: f.stream, endStream: (f.flags & FLAG.END_STREAM) !== 0, frames: [f] };
    } else if (f.type !== FRAME.CONTINUATION || f.stream !== held.stream) {
      this.fail('a header block interrupted by another frame');
      return 'error';
    } else {
      held.frames.push(f);
    }
    return { held, done: (f.flags & FLAG.END_HEADERS) !== 0 };
  }

  private finish(stream: number, status: number, message: string): void {
    const c = this.calls.get(stream);
    if (c === undefined) return;
    this.calls.delete(stream);
    clearTimeout(c.deadline);
    this.active -= 1;
    if (this.active === 0) this.idleSince = performance.now();
    this.record(c.path, c.start, c.requestId, c.request, c.response, status, message);
  }

  private record(path: string, start: number, requestId: string | undefined, request: GrpcFramer, response: GrpcFramer, status: number, message: string): void {
    this.env.stats.record({
      listener: this.env.listener,
      direction: this.env.direction,
      method: path,
      remote: this.remote,
      upstream: this.endpoint.address,
      grpcStatus: status,
      grpcMessage: message,
      durationMs: performance.now() - start,
      requestBytes: request.bytes,
      responseBytes: response.bytes,
      requestMessages: request.messages,
      responseMessages: response.messages,
      requestId,
    });
  }
}
