/**
 * Service implementations as plain async functions. A unary handler is
 * `async (request, ctx) => response`; a server-streaming handler returns an (async) iterable of
 * responses, usually an async generator or a StreamQueue. Handlers throw NetaccelErrors; the
 * wrapper turns them into gRPC statuses through the one table in status.ts, logs unexpected
 * errors with their stack, reports every finished call to the `onCall` hook, and aborts
 * `ctx.signal` when the client cancels, the deadline passes or the server shuts down.
 */
import { status as Status } from '@grpc/grpc-js';
import type { Metadata, ServerUnaryCall, ServerWritableStream, UntypedHandleCall, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import { errorMessage } from '@netaccel/errors';
import { NA_ERR_RPC_CANCELLED, NA_ERR_RPC_DEADLINE_EXCEEDED, NA_ERR_RPC_INVALID_OPTIONS, NA_ERR_RPC_SHUTTING_DOWN } from './errors.js';
import type { Logger } from '@netaccel/errors';
import { callName, splitPath, statusName, toServerFailure } from './status.js';
import type { CallSite } from './status.js';

// --- service definitions (the generated `FooService` constants) -------------------------------

/** One method of a generated service definition (grpc-js MethodDefinition). */
export interface MethodDefinitionLike {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: never) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => unknown;
  readonly responseSerialize: (value: never) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => unknown;
}

/** A generated service definition: `LoaderService`, `HealthService`, ... */
export type ServiceDefinitionLike = { readonly [method: string]: MethodDefinitionLike };

export type RequestOf<M> = M extends { requestDeserialize: (bytes: Buffer) => infer R } ? R : never;
export type ResponseOf<M> = M extends { responseDeserialize: (bytes: Buffer) => infer R } ? R : never;

// --- handlers ----------------------------------------------------------------------------------

/** What a handler knows about its call. */
export interface CallContext extends CallSite {
  /** Request metadata. */
  readonly metadata: Metadata;
  /** The client's address as grpc-js reports it. */
  readonly peer: string;
  /** When the client stops waiting; undefined without a deadline. */
  readonly deadline: Date | undefined;
  /**
   * Aborted when the client cancels, the deadline passes, or (server streams, and every call
   * when shutdown is forced) the server shuts down. Pass it to whatever the handler waits on.
   * A server-streaming handler should end its stream when it aborts; on shutdown, what it
   * produced until then is still sent, and the stream ends with UNAVAILABLE.
   */
  readonly signal: AbortSignal;
  /** The server's logger with `service` and `method` bound. */
  readonly log: Logger;
}

export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res> | Res;
export type ServerStreamHandler<Req, Res> = (request: Req, ctx: CallContext) => AsyncIterable<Res> | Iterable<Res>;

/** The handler type of one method: unary or server-streaming (client streams are not supported). */
export type MethodHandler<M> = M extends { requestStream: false; responseStream: true }
  ? ServerStreamHandler<RequestOf<M>, ResponseOf<M>>
  : M extends { requestStream: false; responseStream: false }
    ? UnaryHandler<RequestOf<M>, ResponseOf<M>>
    : never;

/** A complete implementation of service `D`: one handler per method, named as in `D`. */
export type ServiceHandlers<D> = { readonly [K in keyof D]: MethodHandler<D[K]> };

/** A service to serve: its generated definition and its implementation. */
export interface ServiceRegistration<D extends ServiceDefinitionLike = ServiceDefinitionLike> {
  readonly definition: D;
  readonly implementation: ServiceHandlers<D>;
}

/** A registration of any service, as createRpcServer takes them. */
export interface AnyServiceRegistration {
  readonly definition: ServiceDefinitionLike;
  readonly implementation: object;
}

/** Pairs a definition with its implementation, type-checked: `rpcService(LoaderService, { ... })`. */
export function rpcService<D extends ServiceDefinitionLike>(definition: D, implementation: ServiceHandlers<D>): ServiceRegistration<D> {
  return Object.freeze({ definition, implementation });
}

/** The fully qualified name of a service, from the path of its methods. */
export function serviceNameOf(definition: ServiceDefinitionLike): string {
  const first = Object.values(definition)[0];
  if (first === undefined) throw NA_ERR_RPC_INVALID_OPTIONS('definition', 'a service definition without methods');
  return splitPath(first.path).service;
}

// --- metrics hook ----------------------------------------------------------------------------

