/**
 * createRpcClient: a promise-based client of one service over a generated grpc-js client
 * constructor. Unary methods answer promises and have a default deadline (5 s, overridable per
 * call); server-streaming methods answer async iterables. Failures are RpcErrors: the server's
 * NA_ERR code and message when it sent them, otherwise an NA_ERR_RPC_* code of our own (a daemon
 * that is not running is NA_ERR_RPC_UNAVAILABLE, naming the socket path that was tried).
 *
 *   const loader = createRpcClient(LoaderClient, { address: 'unix:///run/netaccel/loader.sock' });
 *   const { programs } = await loader.listPrograms(ListProgramsRequest.create());
 *   for await (const entry of loader.mapDump(MapDumpRequest.create({ mapId }), { deadlineMs: 30_000 })) { ... }
 *   loader.close();
 */
import { Metadata, status as Status } from '@grpc/grpc-js';
import type { ChannelCredentials, Client, ClientOptions, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { errorMessage } from '@netaccel/errors';
import type { RpcAddress } from './address.js';
import {
  NA_ERR_RPC_CALL_FAILED,
  NA_ERR_RPC_CANCELLED,
  NA_ERR_RPC_DEADLINE_EXCEEDED,
  NA_ERR_RPC_INVALID_OPTIONS,
  NA_ERR_RPC_UNAVAILABLE,
} from './errors.js';
import { H2UnaryTransport, limitsOf } from './h2-unary.js';
import { reportCall } from './handlers.js';
import type { MethodDefinitionLike, RequestOf, ResponseOf, ServiceDefinitionLike } from './handlers.js';
import { checkDeadline, compileClientOptions } from './options.js';
import type { CompiledClientOptions, RpcClientOptions } from './options.js';
import { RpcError, callName, isServiceError, kindOfStatus, remoteErrorOf, splitPath, statusName } from './status.js';
import type { CallSite } from './status.js';
import { clientCredentials } from './tls.js';

export interface CallOptions {
  /** This call's deadline, ms from now (unary default: the client's deadlineMs). */
  readonly deadlineMs?: number;
  /** Cancels the call; the promise rejects (the stream throws) NA_ERR_RPC_CANCELLED. */
  readonly signal?: AbortSignal;
  /** Request metadata. */
  readonly metadata?: Metadata | Readonly<Record<string, string>>;
}

/** A server stream: iterate it; breaking out of the loop (or cancel()) cancels the call. */
export interface RpcStream<T> extends AsyncIterable<T> {
  cancel(): void;
}

export type ClientMethod<M> = M extends { requestStream: false; responseStream: true }
  ? (request: RequestOf<M>, opts?: CallOptions) => RpcStream<ResponseOf<M>>
  : M extends { requestStream: false; responseStream: false }
    ? (request: RequestOf<M>, opts?: CallOptions) => Promise<ResponseOf<M>>
    : never;

export interface RpcClientControl {
  /** The daemon's address. */
  readonly address: RpcAddress;
  /** Fully qualified service name. */
  readonly serviceName: string;
  /** Resolves when connected; NA_ERR_RPC_UNAVAILABLE after timeoutMs (default: the client's deadlineMs). */
  waitForReady(timeoutMs?: number): Promise<void>;
  /** Closes the channel; calls in flight fail. */
  close(): void;
  /** The grpc-js client, for what this package does not cover. */
  readonly grpcClient: Client;
}

/** The typed client of service D: one method per RPC, plus the control methods. */
export type RpcClient<D> = { readonly [K in keyof D]: ClientMethod<D[K]> } & RpcClientControl;

/** A generated client constructor (`LoaderClient`): grpc-js Client class with its definition. */
export interface ServiceClientConstructorLike<D extends ServiceDefinitionLike> {
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): Client;
  readonly service: D;
}

const CONTROL_NAMES: readonly string[] = ['address', 'serviceName', 'waitForReady', 'close', 'grpcClient'];

