/**
 * Options of createRpcServer and createRpcClient: user options → defaults (one table each, units
 * in comments) → compiled options, validated once and frozen. Errors start with the path of the
 * bad field.
 */
import type { ChannelOptions, ServerOptions } from '@grpc/grpc-js';
import { parseAddress } from './address.js';
import type { RpcAddress } from './address.js';
import { NA_ERR_RPC_INVALID_OPTIONS } from './errors.js';
import type { AnyServiceRegistration, OnCall, ServiceDefinitionLike, ServiceRegistration } from './handlers.js';
import type { HealthStatus } from './health.js';
import { componentLogger } from './logger.js';
import type { Logger } from '@netaccel/errors';
import type { ClientTlsOptions, ServerTlsOptions } from './tls.js';

export const SERVER_DEFAULTS = Object.freeze({
  socketMode: 0o660, // rw for owner and group: group members may connect
  socketDirMode: 0o750, // directories we create: the group may traverse
  shutdownTimeoutMs: 10_000, // 10 s of graceful shutdown, then force
  staleProbeTimeoutMs: 1_000, // 1 s to tell a live socket from a stale one
  initialHealth: 'SERVING' as HealthStatus,
  allowInsecureTcp: false,
  // grpc-js's server unless a daemon opts in to the lean one (h2-server.ts; Unix sockets only)
  transport: 'grpc-js' as 'grpc-js' | 'http2',
});

/**
 * grpc-js options under every server and client (a caller's grpcOptions override them):
 * channelz's per-call bookkeeping off — nothing here reads channelz, and it cost ~35 µs of CPU per
 * unary call on each side over a Unix socket (issue 12, item 4: profile in bench/loader/README.md).
 */
export const GRPC_DEFAULTS = Object.freeze({
  'grpc.enable_channelz': 0, // no channelz call tracking
});

export const CLIENT_DEFAULTS = Object.freeze({
  deadlineMs: 5_000, // 5 s per unary call, unless the call says otherwise
  streamDeadlineMs: 0, // none: watch streams are long-lived; MapDump-style callers pass one
  allowInsecureTcp: false,
  // unary calls to a daemon on a Unix socket through the lean transport (h2-unary.ts: a quarter
  // to a half of grpc-js's client CPU per call, bench/loader/README.md); TCP (TLS) through grpc-js
  unaryTransport: Object.freeze({ unix: 'http2', tcp: 'grpc-js' } as const),
});

/**
 * Options of createRpcServer. `D` lists the definitions of the served services; TypeScript
 * infers it from `services`, so each inline `{ definition, implementation }` is type-checked.
 */
export interface RpcServerOptions<D extends readonly ServiceDefinitionLike[] = readonly ServiceDefinitionLike[]> {
  /** `unix:///run/netaccel/loader.sock`, a socket path, or `host:port` / `[v6]:port` (port 0: any). */
  readonly address: string;
  /** The services to serve; the health service is added to them. */
  readonly services: { readonly [I in keyof D]: ServiceRegistration<D[I]> };
  /** TLS for TCP addresses. */
  readonly tls?: ServerTlsOptions;
  /** Allow TCP without TLS (tests on loopback). Default false. */
  readonly allowInsecureTcp?: boolean;
  readonly log?: Logger;
  /** Mode of the socket file. Default 0o660. */
  readonly socketMode?: number;
  /** Mode of directories created for the socket. Default 0o750. */
  readonly socketDirMode?: number;
  /** Group of the socket file, by name or gid (the daemon must be allowed to chown to it). */
  readonly socketGroup?: string | number;
  /** Health of every service until the daemon sets it. Default SERVING. */
  readonly initialHealth?: HealthStatus;
  /** Graceful shutdown time before calls are cut, ms. Default 10000. */
  readonly shutdownTimeoutMs?: number;
  /** Called after every call with its status and duration. */
  readonly onCall?: OnCall;
  /** Passed to grpc-js (message size limits, keepalive, ...), over GRPC_DEFAULTS. */
  readonly grpcOptions?: ServerOptions;
  /**
   * Which server answers: `grpc-js` (the default) or `http2`, the lean server on node:http2 for
   * Unix sockets (h2-server.ts: unary and server-streaming calls through the same handler
   * wrappers; of grpcOptions it reads the message size limits and `grpc.max_concurrent_streams`).
   */
  readonly transport?: 'grpc-js' | 'http2';
}