/** One finished call, for request counters and latency histograms. */
export interface RpcCallInfo extends CallSite {
  readonly side: 'server' | 'client';
  readonly type: 'unary' | 'server-stream';
  /** gRPC status code and its name ("OK", "NOT_FOUND"). */
  readonly code: Status;
  readonly codeName: string;
  /** The NA_ERR code of a failed call, when there is one. */
  readonly errorCode: string | undefined;
  /** From the call's start to its status (for streams: to the last message). */
  readonly durationMs: number;
}

export type OnCall = (info: RpcCallInfo) => void;

/** Calls the hook; a hook that throws is logged, never breaks the call. */
export function reportCall(onCall: OnCall | undefined, log: Logger, info: RpcCallInfo): void {
  if (onCall === undefined) return;
  try {
    onCall(info);
  } catch (err) {
    log.warn({ err, service: info.service, method: info.method }, 'onCall hook threw; ignored');
  }
}

// --- call tracking (graceful shutdown) -------------------------------------------------------

/** Why a call's signal was aborted. */
type AbortCause = 'client' | 'deadline' | 'shutdown';

/**
 * A call in flight. Its two AbortControllers are made when first needed (a handler reading
 * ctx.signal, a stream's pump, an abort): most unary calls never need them, and Node builds an
 * AbortSignal when one is first read (~12 µs of a ~300 µs call in the loader's profile).
 */
class ActiveCall {
  cause: AbortCause | undefined;
  #controller: AbortController | undefined;
  #stop: AbortController | undefined;

  constructor(readonly type: 'unary' | 'server-stream') {}

  /** The handler's ctx.signal. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** Stops the wrapper reading the handler's stream (client gone, forced shutdown). */
  get stopSignal(): AbortSignal {
    this.#stop ??= new AbortController();
    return this.#stop.signal;
  }

  abort(cause: AbortCause, reason: unknown, hard: boolean): void {
    if (!this.signal.aborted) {
      this.cause = cause;
      this.#controller!.abort(reason);
    }
    if (hard && !this.stopSignal.aborted) this.#stop!.abort(reason);
  }
}

/** The calls in flight on one server, so that shutdown can end them. */
export class CallTracker {
  private readonly active = new Set<ActiveCall>();

  get size(): number {
    return this.active.size;
  }

  start(type: ActiveCall['type']): ActiveCall {
    const call = new ActiveCall(type);
    this.active.add(call);
    return call;
  }

  finish(call: ActiveCall): void {
    this.active.delete(call);
  }

  /**
   * Graceful shutdown ('streams'): aborts the signal of server-streaming handlers, whose
   * streams then end (what they produced until then is still sent). Forced shutdown ('all'):
   * aborts every call and stops reading streams at once.
   */
  abort(which: 'streams' | 'all'): void {
    for (const call of this.active) {
      if (which === 'all') call.abort('shutdown', NA_ERR_RPC_SHUTTING_DOWN('the call'), true);
      else if (call.type === 'server-stream') call.abort('shutdown', NA_ERR_RPC_SHUTTING_DOWN('the stream'), false);
    }
  }
}

// --- the wrapper -------------------------------------------------------------------------------

export interface WrapEnv {
  readonly log: Logger;
  readonly onCall: OnCall | undefined;
  readonly tracker: CallTracker;
}

type GrpcCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/** The call's deadline as ms since the epoch; Infinity without one. */
function deadlineOf(grpcCall: GrpcCall): number {
  const d = grpcCall.getDeadline();
  return d instanceof Date ? d.getTime() : d;
}

/**
 * A 'cancelled' this close to the deadline (ms, at most a quarter of the call's time) is the
 * deadline's: the client's own deadline timer resets the stream at its deadline, which reaches
 * the server a transit time before the server's (taken when the request arrived).
 */
const DEADLINE_SLACK_MS = 50;

/**
 * Wires the call's cancellation and deadline to an ActiveCall; answers the cleanup. A unary call
 * needs no deadline timer of ours (`timer` false): grpc-js ends a call whose deadline passed
 * (DEADLINE_EXCEEDED) and then emits 'cancelled', so a 'cancelled' at or after the deadline is
 * the deadline's (one timer less per call). A server stream keeps the timer: grpc-js's status
 * waits for the stream's trailers, and the pump must stop writing at the deadline itself.
 */
