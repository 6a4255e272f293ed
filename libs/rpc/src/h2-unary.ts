/**
 * The lean unary transport of clients of a daemon on a Unix socket (`unaryTransport: 'http2'`,
 * the default for Unix socket addresses since issue 12's follow-up): one `node:http2` session,
 * each unary call one stream — the request's length-prefixed message, `grpc-timeout`, the
 * caller's metadata — and the status from the trailers (or a trailers-only answer). Issue 12,
 * item 4: grpc-js's client stack (resolving, retrying, load-balancing and subchannel calls,
 * interceptors, filters, its deadline timers) costs a trivial call over a Unix socket ~400 µs of
 * client CPU on this machine, a bare http2 call ~250 (bench/loader/README.md).
 *
 * What it keeps of grpc-js's behaviour: failures are ServiceError-shaped (`code`, `details`,
 * `metadata` parsed from the trailers with grpc-js's Metadata), so toRpcError maps them the same
 * way; a stream the server refused before reading it (REFUSED_STREAM, a GOAWAY racing the call)
 * is sent again once on a new session, like grpc-js's transparent retry; a session that closed,
 * failed or got a GOAWAY is replaced by the next call; the send and receive limits of grpc-js's
 * channel options (`grpc.max_send_message_length`, default none; `grpc.max_receive_message_length`,
 * default 4 MiB; -1: none) fail RESOURCE_EXHAUSTED; the session options grpc-js gives its own
 * sessions (no session memory or header block limit); `ready()` is
 * waitForReady: a session connected, failed connections tried again (100 ms, x1.6, at most 1 s
 * apart) until the deadline.
 *
 * Without a daemon a call fails UNAVAILABLE at once, like a grpc-js call without waitForReady;
 * unlike grpc-js, whose channel then waits out a reconnect backoff (1 s, x1.6, up to 120 s) during
 * which calls fail at once, each call here tries to connect: a caller polling a daemon that is
 * starting reaches it at its first call after the socket is listening. What it does not do:
 * TLS/TCP, compression (it offers none, so servers send none), client or server streams (grpc-js
 * still serves those, on its own connection made at the first stream).
 */
import { connect as h2connect, constants as h2 } from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Metadata, status as Status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';

/** grpc-js's default receive limit (4 MiB), used unless the client's grpcOptions set one. */
export const DEFAULT_MAX_RECEIVE = 4 * 1024 * 1024;

/** waitForReady's pauses between connection attempts: the first, the factor, the longest (ms). */
export const READY_BACKOFF = Object.freeze({ initialMs: 100, factor: 1.6, maxMs: 1000 });

/** The message size limits of grpc-js's channel options; Infinity for none. */
export interface H2Limits {
  readonly maxReceive: number;
  readonly maxSend: number;
}

/** A grpc-js channel option's size limit: -1 is none, undefined the default. */
export function limitOf(v: unknown, dflt: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1) return dflt;
  return v === -1 ? Infinity : v;
}

/** The limits of grpc-js's channel options `grpc.max_receive_message_length` and `grpc.max_send_message_length`. */
export function limitsOf(grpcOptions: Readonly<Record<string, unknown>>): H2Limits {
  return {
    maxReceive: limitOf(grpcOptions['grpc.max_receive_message_length'], DEFAULT_MAX_RECEIVE),
    maxSend: limitOf(grpcOptions['grpc.max_send_message_length'], Infinity),
  };
}

export interface H2UnaryCall {
  readonly path: string;
  readonly message: Buffer;
  readonly metadata: Metadata | undefined;
  readonly deadlineMs: number;
  readonly signal: AbortSignal | undefined;
}

/** A failure in grpc-js's shape. */
function serviceError(code: Status, details: string, metadata: Metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(`${code} ${Status[code]}: ${details}`), { code, details, metadata });
}

