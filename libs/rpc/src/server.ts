/**
 * createRpcServer: a grpc-js server on a Unix socket (directory created, stale socket replaced,
 * live one refused, mode 0660, optional group) or on TCP with TLS, serving the given services
 * through the handler wrapper plus the standard health service, with graceful shutdown. On a Unix
 * socket, `transport: 'http2'` serves the same wrapped handlers through the lean server of
 * h2-server.ts instead of grpc-js's.
 *
 *   const server = await createRpcServer({
 *     log, address: 'unix:///run/netaccel/loader.sock',
 *     services: [rpcService(LoaderService, loaderHandlers)],
 *   });
 *   server.health.setStatus(LoaderService, 'NOT_SERVING');
 *   await server.shutdown({ timeoutMs: 5000 });
 */
import { Server } from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { errorMessage } from '@netaccel/errors';
import { withPort } from './address.js';
import type { RpcAddress } from './address.js';
import { NA_ERR_RPC_BIND_FAILED, NA_ERR_RPC_INVALID_OPTIONS } from './errors.js';
import { CallTracker, serviceNameOf, wrapService } from './handlers.js';
import { H2Server } from './h2-server.js';
import type { H2Method } from './h2-server.js';
import { DEFAULT_MAX_RECEIVE, limitOf } from './h2-unary.js';
import type { AnyServiceRegistration, ServiceDefinitionLike, WrapEnv } from './handlers.js';
import { HealthState, healthService } from './health.js';
import type { HealthReporter } from './health.js';
import { compileServerOptions } from './options.js';
import type { RpcServerOptions } from './options.js';
import { prepareSocketPath, removeSocket, resolveGroup, secureSocket } from './socket.js';
import { serverCredentials } from './tls.js';

export interface ShutdownOptions {
  /** Time in-flight calls get to finish before they are cut, ms. Default: the server's shutdownTimeoutMs. */
  readonly timeoutMs?: number;
}

export interface ShutdownResult {
  /** True when calls were still running at the timeout and were cut. */
  readonly forced: boolean;
}

export interface RpcServer {
  /** The bound address (for TCP port 0: with the port the kernel chose). */
  readonly address: RpcAddress;
  /** What a client connects to: `unix:///...` or `host:port`. */
  readonly target: string;
  /** Per-service health, reported by the health service. */
  readonly health: HealthReporter;
  /** Names of the served services (without the health service). */
  readonly services: readonly string[];
  /**
   * Graceful shutdown: health turns NOT_SERVING, no new calls are accepted, server streams are
   * ended (UNAVAILABLE), unary calls in flight may finish; after the timeout the rest are cut.
   * Then the socket file is removed. Calling it again answers the same promise.
   */
  shutdown(opts?: ShutdownOptions): Promise<ShutdownResult>;
  /** Which server answers: grpc-js's or the lean one (`transport: 'http2'`). */
  readonly transport: 'grpc-js' | 'http2';
  /** The grpc-js server, for what this package does not cover; undefined with `transport: 'http2'`. */
  readonly grpcServer: Server | undefined;
}

/** What createRpcServer needs of either server. */
interface Transport {
  bind(target: string): Promise<number>;
  tryShutdown(): Promise<void>;
  forceShutdown(): void;
}


const HEALTH_SERVICE = 'grpc.health.v1.Health';

function grpcTransport(server: Server, creds: ReturnType<typeof serverCredentials>): Transport {
  return {
    bind: (target) => new Promise((resolve, reject) => {
      server.bindAsync(target, creds, (err, port) => (err === null ? resolve(port) : reject(err)));
    }),
    tryShutdown: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
    forceShutdown: () => server.forceShutdown(),
  };
}

/** The lean server (Unix sockets): the target is the socket path. */
function h2Transport(server: H2Server, path: string): Transport {
  return {
    bind: async () => {
      await server.listen(path);
      return 0;
    },
    tryShutdown: () => server.tryShutdown(),
    forceShutdown: () => server.forceShutdown(),
  };
}

