/**
 * The lean server transport of a daemon on a Unix socket (`transport: 'http2'` of
 * createRpcServer): gRPC over one `node:http2` server, each call one stream, answered by the same
 * handler wrappers (handlers.ts) grpc-js's server calls — this module hands them a call object
 * with the parts of grpc-js's ServerUnaryCall / ServerWritableStream they use. Issue 12, item 4:
 * grpc-js's server (its call stack, interceptors, stream decoder, per-call bookkeeping) costs an
 * empty call over a Unix socket ~330 µs of the daemon's CPU on this machine
 * (bench/loader/README.md); the call here is the HTTP/2 stream and little else.
 *
 * gRPC as grpc-js's server speaks it: `content-type` not application/grpc* → HTTP 415; an unknown
 * method → UNIMPLEMENTED (trailers-only); `grpc-encoding` other than identity, or a message with
 * the compressed flag → UNIMPLEMENTED / INTERNAL (no compression is offered); `grpc-timeout`
 * honoured (DEADLINE_EXCEEDED at the deadline, the handler's signal aborted), a malformed one
 * INTERNAL; no request message or a second one → UNIMPLEMENTED; a truncated one, or one that does
 * not decode → INTERNAL; `grpc.max_receive_message_length` (default 4 MiB) and
 * `grpc.max_send_message_length` (default none) → RESOURCE_EXHAUSTED in grpc-js's words; request
 * metadata as grpc-js gives it (its Metadata, without the transport's headers); failures
 * trailers-only when nothing was sent, else in the trailers (`grpc-status`, `grpc-message`
 * percent-encoded, the failure's metadata). A protocol error or garbage on the socket ends that
 * connection only. Server streams are served too (one socket cannot host two servers):
 * backpressure through 'drain', the status in the trailers.
 */