export interface CompiledServerOptions {
  readonly address: RpcAddress;
  readonly services: readonly AnyServiceRegistration[];
  readonly tls: ServerTlsOptions | undefined;
  readonly allowInsecureTcp: boolean;
  readonly log: Logger;
  readonly socketMode: number;
  readonly socketDirMode: number;
  readonly socketGroup: string | number | undefined;
  readonly initialHealth: HealthStatus;
  readonly shutdownTimeoutMs: number;
  readonly staleProbeTimeoutMs: number;
  readonly onCall: OnCall | undefined;
  readonly grpcOptions: ServerOptions;
  readonly transport: 'grpc-js' | 'http2';
}

export interface RpcClientOptions {
  /** The daemon's address, as for the server (port 0 is not allowed). */
  readonly address: string;
  /** TLS for TCP addresses. */
  readonly tls?: ClientTlsOptions;
  /** Allow TCP without TLS (tests on loopback). Default false. */
  readonly allowInsecureTcp?: boolean;
  /** Deadline of every unary call unless the call gives one, ms. Default 5000. */
  readonly deadlineMs?: number;
  /** Deadline of every server stream unless the call gives one, ms; 0 for none. Default 0. */
  readonly streamDeadlineMs?: number;
  /** Called after every call with its status and duration. */
  readonly onCall?: OnCall;
  readonly log?: Logger;
  /** Passed to grpc-js (message size limits, keepalive, ...), over GRPC_DEFAULTS. */
  readonly grpcOptions?: ChannelOptions;
  /**
   * How unary calls travel: `http2`, a lean transport on node:http2 for Unix socket addresses
   * (h2-unary.ts; the default for them), or `grpc-js` (the default for TCP, and the opt-out).
   * Server streams always go through grpc-js; waitForReady through the unary transport.
   */
  readonly unaryTransport?: 'grpc-js' | 'http2';
}

export interface CompiledClientOptions {
  readonly address: RpcAddress;
  readonly tls: ClientTlsOptions | undefined;
  readonly allowInsecureTcp: boolean;
  readonly deadlineMs: number;
  readonly streamDeadlineMs: number;
  readonly onCall: OnCall | undefined;
  readonly log: Logger;
  readonly grpcOptions: ChannelOptions;
  readonly unaryTransport: 'grpc-js' | 'http2';
}

type Obj = Record<string, unknown>;

function asObject(value: unknown, path: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw NA_ERR_RPC_INVALID_OPTIONS(path, `expected an object, got ${JSON.stringify(value)}`);
  return value as Obj;
}

function onlyKeys(o: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw NA_ERR_RPC_INVALID_OPTIONS(`${path}${k}`, `unknown option; expected one of ${allowed.join(', ')}`);
  }
}

