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
 * its `user_from` was forwarded. The pipes are splice-pipe.ts, the frame relay splice-relay.ts.
 *
 * The kernel's calls in flight (`streams`) are read synchronously in process; through the loader
 * from a mirror (stream-mirror.ts) read in batches before they are needed: at each look of the
 * deadline watch, before the relay reads the first frame after a hand-over (the pipes hold their
 * frames until then) and when the connection closes.
 */
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { SIDECAR_CONN_F, reverseSockKey } from '@netaccel/bpf-programs/sidecar';
import type { SockKey } from '@netaccel/bpf-programs/sidecar';
import { errorMessage } from '@netaccel/errors';
import { NA_ERR_SIDECARD_SPLICE_FAILED } from './errors.js';
import { GrpcStatus } from './grpc-wire.js';
import { H2_ERROR, goAway } from './h2-frames.js';
import { Pipe } from './splice-pipe.js';
import { SpliceRelay } from './splice-relay.js';
import type { SpliceEnv, SpliceUpstream } from './splice-relay.js';

export type { SpliceEnv, SpliceUpstream } from './splice-relay.js';

const CONNECT_TRIES = 3;
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

let nextSpliceId = 1;
export class SplicedConnection extends SpliceRelay {
  readonly id = nextSpliceId++;
  readonly upstreamSide: SockKey;
  protected readonly c2u: Pipe;
  protected readonly u2c: Pipe;
  private readonly closed: Promise<void>;
  private draining: Promise<void> | undefined;
  private takingOver: Promise<boolean> | undefined;
  /** While the kernel carries the connection: the kernel's calls watched for their deadline. */
  private watch: NodeJS.Timeout | undefined;
  /** ms between looks, and the one look set at a deadline before the next. */
  private every = 1000;
  private soon: NodeJS.Timeout | undefined;
  /** Through the loader: a watch tick's reads under way. */
  private checking = false;
  /** Through the loader: the read of the kernel's calls in flight made once the connection is handed over. */
  private settling: Promise<void> | undefined;
  /** The calls in flight at the first close, adopted (through the loader after a read). */
  private adopting: Promise<void> = Promise.resolve();