import { createServer, constants as h2 } from 'node:http2';
import type { Http2Server, Http2Session, IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { Metadata, status as Status } from '@grpc/grpc-js';
import type { UntypedHandleCall } from '@grpc/grpc-js';
import type { Logger } from '@netaccel/errors';
import { framed } from './h2-unary.js';
import type { H2Limits } from './h2-unary.js';

/** One method the server answers. */
export interface H2Method {
  readonly path: string;
  readonly kind: 'unary' | 'server-stream';
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (value: never) => Buffer;
  /** The wrapped handler (handlers.ts), as grpc-js's addService takes it. */
  readonly handle: UntypedHandleCall;
}

/** A status to send: what the wrappers hand grpc-js (`callback(err)`, `call.emit('error', err)`). */
interface StatusLike {
  readonly code?: number;
  readonly details?: string;
  readonly metadata?: Metadata | null;
}

/** grpc-js's `grpc-timeout` units, ms. */
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** Request headers that are the transport's, not the caller's metadata (as grpc-js removes them). */
const TRANSPORT_HEADERS = ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type'] as const;

const RESPONSE_HEADERS: OutgoingHttpHeaders = Object.freeze({
  [h2.HTTP2_HEADER_STATUS]: 200,
  [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
});
const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0', 'grpc-message': 'OK' });

/** `grpc-message`: percent-encoded, as grpc-js's server writes it. */
function encodedMessage(details: string): string {
  try {
    return encodeURI(details);
  } catch {
    return encodeURI(details.replace(/[\ud800-\udfff]/g, '\ufffd')); // lone surrogates
  }
}

/**
 * The deadline of a `grpc-timeout` value (1 to 8 digits and a unit, H M S m u n) as ms since the
 * epoch, Infinity without one, undefined when malformed. Read by hand: a regular expression was
 * ~1 % of a call's CPU.
 */
export function deadlineOfTimeout(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return Infinity;
  const n = value.length;
  if (n < 2 || n > 9) return undefined;
  const unit = UNIT_MS[value[n - 1]!];
  if (unit === undefined) return undefined;
  let v = 0;
  for (let i = 0; i < n - 1; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return now + Math.floor(v * unit);
}

/**
 * The deadlines of one server's calls in flight, on one timer armed for the earliest: a timer per
 * call (setTimeout + clearTimeout) cost a few µs of every call, whose deadline (the lean client's
 * 5 s default) almost never passes. A call that ends leaves the timer as it is; when it fires,
 * the calls past their deadline expire and it is armed again for the earliest of the rest.
 */
export class Deadlines {
  readonly #calls = new Set<{ readonly deadline: number; expire(): void }>();
  #timer: NodeJS.Timeout | undefined;
  #at = Infinity;

  get size(): number {
    return this.#calls.size;
  }

  add(call: { readonly deadline: number; expire(): void }): void {
    this.#calls.add(call);
    if (call.deadline < this.#at) this.#arm(call.deadline);
  }

  delete(call: { readonly deadline: number; expire(): void }): void {
    this.#calls.delete(call);
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = Infinity;
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#at = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(1, at - Date.now()));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#at = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const c of this.#calls) {
      if (c.deadline <= now) {
        this.#calls.delete(c);
        c.expire();
      } else if (c.deadline < next) {
        next = c.deadline;
      }
    }
    if (next !== Infinity) this.#arm(next);
  }
}

/**
 * One call: the request read from the stream, then what the wrappers use of grpc-js's call
 * (`request`, `metadata`, `getDeadline`, `getPeer`, 'cancelled'; for streams `write`, 'drain',
 * `end`, `emit('error', status)`).
 */
export class H2Call {
  request: unknown = undefined;
  /** The wrappers' listeners: 'cancelled' (client gone or deadline passed) and 'drain' (streams). */
  readonly #listeners: { event: string; fn: () => void; once: boolean }[] = [];
  readonly #stream: ServerHttp2Stream;
  readonly #headers: IncomingHttpHeaders;
  readonly #method: H2Method;
  readonly #limits: H2Limits;
  readonly #deadlines: Deadlines;
  /** When the client stops waiting, ms since the epoch; Infinity without a deadline. */
  readonly deadline: number;
  #metadata: Metadata | undefined;
  #chunks: Buffer[] = [];
  #length = 0;
  /** The request message's length, once its prefix is in. */
  #declared = -1;
  #headersSent = false;
  #trailers: OutgoingHttpHeaders | undefined;
  /** A status was sent or the client went away: nothing more is written. */
  #done = false;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, method: H2Method, limits: H2Limits, deadline: number, deadlines: Deadlines) {
    this.#stream = stream;
    this.#headers = headers;
    this.#method = method;
    this.#limits = limits;
    this.deadline = deadline;
    this.#deadlines = deadlines;
    if (deadline !== Infinity) deadlines.add(this);
    stream.on('data', (d: Buffer) => this.#onData(d));
    stream.once('end', () => this.#onEnd());
    stream.once('close', () => this.#onClose());
  }

  /** Request metadata, as grpc-js's server gives it (built when first read). */
  get metadata(): Metadata {
    if (this.#metadata === undefined) {
      const md = Metadata.fromHttp2Headers(this.#headers);
      for (const h of TRANSPORT_HEADERS) md.remove(h);
      this.#metadata = md;
    }
    return this.#metadata;
  }

  getDeadline(): number {
    return this.deadline;
  }

  getPeer(): string {
    const socket = this.#stream.session?.socket;
    const addr = socket?.remoteAddress;
    if (addr === undefined || addr === '') return 'unknown';
    return socket?.remotePort !== undefined ? `${addr}:${socket.remotePort}` : addr;
  }

  /** A server stream's next message; false when the caller should wait for 'drain'. */
  write(value: unknown): boolean {
    if (this.#done || this.#stream.destroyed) return true;
    const bytes = this.#serialized(value);
    if (bytes === undefined) return true;
    if (!this.#headersSent) this.#respond();
    return this.#stream.write(framed(bytes));
  }

  /** A server stream's end: status OK. */
  end(): void {
    this.#sendStatus(Status.OK, 'OK', undefined);
  }

  on(event: 'cancelled' | 'drain', fn: () => void): this {
    this.#listeners.push({ event, fn, once: false });
    return this;
  }

  once(event: 'cancelled' | 'drain', fn: () => void): this {
    this.#listeners.push({ event, fn, once: true });
    return this;
  }

  removeListener(event: 'cancelled' | 'drain', fn: () => void): this {
    const i = this.#listeners.findIndex((l) => l.event === event && l.fn === fn);
    if (i >= 0) this.#listeners.splice(i, 1);
    return this;
  }

  /**
   * grpc-js's way for a server stream to fail: `call.emit('error', status)`; other events go to
   * the listeners (a few per call: a minimal emitter costs less than an EventEmitter).
   */
  emit(event: string, ...args: unknown[]): boolean {
    if (event === 'error') {
      const s = (args[0] ?? {}) as StatusLike;
      this.#sendStatus(s.code ?? Status.INTERNAL, s.details ?? 'Unknown error', s.metadata ?? undefined);
      return true;
    }
    const now = this.#listeners.filter((l) => l.event === event);
    for (const l of now) {
      if (l.once) this.removeListener(l.event as 'cancelled' | 'drain', l.fn);
      l.fn();
    }
    return now.length > 0;
  }

  /** grpc-js's `sendUnaryData`, bound: the unary wrapper's answer. */
  readonly callback = (err: StatusLike | null, value?: unknown): void => {
    if (err !== null && err !== undefined) {
      this.#sendStatus(err.code ?? Status.INTERNAL, err.details ?? 'Unknown error', err.metadata ?? undefined);
      return;
    }
    if (this.#done || this.#stream.destroyed) return;
    const bytes = this.#serialized(value);
    if (bytes === undefined) return;
    this.#respond();
    this.#trailers = OK_TRAILERS;
    this.#finish();
    this.#stream.end(framed(bytes));
  };

  #serialized(value: unknown): Buffer | undefined {
    let bytes: Buffer;
    try {
      bytes = this.#method.serialize(value as never);
    } catch (err) {
      this.#sendStatus(Status.INTERNAL, `Error serializing response: ${(err as Error).message}`, undefined);
      return undefined;
    }
    if (bytes.length > this.#limits.maxSend) {
      this.#sendStatus(Status.RESOURCE_EXHAUSTED, `Sent message larger than max (${bytes.length} vs. ${this.#limits.maxSend})`, undefined);
      return undefined;
    }
    return bytes;
  }

  /** The response headers; the trailers follow the last DATA frame. */
  #respond(): void {
    this.#headersSent = true;
    this.#stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    this.#stream.once('wantTrailers', () => this.#stream.sendTrailers(this.#trailers ?? OK_TRAILERS));
    if (this.#method.kind === 'server-stream') this.#stream.on('drain', () => this.emit('drain'));
  }

  #finish(): void {
    this.#done = true;
    if (this.deadline !== Infinity) this.#deadlines.delete(this);
    this.#chunks = [];
  }

  /** The call's status: in the trailers after what was sent, or trailers-only. */
  #sendStatus(code: number, details: string, metadata: Metadata | undefined): void {
    if (this.#done) return;
    this.#finish();
    const stream = this.#stream;
    if (stream.destroyed || stream.closed) return;
    const trailers: OutgoingHttpHeaders = { 'grpc-status': String(code), 'grpc-message': encodedMessage(details) };
    if (metadata !== undefined) Object.assign(trailers, metadata.toHttp2Headers());
    if (this.#headersSent) {
      this.#trailers = trailers;
      stream.end();
    } else {
      this.#headersSent = true;
      stream.respond({ ...RESPONSE_HEADERS, ...trailers }, { endStream: true });
    }
  }

  #onData(d: Buffer): void {
    if (this.#done) return;
    this.#length += d.length;
    this.#chunks.push(d);
    if (this.#declared < 0 && this.#length >= 5) {
      this.#declared = (this.#chunks.length === 1 ? d : Buffer.concat(this.#chunks)).readUInt32BE(1);
      if (this.#declared > this.#limits.maxReceive) {
        this.#sendStatus(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${this.#declared} vs ${this.#limits.maxReceive})`, undefined);
        return;
      }
    }
    // more bytes than the message declared: a second message, refused at the end (UNIMPLEMENTED)
    // unless the body goes past the limit, refused now
    if (this.#length > this.#limits.maxReceive + 5 && this.#length > this.#declared + 5) {
      this.#sendStatus(Status.RESOURCE_EXHAUSTED, `Received more than one message of up to ${this.#limits.maxReceive} bytes for ${this.#method.path}`, undefined);
    }
  }

  #onEnd(): void {
    if (this.#done) return;
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [];
    const what = `${this.#method.kind === 'unary' ? 'unary' : 'server streaming'} method ${this.#method.path}`;
    if (body.length === 0) return this.#sendStatus(Status.UNIMPLEMENTED, `Received no request message for ${what}`, undefined);
    if (body.length < 5) return this.#sendStatus(Status.INTERNAL, `Received a truncated request message (${body.length} bytes, not even its 5-byte prefix)`, undefined);
    const n = body.readUInt32BE(1);
    if (body.length < 5 + n) return this.#sendStatus(Status.INTERNAL, `Received a truncated request message (${body.length - 5} of ${n} bytes)`, undefined);
    if (body.length > 5 + n) return this.#sendStatus(Status.UNIMPLEMENTED, `Received a second request message for ${what}`, undefined);
    if (body[0] !== 0) return this.#refuseCompressed(body[0]!);
    try {
      this.request = this.#method.deserialize(body.subarray(5));
    } catch (err) {
      return this.#sendStatus(Status.INTERNAL, `Error deserializing request: ${(err as Error).message}`, undefined);
    }
    (this.#method.handle as unknown as (call: H2Call, callback: H2Call['callback']) => void)(this, this.callback);
  }

  /** No compression is offered: a compressed message is refused, as grpc-js refuses an encoding it lacks. */
  #refuseCompressed(flag: number): void {
    const encoding = this.#headers['grpc-encoding'];
    if (flag !== 1) return this.#sendStatus(Status.INTERNAL, `Received a message with an invalid compressed flag ${flag}`, undefined);
    if (encoding === undefined || encoding === 'identity') return this.#sendStatus(Status.INTERNAL, 'Received a compressed message without a grpc-encoding (this server supports none)', undefined);
    const md = new Metadata();
    md.set('grpc-accept-encoding', 'identity');
    return this.#sendStatus(Status.UNIMPLEMENTED, `Received message compressed with unsupported encoding "${String(encoding)}"`, md);
  }

  /** The deadline passed (Deadlines): DEADLINE_EXCEEDED, and the handler's signal aborts. */
  expire(): void {
    if (this.#done) return;
    this.#sendStatus(Status.DEADLINE_EXCEEDED, 'Deadline exceeded', undefined);
    this.emit('cancelled');
  }

  #onClose(): void {
    if (this.#done) return;
    this.#finish();
    this.emit('cancelled');
  }
}

/** Answers a call that reaches no handler: trailers-only. */
function refuse(stream: ServerHttp2Stream, code: number, details: string, extra: OutgoingHttpHeaders = {}): void {
  stream.respond({ ...RESPONSE_HEADERS, 'grpc-status': String(code), 'grpc-message': encodedMessage(details), ...extra }, { endStream: true });
}

/**
 * The server: a node:http2 server on a Unix socket, the sessions it holds (for shutdown), and the
 * methods it answers, by path.
 */
export class H2Server {
  readonly #server: Http2Server;
  readonly #methods: ReadonlyMap<string, H2Method>;
  readonly #limits: H2Limits;
  readonly #log: Logger;
  readonly #sessions = new Set<Http2Session>();
  readonly #deadlines = new Deadlines();
  #closing = false;

  constructor(methods: ReadonlyMap<string, H2Method>, limits: H2Limits, log: Logger, maxConcurrentStreams?: number) {
    this.#methods = methods;
    this.#limits = limits;
    this.#log = log;
    // no session memory or header block limit, as grpc-js's own server sessions
    this.#server = createServer({
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
      ...(maxConcurrentStreams !== undefined ? { settings: { maxConcurrentStreams } } : {}),
    });
    this.#server.on('session', (s: Http2Session) => this.#onSession(s));
    this.#server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#onStream(stream, headers));
    // a protocol error or bytes that are not HTTP/2 end that connection only
    this.#server.on('sessionError', (err: Error) => this.#log.debug({ reason: err.message }, 'rpc connection failed; closed'));
  }

  /** Listens on the Unix socket `path` (prepared by the caller). */
  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ path }, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (err: Error) => this.#log.warn({ err }, 'rpc server socket error'));
        resolve();
      });
    });
  }

  /** Graceful: no new connections or calls (GOAWAY), resolves once the calls in flight ended. */
  tryShutdown(): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sessions) if (!s.closed) s.close();
    return closed.then(() => this.#deadlines.close());
  }

  /** Cuts every connection and the calls on them. */
  forceShutdown(): void {
    this.#closing = true;
    if (this.#server.listening) this.#server.close();
    for (const s of this.#sessions) s.destroy();
    this.#deadlines.close();
  }

  #onSession(s: Http2Session): void {
    this.#sessions.add(s);
    s.once('close', () => this.#sessions.delete(s));
    s.on('error', (err: Error) => this.#log.debug({ reason: err.message }, 'rpc connection error'));
    if (this.#closing) s.close();
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined); // its 'close' says what happened
    const contentType = headers[h2.HTTP2_HEADER_CONTENT_TYPE];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      stream.respond({ [h2.HTTP2_HEADER_STATUS]: h2.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE }, { endStream: true });
      return;
    }
    if (headers[h2.HTTP2_HEADER_METHOD] !== 'POST') {
      stream.respond({ [h2.HTTP2_HEADER_STATUS]: h2.HTTP_STATUS_METHOD_NOT_ALLOWED }, { endStream: true });
      return;
    }
    const path = String(headers[h2.HTTP2_HEADER_PATH] ?? '');
    const method = this.#methods.get(path);
    if (method === undefined) return refuse(stream, Status.UNIMPLEMENTED, `The server does not implement the method ${path}`);
    const timeout = headers['grpc-timeout'];
    const deadline = deadlineOfTimeout(typeof timeout === 'string' ? timeout : undefined, Date.now());
    if (deadline === undefined) return refuse(stream, Status.INTERNAL, `Invalid grpc-timeout value "${String(timeout)}"`);
    const call = new H2Call(stream, headers, method, this.#limits, deadline, this.#deadlines);
    void call; // it lives on its stream's listeners
  }
}