function bool(o: Obj, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw NA_ERR_RPC_INVALID_OPTIONS(key, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function integer(o: Obj, key: string, dflt: number, min: number, max: number, unit: string): number {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw NA_ERR_RPC_INVALID_OPTIONS(key, `expected a whole number of ${unit} in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function fn<T>(o: Obj, key: string): T | undefined {
  const v = o[key];
  if (v !== undefined && typeof v !== 'function') throw NA_ERR_RPC_INVALID_OPTIONS(key, 'expected a function');
  return v as T | undefined;
}

function plainObject<T>(o: Obj, key: string): T {
  const v = o[key];
  return (v === undefined ? {} : asObject(v, key)) as T;
}

const MAX_MS = 2_147_483_647; // setTimeout's limit

/** Validates a deadline given to one call. */
export function checkDeadline(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_MS) {
    throw NA_ERR_RPC_INVALID_OPTIONS(path, `expected milliseconds in 1..${MAX_MS}, got ${JSON.stringify(value)}`);
  }
  return value;
}

const SERVER_KEYS = [
  'address', 'services', 'tls', 'allowInsecureTcp', 'log', 'socketMode', 'socketDirMode', 'socketGroup',
  'initialHealth', 'shutdownTimeoutMs', 'onCall', 'grpcOptions', 'transport',
] as const;

export function compileServerOptions(input: unknown): CompiledServerOptions {
  const o = asObject(input, 'options');
  onlyKeys(o, SERVER_KEYS, '');
  const address = parseAddress(o.address, { field: 'address', allowPortZero: true });
  if (!Array.isArray(o.services)) throw NA_ERR_RPC_INVALID_OPTIONS('services', 'expected an array of { definition, implementation }');
  const services = (o.services as unknown[]).map((s, i) => {
    const so = asObject(s, `services[${i}]`);
    onlyKeys(so, ['definition', 'implementation'], `services[${i}].`);
    asObject(so.definition, `services[${i}].definition`);
    asObject(so.implementation, `services[${i}].implementation`);
    return s as AnyServiceRegistration;
  });
  const group = o.socketGroup;
  if (group !== undefined && !(typeof group === 'string' && group.length > 0) && !(typeof group === 'number' && Number.isInteger(group) && group >= 0)) {
    throw NA_ERR_RPC_INVALID_OPTIONS('socketGroup', `expected a group name or gid, got ${JSON.stringify(group)}`);
  }
  if (address.kind === 'tcp') {
    for (const k of ['socketMode', 'socketDirMode', 'socketGroup']) {
      if (o[k] !== undefined) throw NA_ERR_RPC_INVALID_OPTIONS(k, `applies to Unix sockets only; address ${address.display} is TCP`);
    }
  }
  const health = o.initialHealth ?? SERVER_DEFAULTS.initialHealth;
  if (health !== 'SERVING' && health !== 'NOT_SERVING') throw NA_ERR_RPC_INVALID_OPTIONS('initialHealth', `expected SERVING or NOT_SERVING, got ${JSON.stringify(health)}`);
  if (o.log !== undefined) asObject(o.log, 'log');
  const transport = o.transport ?? SERVER_DEFAULTS.transport;
  if (transport !== 'grpc-js' && transport !== 'http2') throw NA_ERR_RPC_INVALID_OPTIONS('transport', `expected "grpc-js" or "http2", got ${JSON.stringify(transport)}`);
  if (transport === 'http2' && address.kind !== 'unix') throw NA_ERR_RPC_INVALID_OPTIONS('transport', `"http2" is for Unix socket addresses; ${address.display} is TCP`);
  return Object.freeze({
    transport,
    address,
    services: Object.freeze(services),
    tls: o.tls as ServerTlsOptions | undefined,
    allowInsecureTcp: bool(o, 'allowInsecureTcp', SERVER_DEFAULTS.allowInsecureTcp),
    log: componentLogger(o.log as Logger | undefined, 'rpc-server'),
    socketMode: integer(o, 'socketMode', SERVER_DEFAULTS.socketMode, 0, 0o777, 'mode bits'),
    socketDirMode: integer(o, 'socketDirMode', SERVER_DEFAULTS.socketDirMode, 0, 0o777, 'mode bits'),
    socketGroup: group as string | number | undefined,
    initialHealth: health,
    shutdownTimeoutMs: integer(o, 'shutdownTimeoutMs', SERVER_DEFAULTS.shutdownTimeoutMs, 0, MAX_MS, 'ms'),
    staleProbeTimeoutMs: SERVER_DEFAULTS.staleProbeTimeoutMs,
    onCall: fn<OnCall>(o, 'onCall'),
    grpcOptions: Object.freeze({ ...GRPC_DEFAULTS, ...plainObject<ServerOptions>(o, 'grpcOptions') }),
  });
}

const CLIENT_KEYS = ['address', 'tls', 'allowInsecureTcp', 'deadlineMs', 'streamDeadlineMs', 'onCall', 'log', 'grpcOptions', 'unaryTransport'] as const;

export function compileClientOptions(input: unknown): CompiledClientOptions {
  const o = asObject(input, 'options');
  onlyKeys(o, CLIENT_KEYS, '');
  if (o.log !== undefined) asObject(o.log, 'log');
  const address = parseAddress(o.address, { field: 'address' });
  const unaryTransport = o.unaryTransport ?? CLIENT_DEFAULTS.unaryTransport[address.kind];
  if (unaryTransport !== 'grpc-js' && unaryTransport !== 'http2') throw NA_ERR_RPC_INVALID_OPTIONS('unaryTransport', `expected "grpc-js" or "http2", got ${JSON.stringify(unaryTransport)}`);
  if (unaryTransport === 'http2' && address.kind !== 'unix') throw NA_ERR_RPC_INVALID_OPTIONS('unaryTransport', `"http2" is for Unix socket addresses; ${address.display} is TCP`);
  return Object.freeze({
    unaryTransport,
    address,
    tls: o.tls as ClientTlsOptions | undefined,
    allowInsecureTcp: bool(o, 'allowInsecureTcp', CLIENT_DEFAULTS.allowInsecureTcp),
    deadlineMs: o.deadlineMs === undefined ? CLIENT_DEFAULTS.deadlineMs : checkDeadline(o.deadlineMs, 'deadlineMs'),
    streamDeadlineMs: integer(o, 'streamDeadlineMs', CLIENT_DEFAULTS.streamDeadlineMs, 0, MAX_MS, 'ms'),
    onCall: fn<OnCall>(o, 'onCall'),
    log: componentLogger(o.log as Logger | undefined, 'rpc-client'),
    grpcOptions: Object.freeze({ ...GRPC_DEFAULTS, ...plainObject<ChannelOptions>(o, 'grpcOptions') }),
  });
}
