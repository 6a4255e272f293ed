/**
 * The user path of a spliced connection after the kernel handed it over (splice.ts): an HTTP/2
 * frame relay that keeps the end-to-end session (settings, HPACK state, flow control, stream ids)
 * intact. A HEADERS block is read (HPACK without dynamic table: the kernel made both encoders use
 * none) and the policy decides: a denied call is answered trailers-only PERMISSION_DENIED, its
 * DATA dropped and their flow-control window given back (WINDOW_UPDATE), the upstream never sees
 * the stream; every other frame is forwarded. Calls the relay carries (its own, and the kernel's
 * in flight at the hand-over, adopted) are recorded in the user-space telemetry (CallStats) and
 * held to their deadlines, as call.ts does.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { SockKey } from '@netaccel/bpf-programs/sidecar';
import type { Logger } from '@netaccel/telemetry';
import { errorMessage } from '@netaccel/errors';
import { NA_ERR_SIDECARD_DEADLINE, NA_ERR_SIDECARD_METHOD_DENIED } from './errors.js';
import { GrpcFramer, GrpcStatus, decodeGrpcMessage, encodeGrpcMessage, parseGrpcTimeout, parseStatus } from './grpc-wire.js';
import { FLAG, FRAME, H2_ERROR, blockFragment, decodeHeaders, rstStream, trailers, trailersOnly, windowUpdate, zeroTableSize } from './h2-frames.js';
import type { Frame } from './h2-frames.js';
import type { InFlightCall, SpliceKernel } from './offload.js';
import type { CompiledPolicy, CompiledRoute } from './policy.js';
import { decide, matchRoute } from './policy.js';
import type { Pipe } from './splice-pipe.js';
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

/** DATA payload without padding. */
function dataPayload(f: Frame): Buffer {
  const p = f.raw.subarray(9);
  if (!(f.flags & FLAG.PADDED)) return p;
  const pad = p[0] ?? 0;
  return p.subarray(1, Math.max(1, p.length - pad));
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

/** The frame relay and call accounting of a spliced connection; splice.ts's SplicedConnection adds the sockets and the kernel. */
export abstract class SpliceRelay {
  active = 0;
  streams = 0;
  idleSince = performance.now();
  protected readonly calls = new Map<number, Call>();
  protected readonly denied = new Set<number>();
  protected heldRequest: Held | undefined;
  protected heldResponse: Held | undefined;
  /** The highest request stream id the relay saw. */
  protected lastStream = 0;
  /** Set once GOAWAY is written: the last stream id it named (later streams are refused). */
  protected goneAway: number | undefined;
  /** Streams ended by their deadline: what the upstream still sends on them is dropped. */
  protected readonly cancelled = new Set<number>();
  protected readonly watching = new Set<number>();
  protected scannedTo = 0;

  protected abstract readonly c2u: Pipe;
  protected abstract readonly u2c: Pipe;
  abstract readonly client: Socket;

  protected constructor(
    protected readonly env: SpliceEnv,
    readonly endpoint: SpliceUpstream,
    readonly clientSide: SockKey,
    readonly remote: string,
  ) {}

  /** Ends the connection (a frame the relay cannot read). */
  protected abstract fail(why: string): void;

  /** The request streams the kernel may have opened, up to `last` (odd ids), are watched. */
  protected scan(last: number): void {
    for (let id = this.scannedTo + 1; id <= last; id++) if (id % 2 === 1) this.watching.add(id);
    this.scannedTo = Math.max(this.scannedTo, last);
  }

  /** The kernel's calls still in flight become the relay's. */
  protected adoptAll(): void {
    this.scan(this.env.kernel.conn(this.clientSide)?.lastStream ?? this.scannedTo);
    for (const id of this.watching) this.adopt(id);
    this.watching.clear();
  }

  /**
   * ms a kernel call may take, as call.ts gives a call: its grpc-timeout (read by the kernel)
   * capped by its route's `maxTimeout`, or the route's `timeout`; a path the kernel does not name
   * gets the longest timeout and cap of the listener's routes.
   */
  protected deadlineOf(call: InFlightCall): number {
    const routes = this.env.routes();
    const r = call.path === 'other' ? undefined : matchRoute(routes, call.path);
    const timeout = r?.timeoutMs ?? Math.max(...routes.map((x) => x.timeoutMs));
    const max = r?.maxTimeoutMs ?? Math.max(...routes.map((x) => x.maxTimeoutMs));
    return Math.min(call.timeoutMs ?? timeout, max);
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

  // --- client -> upstream (frames after the hand-over) ---------------------------------------

  protected fromClient(f: Frame): Buffer[] {
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

  protected fromUpstream(f: Frame): Buffer[] {
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
  protected adopt(stream: number): boolean {
    if (this.calls.has(stream)) return true;
    if (stream === 0 || this.denied.has(stream)) return false;
    const a = this.env.kernel.adoptStream?.(this.clientSide, stream);
    if (a === undefined) return false;
    this.active += 1;
    this.lastStream = Math.max(this.lastStream, stream);
    const call: Call = { path: a.path, start: performance.now() - a.ageMs, requestId: undefined, request: new GrpcFramer(), response: new GrpcFramer(), responded: a.responded ?? false };
    this.calls.set(stream, call);
    const deadline = this.deadlineOf(a);
    this.arm(stream, call, deadline, deadline - a.ageMs);
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

  protected finish(stream: number, status: number, message: string): void {
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