function watchCall(grpcCall: GrpcCall, active: ActiveCall, site: CallSite, at: number, timer: boolean): () => void {
  const t0 = Date.now();
  const deadlineError = (): unknown => NA_ERR_RPC_DEADLINE_EXCEEDED(callName(site), Math.max(0, Math.round(at - t0)), 'the client stopped waiting');
  const onCancelled = (): void => {
    if (Number.isFinite(at) && Date.now() >= at - Math.min(DEADLINE_SLACK_MS, (at - t0) / 4)) active.abort('deadline', deadlineError(), true);
    else active.abort('client', NA_ERR_RPC_CANCELLED(callName(site)), true);
  };
  grpcCall.on('cancelled', onCancelled);
  const t = timer && Number.isFinite(at) ? setTimeout(() => active.abort('deadline', deadlineError(), true), Math.max(0, at - t0)) : undefined;
  t?.unref();
  return () => {
    grpcCall.removeListener('cancelled', onCancelled);
    if (t !== undefined) clearTimeout(t);
  };
}

/**
 * A handler's context. `signal` is the call's, made when a handler asks for it (ActiveCall);
 * `metadata` and `peer` are read from the call when a handler asks for them (the lean server
 * builds its Metadata from the headers only then).
 */
class HandlerContext implements CallContext {
  readonly #active: ActiveCall;
  readonly #call: GrpcCall;

  constructor(
    readonly service: string,
    readonly method: string,
    call: GrpcCall,
    readonly deadline: Date | undefined,
    readonly log: Logger,
    active: ActiveCall,
  ) {
    this.#active = active;
    this.#call = call;
    Object.freeze(this);
  }

  get metadata(): Metadata {
    return this.#call.metadata;
  }

  get peer(): string {
    return this.#call.getPeer();
  }

  get signal(): AbortSignal {
    return this.#active.signal;
  }
}

function contextOf(grpcCall: GrpcCall, site: CallSite, active: ActiveCall, at: number, log: Logger): CallContext {
  const deadline = Number.isFinite(at) ? new Date(at) : undefined;
  return new HandlerContext(site.service, site.method, grpcCall, deadline, log, active);
}

/** Status of a call that ended because the client went away: nothing is sent. */
function goneCode(active: ActiveCall): Status {
  return active.cause === 'deadline' ? Status.DEADLINE_EXCEEDED : Status.CANCELLED;
}

function logFailure(log: Logger, err: unknown, unexpected: boolean, naCode: string, code: Status): void {
  if (unexpected) log.error({ err }, 'handler failed with an unexpected error; answered INTERNAL');
  else if (code === Status.INTERNAL) log.error({ err, code: naCode }, 'handler failed');
  else log.debug({ code: naCode, status: statusName(code), reason: errorMessage(err) }, 'handler answered an error');
}

function wrapUnary(handler: UnaryHandler<unknown, unknown>, site: CallSite, env: WrapEnv, log: Logger): UntypedHandleCall {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    const t0 = performance.now();
    const active = env.tracker.start('unary');
    const at = deadlineOf(call);
    const unwatch = watchCall(call, active, site, at, false);
    const done = (code: Status, errorCode?: string): void => {
      unwatch();
      env.tracker.finish(active);
      if (env.onCall !== undefined) reportCall(env.onCall, env.log, { service: site.service, method: site.method, side: 'server', type: 'unary', code, codeName: statusName(code), errorCode, durationMs: performance.now() - t0 });
    };
    const ctx = contextOf(call, site, active, at, log);
    new Promise<unknown>((resolve) => resolve(handler(call.request, ctx))).then(
      (response) => {
        if (active.cause === 'client' || active.cause === 'deadline') return done(goneCode(active));
        callback(null, response);
        return done(Status.OK);
      },
      (err: unknown) => {
        if (active.cause === 'client' || active.cause === 'deadline') {
          log.debug({ reason: errorMessage(err), cause: active.cause }, 'handler ended after its client went away');
          return done(goneCode(active));
        }
        const f = toServerFailure(active.cause === 'shutdown' ? NA_ERR_RPC_SHUTTING_DOWN(callName(site)) : err, site);
        logFailure(log, err, f.unexpected, f.naCode, f.error.code);
        callback(f.error);
        return done(f.error.code, f.naCode);
      },
    );
  };
}

const ABORTED = Symbol('aborted');