/** The RpcError for a failed call. */
export function toRpcError(err: unknown, site: CallSite, target: string, deadlineMs: number | undefined): RpcError {
  const name = callName(site);
  if (!isServiceError(err)) {
    const local = NA_ERR_RPC_CALL_FAILED(name, 'UNKNOWN', target, errorMessage(err));
    return RpcError.fromLocal(local, { ...site, target, grpcCode: Status.UNKNOWN }, err);
  }
  const e: ServiceError = err;
  const info = { ...site, target, grpcCode: e.code };
  const remote = remoteErrorOf(e);
  if (remote !== undefined) return new RpcError(remote.code, kindOfStatus(e.code), e.details, { ...info, remote: true }, { details: remote.details });
  switch (e.code) {
    case Status.UNAVAILABLE:
      return RpcError.fromLocal(NA_ERR_RPC_UNAVAILABLE.with({ details: { target } }, name, target, e.details), info, e);
    case Status.DEADLINE_EXCEEDED:
      return RpcError.fromLocal(NA_ERR_RPC_DEADLINE_EXCEEDED(name, deadlineMs ?? 0, `no answer from ${target}`), info, e);
    case Status.CANCELLED:
      return RpcError.fromLocal(NA_ERR_RPC_CANCELLED(name), info, e);
    default: {
      const local = NA_ERR_RPC_CALL_FAILED(name, statusName(e.code), target, e.details);
      return new RpcError(local.code, kindOfStatus(e.code), local.message, { ...info, remote: false }, { cause: e });
    }
  }
}

function metadataOf(m: CallOptions['metadata']): Metadata {
  if (m === undefined) return new Metadata();
  if (m instanceof Metadata) return m;
  const md = new Metadata();
  for (const [k, v] of Object.entries(m)) md.set(k, v);
  return md;
}

interface Caller {
  readonly client: Client;
  readonly o: CompiledClientOptions;
  /** Unary calls' transport when `unaryTransport: 'http2'`. */
  readonly h2: H2UnaryTransport | undefined;
}