/** Binds and starts a server; see RpcServerOptions for the options and their defaults. */
export async function createRpcServer<const D extends readonly ServiceDefinitionLike[]>(options: RpcServerOptions<D>): Promise<RpcServer> {
  const o = compileServerOptions(options);
  const log = o.log;
  const creds = serverCredentials(o.address, o.tls, o.allowInsecureTcp);

  const names: string[] = [];
  for (const [i, reg] of o.services.entries()) {
    const name = serviceNameOf(reg.definition);
    if (name === HEALTH_SERVICE) throw NA_ERR_RPC_INVALID_OPTIONS(`services[${i}]`, 'the health service is added automatically');
    if (names.includes(name)) throw NA_ERR_RPC_INVALID_OPTIONS(`services[${i}]`, `${name} is registered twice`);
    names.push(name);
  }
  const health = new HealthState(names, o.initialHealth);
  const tracker = new CallTracker();
  const env: WrapEnv = { log, onCall: o.onCall, tracker };
  const all: { reg: AnyServiceRegistration; field: string }[] = [
    ...o.services.map((reg, i) => ({ reg, field: `services[${i}]` })),
    { reg: healthService(health), field: 'health' },
  ];
  let grpcServer: Server | undefined;
  let server: Transport;
  if (o.transport === 'http2' && o.address.kind === 'unix') {
    const methods = new Map<string, H2Method>();
    for (const { reg, field } of all) {
      const wrapped = wrapService(reg, field, env);
      for (const [name, m] of Object.entries(reg.definition)) {
        methods.set(m.path, { path: m.path, kind: m.responseStream ? 'server-stream' : 'unary', deserialize: m.requestDeserialize, serialize: m.responseSerialize, handle: wrapped[name]! });
      }
    }
    const g = o.grpcOptions as Readonly<Record<string, unknown>>;
    const limits = { maxReceive: limitOf(g['grpc.max_receive_message_length'], DEFAULT_MAX_RECEIVE), maxSend: limitOf(g['grpc.max_send_message_length'], Infinity) };
    const streams = g['grpc.max_concurrent_streams'];
    server = h2Transport(new H2Server(methods, limits, log, typeof streams === 'number' ? streams : undefined), o.address.path);
  } else {
    grpcServer = new Server(o.grpcOptions);
    for (const { reg, field } of all) {
      grpcServer.addService(reg.definition as unknown as ServiceDefinition, wrapService(reg, field, env));
    }
    server = grpcTransport(grpcServer, creds);
  }

  const gid = o.socketGroup === undefined ? undefined : await resolveGroup(o.socketGroup);
  let address = o.address;
  let socketIno: number | undefined;
  if (address.kind === 'unix') {
    const createdDir = await prepareSocketPath(address.path, o.socketDirMode, o.staleProbeTimeoutMs, log);
    try {
      await server.bind(address.target);
    } catch (err) {
      server.forceShutdown();
      throw NA_ERR_RPC_BIND_FAILED.with({ cause: err }, address.display, errorMessage(err));
    }
    try {
      socketIno = await secureSocket(address.path, o.socketMode, gid, createdDir);
    } catch (err) {
      server.forceShutdown();
      await removeSocket(address.path, undefined, log);
      throw err;
    }
  } else {
    let port: number;
    try {
      port = await server.bind(address.target);
    } catch (err) {
      server.forceShutdown();
      throw NA_ERR_RPC_BIND_FAILED.with({ cause: err }, address.display, errorMessage(err));
    }
    address = withPort(address, port);
  }
  log.info({ address: address.display, services: names, tls: o.tls !== undefined, transport: o.transport }, 'rpc server listening');

  let shutdownPromise: Promise<ShutdownResult> | undefined;
  const shutdown = (opts: ShutdownOptions = {}): Promise<ShutdownResult> => {
    if (shutdownPromise !== undefined) return shutdownPromise;
    const timeoutMs = opts.timeoutMs ?? o.shutdownTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(NA_ERR_RPC_INVALID_OPTIONS('shutdown.timeoutMs', `expected a whole number of ms >= 0, got ${JSON.stringify(timeoutMs)}`));
    }
    shutdownPromise = (async () => {
      const t0 = performance.now();
      log.info({ address: address.display, inFlight: tracker.size, timeoutMs }, 'rpc server shutting down');
      health.close();
      tracker.abort('streams');
      let forced = false;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([server.tryShutdown(), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        forced = true;
        log.warn({ address: address.display, inFlight: tracker.size }, 'graceful shutdown timed out; cutting the calls still running');
        tracker.abort('all');
        server.forceShutdown();
      }
      if (address.kind === 'unix') await removeSocket(address.path, socketIno, log);
      log.info({ address: address.display, forced, durationMs: Math.round(performance.now() - t0) }, 'rpc server stopped');
      return Object.freeze({ forced });
    })();
    return shutdownPromise;
  };

  const reporter: HealthReporter = Object.freeze({
    setStatus: (service: Parameters<HealthReporter['setStatus']>[0], status: Parameters<HealthReporter['setStatus']>[1]) => health.setStatus(service, status),
    getStatus: (service: Parameters<HealthReporter['getStatus']>[0]) => health.getStatus(service),
    services: () => health.services(),
  });
  return Object.freeze({
    address,
    target: address.target,
    health: reporter,
    services: Object.freeze([...names]),
    shutdown,
    transport: o.transport,
    grpcServer,
  });
}