/** Waits for `p`, or answers ABORTED as soon as `signal` aborts. */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.resolve(ABORTED);
  }
  return new Promise<T | typeof ABORTED>((resolve, reject) => {
    const onAbort = (): void => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function iteratorOf<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  const asyncIt = (source as Partial<AsyncIterable<T>>)[Symbol.asyncIterator];
  if (typeof asyncIt === 'function') return asyncIt.call(source);
  const syncIt = (source as Partial<Iterable<T>>)[Symbol.iterator];
  if (typeof syncIt === 'function') return syncIt.call(source);
  throw NA_ERR_RPC_INVALID_OPTIONS('handler', 'a server-streaming handler must return an async iterable or an iterable');
}

function wrapServerStream(handler: ServerStreamHandler<unknown, unknown>, site: CallSite, env: WrapEnv, log: Logger): UntypedHandleCall {
  return (call: ServerWritableStream<unknown, unknown>): void => {
    const t0 = performance.now();
    const active = env.tracker.start('server-stream');
    const stop = active.stopSignal;
    const at = deadlineOf(call);
    const unwatch = watchCall(call, active, site, at, true);
    const done = (code: Status, errorCode?: string): void => {
      unwatch();
      env.tracker.finish(active);
      if (env.onCall !== undefined) reportCall(env.onCall, env.log, { service: site.service, method: site.method, side: 'server', type: 'server-stream', code, codeName: statusName(code), errorCode, durationMs: performance.now() - t0 });
    };
    const ctx = contextOf(call, site, active, at, log);
    let it: AsyncIterator<unknown> | Iterator<unknown> | undefined;
    let finished = false;

    const pump = async (): Promise<void> => {
      it = iteratorOf(handler(call.request, ctx));
      while (true) {
        const r = await unlessAborted(Promise.resolve(it.next()), stop);
        if (r === ABORTED) return;
        if (r.done === true) {
          finished = true;
          return;
        }
        if (stop.aborted) return;
        if (!call.write(r.value)) {
          const drained = new Promise<void>((resolve) => call.once('drain', () => resolve()));
          if ((await unlessAborted(drained, stop)) === ABORTED) return;
        }
      }
    };
    const closeIterator = (): void => {
      // Runs the generator's finally blocks (immediately if it waits at a yield, else once it
      // reaches one); a handler that waits on something else should honour ctx.signal.
      if (!finished && typeof it?.return === 'function') Promise.resolve(it.return()).catch(() => undefined);
    };

    pump().then(
      () => {
        closeIterator();
        if (active.cause === 'client' || active.cause === 'deadline') return done(goneCode(active));
        if (active.cause === 'shutdown') {
          const f = toServerFailure(NA_ERR_RPC_SHUTTING_DOWN(callName(site)), site);
          call.emit('error', f.error);
          return done(f.error.code, f.naCode);
        }
        call.end();
        return done(Status.OK);
      },
      (err: unknown) => {
        closeIterator();
        if (active.cause === 'client' || active.cause === 'deadline') {
          log.debug({ reason: errorMessage(err), cause: active.cause }, 'stream handler ended after its client went away');
          return done(goneCode(active));
        }
        if (active.cause === 'shutdown') {
          // the handler gave up because of the shutdown (typically an AbortError): say so
          log.debug({ reason: errorMessage(err) }, 'stream handler ended by the shutdown');
          const f = toServerFailure(NA_ERR_RPC_SHUTTING_DOWN(callName(site)), site);
          call.emit('error', f.error);
          return done(f.error.code, f.naCode);
        }
        const f = toServerFailure(err, site);
        logFailure(log, err, f.unexpected, f.naCode, f.error.code);
        call.emit('error', f.error);
        return done(f.error.code, f.naCode);
      },
    );
  };
}

/**
 * Turns an implementation into what grpc-js `Server.addService` takes, checking that every
 * method has a handler and that no method streams requests.
 */
export function wrapService(reg: AnyServiceRegistration, field: string, env: WrapEnv): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  const impl = reg.implementation as Record<string, unknown>;
  for (const [name, method] of Object.entries(reg.definition)) {
    const site = splitPath(method.path);
    const handler = impl[name];
    if (typeof handler !== 'function') {
      throw NA_ERR_RPC_INVALID_OPTIONS(`${field}.implementation.${name}`, `missing handler for ${method.path}`);
    }
    if (method.requestStream) {
      throw NA_ERR_RPC_INVALID_OPTIONS(`${field}.definition.${name}`, `${method.path} streams requests; only unary and server-streaming methods are supported`);
    }
    const log = env.log.child({ service: site.service, method: site.method });
    out[name] = method.responseStream
      ? wrapServerStream(handler as ServerStreamHandler<unknown, unknown>, site, env, log)
      : wrapUnary(handler as UnaryHandler<unknown, unknown>, site, env, log);
  }
  for (const name of Object.keys(impl)) {
    if (!(name in reg.definition)) throw NA_ERR_RPC_INVALID_OPTIONS(`${field}.implementation.${name}`, `the service has no method ${name}`);
  }
  return out;
}