function unaryMethod(c: Caller, method: MethodDefinitionLike) {
  const site = splitPath(method.path);
  const target = c.o.address.display;
  return (request: unknown, opts: CallOptions = {}): Promise<unknown> => {
    let deadlineMs: number;
    try {
      deadlineMs = opts.deadlineMs === undefined ? c.o.deadlineMs : checkDeadline(opts.deadlineMs, 'deadlineMs');
    } catch (err) {
      return Promise.reject(err);
    }
    if (opts.signal?.aborted === true) return Promise.reject(RpcError.fromLocal(NA_ERR_RPC_CANCELLED(callName(site)), { ...site, target, grpcCode: Status.CANCELLED }));
    const t0 = performance.now();
    const finish = (err: ServiceError | null, response?: unknown): unknown => {
      const failure = err === null ? undefined : toRpcError(err, site, target, deadlineMs);
      const code = failure?.grpcCode ?? Status.OK;
      if (c.o.onCall !== undefined) {
        reportCall(c.o.onCall, c.o.log, {
          ...site, side: 'client', type: 'unary', code, codeName: statusName(code), errorCode: failure?.code, durationMs: performance.now() - t0,
        });
      }
      if (failure !== undefined) throw failure;
      return response;
    };
    if (c.h2 !== undefined) {
      let message: Buffer;
      try {
        message = (method.requestSerialize as (value: unknown) => Buffer)(request);
      } catch (err) {
        return Promise.reject(err);
      }
      const metadata = opts.metadata === undefined ? undefined : metadataOf(opts.metadata);
      return c.h2.call({ path: method.path, message, metadata, deadlineMs, signal: opts.signal }).then(
        (bytes) => finish(null, method.responseDeserialize(bytes)),
        (err: ServiceError) => finish(err),
      );
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => call.cancel();
      const call = c.client.makeUnaryRequest(
        method.path,
        method.requestSerialize as (value: unknown) => Buffer,
        method.responseDeserialize,
        request,
        metadataOf(opts.metadata),
        { deadline: Date.now() + deadlineMs },
        (err: ServiceError | null, response?: unknown) => {
          opts.signal?.removeEventListener('abort', onAbort);
          try {
            resolve(finish(err, response));
          } catch (failure) {
            reject(failure);
          }
        },
      );
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  };
}

const HIGH_WATER = 64; // messages buffered before the stream is paused (flow control to the server)

function streamMethod(c: Caller, method: MethodDefinitionLike) {
  const site = splitPath(method.path);
  const target = c.o.address.display;
  return (request: unknown, opts: CallOptions = {}): RpcStream<unknown> => {
    const deadlineMs = opts.deadlineMs === undefined ? c.o.streamDeadlineMs || undefined : checkDeadline(opts.deadlineMs, 'deadlineMs');
    let call: ClientReadableStream<unknown> | undefined;
    let cancelledByUs = false;
    const cancel = (): void => {
      cancelledByUs = true;
      call?.cancel();
    };
    async function* iterate(): AsyncGenerator<unknown, void, undefined> {
      if (opts.signal?.aborted === true) throw RpcError.fromLocal(NA_ERR_RPC_CANCELLED(callName(site)), { ...site, target, grpcCode: Status.CANCELLED });
      if (cancelledByUs) return;
      const t0 = performance.now();
      const s = c.client.makeServerStreamRequest(
        method.path,
        method.requestSerialize as (value: unknown) => Buffer,
        method.responseDeserialize,
        request,
        metadataOf(opts.metadata),
        deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs },
      );
      call = s;
      const buffer: unknown[] = [];
      let ended = false;
      let failure: unknown;
      let wake: (() => void) | undefined;
      const notify = (): void => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      s.on('data', (msg: unknown) => {
        buffer.push(msg);
        if (buffer.length >= HIGH_WATER) s.pause();
        notify();
      });
      s.on('error', (err: unknown) => {
        failure ??= err;
        ended = true;
        notify();
      });
      s.on('end', () => {
        ended = true;
        notify();
      });
      const onAbort = (): void => s.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      let code: Status = Status.OK;
      let errorCode: string | undefined;
      try {
        while (true) {
          if (buffer.length > 0) {
            const msg = buffer.shift();
            if (buffer.length < HIGH_WATER / 2 && s.isPaused()) s.resume();
            yield msg;
            continue;
          }
          if (failure !== undefined) {
            if (cancelledByUs) {
              code = Status.CANCELLED;
              return;
            }
            const e = toRpcError(failure, site, target, deadlineMs);
            code = e.grpcCode;
            errorCode = e.code;
            throw e;
          }
          if (ended) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
        if (!ended) {
          // the consumer stopped early (break, return, throw): cancel the call
          cancelledByUs = true;
          code = Status.CANCELLED;
          s.cancel();
        }
        reportCall(c.o.onCall, c.o.log, {
          ...site, side: 'client', type: 'server-stream', code, codeName: statusName(code), errorCode, durationMs: performance.now() - t0,
        });
      }
    }
    const gen = iterate();
    return { [Symbol.asyncIterator]: () => gen, cancel };
  };
}

/** A promise-based client of the service behind `ctor` (a generated `FooClient`). */
export function createRpcClient<D extends ServiceDefinitionLike>(ctor: ServiceClientConstructorLike<D>, options: RpcClientOptions): RpcClient<D> {
  const o = compileClientOptions(options);
  const definition = ctor.service as ServiceDefinitionLike | undefined;
  if (definition === undefined || typeof definition !== 'object') {
    throw NA_ERR_RPC_INVALID_OPTIONS('ctor', 'expected a generated client constructor (e.g. LoaderClient) with a service definition');
  }
  const { credentials, channelOptions } = clientCredentials(o.address, o.tls, o.allowInsecureTcp);
  const client = new ctor(o.address.target, credentials, { ...channelOptions, ...o.grpcOptions });
  const h2 = o.unaryTransport === 'http2' && o.address.kind === 'unix' ? new H2UnaryTransport(o.address.path, limitsOf(o.grpcOptions)) : undefined;
  const c: Caller = { client, o, h2 };
  const first = Object.values(definition)[0];
  const serviceName = first === undefined ? '' : splitPath(first.path).service;

  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    if (CONTROL_NAMES.includes(name)) throw NA_ERR_RPC_INVALID_OPTIONS(`ctor.service.${name}`, 'method name collides with a client control method');
    if (method.requestStream) continue; // client and bidi streams are not supported; no method is made
    out[name] = method.responseStream ? streamMethod(c, method) : unaryMethod(c, method);
  }
  out.address = o.address;
  out.serviceName = serviceName;
  out.grpcClient = client;
  out.close = (): void => {
    h2?.close();
    client.close();
  };
  const notReady = (err: unknown): RpcError => {
    const short = serviceName.slice(serviceName.lastIndexOf('.') + 1);
    const local = NA_ERR_RPC_UNAVAILABLE.with({ cause: err, details: { target: o.address.display } }, short, o.address.display, isServiceError(err) ? err.details : errorMessage(err));
    return RpcError.fromLocal(local, { service: serviceName, method: '', target: o.address.display, grpcCode: Status.UNAVAILABLE }, err);
  };
  // with the lean transport, ready is its session connected (grpc-js's channel connects at the first stream)
  out.waitForReady = (timeoutMs?: number): Promise<void> => {
    let ms: number;
    try {
      ms = timeoutMs === undefined ? o.deadlineMs : checkDeadline(timeoutMs, 'waitForReady.timeoutMs');
    } catch (err) {
      return Promise.reject(err);
    }
    if (h2 !== undefined) return h2.ready(ms).catch((err: unknown) => Promise.reject(notReady(err)));
    return new Promise((resolve, reject) => {
      client.waitForReady(Date.now() + ms, (err) => {
        if (err === undefined || err === null) resolve();
        else reject(notReady(err));
      });
    });
  };
  return Object.freeze(out) as RpcClient<D>;
}