/** `grpc-timeout`: at most 8 digits and a unit. */
function timeoutHeader(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  return whole < 1e8 ? `${whole}m` : `${Math.min(99_999_999, Math.ceil(whole / 1000))}S`;
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Header values as grpc-js reads them: the first one as a string. */
function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** One message out of a gRPC body: flag byte (0: not compressed), 4-byte length, the bytes. */
function messageOf(chunks: Buffer[], length: number): Buffer | ServiceError {
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
  if (body.length < 5) return serviceError(Status.INTERNAL, `a response of ${body.length} bytes is not a message`);
  if (body[0] !== 0) return serviceError(Status.INTERNAL, 'a compressed response, though none was offered');
  const n = body.readUInt32BE(1);
  if (n !== body.length - 5) return serviceError(Status.INTERNAL, `a response of ${body.length} bytes is not one message of ${n}`);
  return body.subarray(5);
}

const BASE_HEADERS: OutgoingHttpHeaders = Object.freeze({
  [h2.HTTP2_HEADER_METHOD]: 'POST',
  [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
  [h2.HTTP2_HEADER_TE]: 'trailers',
});

export class H2UnaryTransport {
  readonly #socketPath: string;
  readonly #maxReceive: number;
  readonly #maxSend: number;
  #session: ClientHttp2Session | undefined;
  #closed = false;
  /** Why the last session failed (ECONNREFUSED, ENOENT …), for the calls it failed. */
  #lastError = '';

  constructor(socketPath: string, limits: H2Limits = { maxReceive: DEFAULT_MAX_RECEIVE, maxSend: Infinity }) {
    this.#socketPath = socketPath;
    this.#maxReceive = limits.maxReceive;
    this.#maxSend = limits.maxSend;
  }

  /** Sends one request; answers the response message's bytes, or rejects with a ServiceError. */
  call(c: H2UnaryCall): Promise<Buffer> {
    if (this.#closed) return Promise.reject(serviceError(Status.UNAVAILABLE, 'the client is closed'));
    if (c.message.length > this.#maxSend) {
      return Promise.reject(serviceError(Status.RESOURCE_EXHAUSTED, `Attempted to send message with a size larger than ${this.#maxSend}`));
    }
    return this.#attempt(c, true);
  }

  /**
   * Resolves once a session is connected (the one the next calls use); a failed connection is
   * tried again after a pause (READY_BACKOFF) until `timeoutMs` has passed, then rejects
   * UNAVAILABLE with the last connection error.
   */
  async ready(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    let pause: number = READY_BACKOFF.initialMs;
    for (;;) {
      if (this.#closed) throw serviceError(Status.UNAVAILABLE, 'the client is closed');
      const why = await this.#connected(end - Date.now());
      if (why === undefined) return;
      const left = end - Date.now();
      if (left <= 0 || this.#closed) throw serviceError(Status.UNAVAILABLE, `no connection established within ${timeoutMs} ms (${why})`);
      await sleep(Math.min(pause, left));
      pause = Math.min(READY_BACKOFF.maxMs, pause * READY_BACKOFF.factor);
    }
  }

  /** Waits up to `ms` for the current (or a new) session to connect: undefined, or why it did not. */
  #connected(ms: number): Promise<string | undefined> {
    let s: ClientHttp2Session;
    try {
      s = this.#sessionNow();
    } catch (err) {
      return Promise.resolve((err as Error).message);
    }
    if (!s.connecting) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (why: string | undefined): void => {
        clearTimeout(timer);
        s.off('connect', onConnect);
        s.off('close', onClose);
        resolve(why);
      };
      const onConnect = (): void => done(undefined);
      const onClose = (): void => done(this.#lastError === '' ? 'the connection closed' : this.#lastError);
      const timer = setTimeout(() => done('still connecting'), Math.max(0, ms));
      s.once('connect', onConnect);
      s.once('close', onClose);
    });
  }

  /** Closes the session; calls in flight fail UNAVAILABLE. */
  close(): void {
    this.#closed = true;
    this.#session?.destroy();
    this.#session = undefined;
  }

  #sessionNow(): ClientHttp2Session {
    const s = this.#session;
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    const path = this.#socketPath;
    // no session memory limit and no header block limit, as grpc-js's own sessions
    const session = h2connect('http://localhost', { createConnection: () => netConnect(path), maxSessionMemory: Number.MAX_SAFE_INTEGER, maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER });
    const forget = (): void => {
      if (this.#session === session) this.#session = undefined;
    };
    // a call in flight fails on its stream; the next call makes a new session
    session.on('error', (err: Error) => {
      this.#lastError = err.message;
      forget();
    });
    session.on('goaway', forget);
    session.on('close', forget);
    session.unref(); // an idle client does not keep the process alive (as grpc-js's channel)
    session.once('connect', () => {
      this.#lastError = '';
    });
    this.#session = session;
    return session;
  }

  #attempt(c: H2UnaryCall, mayRetry: boolean): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let stream: ClientHttp2Stream;
      try {
        const headers: OutgoingHttpHeaders = { ...BASE_HEADERS, [h2.HTTP2_HEADER_PATH]: c.path, 'grpc-timeout': timeoutHeader(c.deadlineMs) };
        if (c.metadata !== undefined) Object.assign(headers, c.metadata.toHttp2Headers());
        stream = this.#sessionNow().request(headers);
      } catch (err) {
        reject(serviceError(Status.UNAVAILABLE, `cannot start a call: ${(err as Error).message}`));
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      let answered = false; // response headers seen: the server took the call
      let outcome: Buffer | ServiceError | undefined;
      const end = (failure?: ServiceError): void => {
        if (failure !== undefined) outcome ??= failure;
        if (!stream.closed) stream.close(h2.NGHTTP2_CANCEL);
      };
      const timer = setTimeout(() => end(serviceError(Status.DEADLINE_EXCEEDED, 'Deadline exceeded')), c.deadlineMs);
      const onAbort = (): void => end(serviceError(Status.CANCELLED, 'Cancelled on client'));
      c.signal?.addEventListener('abort', onAbort, { once: true });
      const status = (h: IncomingHttpHeaders): void => {
        const code = first(h['grpc-status']);
        if (code === undefined) return;
        const n = Number(code);
        if (n === Status.OK) return;
        outcome ??= serviceError(Number.isInteger(n) && n > 0 && n <= 16 ? n : Status.UNKNOWN, percentDecoded(first(h['grpc-message']) ?? ''), Metadata.fromHttp2Headers(h));
      };
      stream.on('response', (h) => {
        answered = true;
        const httpStatus = Number(h[h2.HTTP2_HEADER_STATUS]);
        if (httpStatus !== 200) return end(serviceError(Status.UNKNOWN, `HTTP status ${httpStatus} from the server`));
        status(h); // a trailers-only answer
      });
      stream.on('trailers', status);
      let declared = -1; // the response message's length, once its prefix is in
      stream.on('data', (d: Buffer) => {
        if (outcome !== undefined) return;
        length += d.length;
        chunks.push(d);
        if (declared < 0 && length >= 5) declared = (chunks.length === 1 ? d : Buffer.concat(chunks)).readUInt32BE(1);
        // grpc-js's words, so the RpcError is the same through either transport
        if (declared > this.#maxReceive) return end(serviceError(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${declared} vs ${this.#maxReceive})`));
        if (length > this.#maxReceive + 5) return end(serviceError(Status.RESOURCE_EXHAUSTED, `a response larger than ${this.#maxReceive} bytes`));
      });
      stream.on('error', () => undefined); // the close below says what happened
      stream.on('close', () => {
        clearTimeout(timer);
        c.signal?.removeEventListener('abort', onAbort);
        if (outcome === undefined && stream.rstCode === h2.NGHTTP2_REFUSED_STREAM && !answered && mayRetry && !this.#closed) {
          this.#attempt(c, false).then(resolve, reject); // not read by the server: send it again, once
          return;
        }
        if (outcome === undefined) {
          if (!answered || stream.rstCode !== h2.NGHTTP2_NO_ERROR) {
            const why = this.#lastError === '' ? `stream reset ${stream.rstCode}` : this.#lastError;
            outcome = serviceError(Status.UNAVAILABLE, answered ? `the connection ended before the answer (${why})` : `no connection established (${why})`);
          } else {
            outcome = messageOf(chunks, length);
          }
        }
        if (Buffer.isBuffer(outcome)) resolve(outcome);
        else reject(outcome);
      });
      stream.end(framed(c.message));
    });
  }
}

/** A gRPC message as HTTP/2 DATA carries it (a request's or an answer's body): flag byte 0 (not
 * compressed), 4-byte length, the message. */
export function framed(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}