  private constructor(
    env: SpliceEnv,
    readonly client: Socket,
    readonly upstream: Socket,
    endpoint: SpliceUpstream,
    sides: { clientSide: SockKey; upstreamSide: SockKey },
  ) {
    super(env, endpoint, sides.clientSide, client.remoteFamily === 'IPv6' ? `[${client.remoteAddress}]:${client.remotePort}` : `${client.remoteAddress}:${client.remotePort}`);
    this.upstreamSide = sides.upstreamSide;
    const settle = env.kernel.freshStreams === undefined ? undefined : () => this.settleStreams();
    this.c2u = new Pipe(client, upstream, this.clientSide, env.kernel, true, (f) => this.fromClient(f), settle);
    this.u2c = new Pipe(upstream, client, this.upstreamSide, env.kernel, false, (f) => this.fromUpstream(f), settle);
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
      this.stopWatch();
      const read = this.syncKernel();
      if (read === undefined) this.adoptAll();
      else {
        this.adopting = read
          .catch((err: unknown) => this.env.log.warn({ listener: this.env.listener, remote: this.remote, err: errorMessage(err) }, "kernel's calls in flight not read at the close"))
          .then(() => this.adoptAll());
      }
    };
    // one side closed: the other is written out, ended and destroyed without waiting for its
    // peer's end (a relay paused towards the closed side never reads it: a client that closed
    // right after a denied call left the upstream socket open and the listener's close waiting)
    client.once('close', () => {
      first(GrpcStatus.CANCELLED, 'the client closed the connection');
      if (!upstream.destroyed) upstream.destroySoon();
    });
    upstream.once('close', () => {
      first(GrpcStatus.UNAVAILABLE, 'the upstream closed the connection');
      if (!client.destroyed) client.destroySoon();
    });
    this.closed = Promise.all([gone(client), gone(upstream)]).then(async () => {
      this.stopWatch();
      await this.adopting;
      const [status, why] = ended ?? [GrpcStatus.UNAVAILABLE, 'connection closed'];
      for (const sid of [...this.calls.keys()]) this.finish(sid, status, why);
    });
    // a side that ended or closed while the pair was being written (through the loader a round
    // trip) emits no more 'end' or 'close': what its handlers would have done is done now
    if (client.readableEnded || client.destroyed) upstream.end();
    if (client.destroyed) first(GrpcStatus.CANCELLED, 'the client closed the connection');
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
    this.takingOver ??= this.takeBoth();
    return this.takingOver;
  }

  private async takeBoth(): Promise<boolean> {
    // through the loader, the frames after the hand-over wait for the read of the kernel's calls (adopted from it)
    let release = (): void => {};
    if (this.env.kernel.freshStreams !== undefined) {
      const held = new Promise<void>((resolve) => (release = resolve));
      this.c2u.hold(held);
      this.u2c.hold(held);
    }
    try {
      const [c, u] = await Promise.all([this.takeBack(this.c2u, this.u2c), this.takeBack(this.u2c, this.c2u)]);
      if (c && u) {
        await this.settleStreams();
        this.adoptAll();
      }
      return c && u;
    } finally {
      release();
    }
  }

  /**
   * Through the loader: the client socket's state read again (its last stream id), then the
   * kernel's calls up to it that are not known finished, so that `peekStream` / `adoptStream`
   * answer with values read after this call (each one batch with the other reads of the turn).
   * Undefined in process, where those reads are synchronous.
   */
  private syncKernel(): Promise<void> | undefined {
    const k = this.env.kernel;
    if (k.freshStreams === undefined || k.fresh === undefined) return undefined;
    return (async () => {
      const before = k.conn(this.clientSide);
      await k.fresh!(this.clientSide);
      // a closed socket's entry is gone: its last known state names the calls
      this.scan((k.conn(this.clientSide) ?? before)?.lastStream ?? 0);
      await k.freshStreams!(this.clientSide, [...this.watching]);
    })();
  }

  /** Through the loader, once per hand-over: the kernel's calls read before the relay reads a frame (a failed read is logged: those calls stay the kernel's). */
  private settleStreams(): Promise<void> {
    this.settling ??= (this.syncKernel() ?? Promise.resolve()).catch((err: unknown) => {
      this.env.log.warn({ listener: this.env.listener, remote: this.remote, err: errorMessage(err) }, "kernel's calls in flight not read at a hand-over");
    });
    return this.settling;
  }

  // --- deadlines (as the user path applies them) ----------------------------------------------

  /**
   * The kernel does not time calls out: while it carries the connection, its calls in flight
   * (`streams`, up to the client socket's `last_stream`) are looked at every quarter of the
   * shortest route timeout (5 ms..1 s), and once more at the deadline of a call seen that ends
   * before the next look; one past its deadline makes the proxy take the connection over
   * (`takeOver`), adopt the calls and end that one DEADLINE_EXCEEDED. A call's deadline is the
   * user path's (`deadlineOf`): its grpc-timeout, which the kernel reads into `streams`, capped by
   * its route's `maxTimeout`, or its route's `timeout`. Through the loader each look is one batch
   * of reads for every connection of that turn (conns, then the watched calls).
   */
  private watchKernel(): void {
    const routes = this.env.routes();
    if (routes.length === 0 || this.env.kernel.peekStream === undefined) return;
    this.every = Math.min(1000, Math.max(5, Math.floor(Math.min(...routes.map((r) => r.timeoutMs)) / 4)));
    this.watch = setInterval(() => this.checkKernel(), this.every);
    this.watch.unref();
  }

  private stopWatch(): void {
    clearInterval(this.watch);
    clearTimeout(this.soon);
  }

  private checkKernel(): void {
    const read = this.syncKernel();
    if (read === undefined) return this.checkKnown();
    if (this.checking) return;
    this.checking = true;
    read.then(
      () => {
        this.checking = false;
        this.checkKnown();
      },
      (err: unknown) => {
        this.checking = false;
        this.env.log.debug({ listener: this.env.listener, remote: this.remote, err: errorMessage(err) }, 'kernel calls not read for their deadlines');
      },
    );
  }

  private checkKnown(): void {
    const k = this.env.kernel;
    const c = k.conn(this.clientSide);
    if (c === undefined || (c.flags & SIDECAR_CONN_F.USER) !== 0 || this.takingOver !== undefined) {
      this.stopWatch();
      // handed over for another reason (a denied call): the relay adopts the kernel's calls now
      if (c !== undefined && this.takingOver === undefined && this.c2u.handedOver() && this.u2c.handedOver()) this.adoptAll();
      return;
    }
    const inFlight = k.streamsInFlight?.(this.clientSide);
    if (inFlight === undefined) this.scan(c.lastStream);
    else {
      // the calls opened up to last_stream that are not in flight have ended: only those are watched
      this.scannedTo = Math.max(this.scannedTo, c.lastStream);
      this.watching.clear();
      for (const id of inFlight) if (id <= this.scannedTo) this.watching.add(id);
    }
    let soonest = Infinity;
    for (const id of this.watching) {
      const s = k.peekStream!(this.clientSide, id);
      if (s === undefined) {
        this.watching.delete(id);
        continue;
      }
      const left = this.deadlineOf(s) - s.ageMs;
      if (left <= 0) {
        void this.takeOver();
        return;
      }
      soonest = Math.min(soonest, left);
    }
    // a deadline before the next look: looked at then
    if (soonest < this.every && this.soon === undefined) {
      this.soon = setTimeout(() => {
        this.soon = undefined;
        this.checkKernel();
      }, Math.ceil(soonest));
      this.soon.unref();
    }
  }

  /**
   * Hands the socket whose sends `pipe` reads to user space: the takeback entry, then one trigger
   * byte through `towards` (the pipe writing to that socket), held writes released once the kernel
   * took it. True when the pipe is handed over.
   */
  private async takeBack(pipe: Pipe, towards: Pipe): Promise<boolean> {
    if (pipe.handedOver()) return true;
    const kernel = this.env.kernel;
    if (!(await kernel.takeBack(pipe.sender))) return false;
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

  protected fail(why: string): void {
    this.env.log.warn({ listener: this.env.listener, remote: this.remote, upstream: this.endpoint.address }, `spliced connection closed: ${why}`);
    this.close();
  }
}
