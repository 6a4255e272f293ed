/**
 * The daemons the CLI talks to: where their sockets are by default and how a person starts one.
 * Sockets live under /run/netaccel/ (ARCHITECTURE.md, "Contracts between daemons"); `--socket` or NETACCEL_<DAEMON>_SOCKET
 * (e.g. NETACCEL_EBPF_LOADER_SOCKET) point elsewhere.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { isNetaccelError } from '@netaccel/errors';
import { HealthClient, RpcError, createRpcClient, healthV1 } from '@netaccel/rpc';
import type { RpcClient, ServiceClientConstructorLike, ServiceDefinitionLike } from '@netaccel/rpc';
import type { CommandContext } from './command.js';
import { NA_ERR_CLI_DAEMON_DENIED, NA_ERR_CLI_DAEMON_DOWN, NA_ERR_CLI_NOT_A_SOCKET, NA_ERR_CLI_NOT_LISTENING, NA_ERR_CLI_SOCKET_MISSING, NA_ERR_CLI_WRONG_DAEMON } from './errors.js';

export type DaemonName = 'ebpf-loader' | 'bgp-announcer' | 'lb-controller' | 'craq-scheduler' | 'sidecar-offload' | 'paxos-replica';

export const SOCKET_DIR = '/run/netaccel';

export function defaultSocket(daemon: DaemonName): string {
  return `${SOCKET_DIR}/${daemon}.sock`;
}

/** How to start a daemon, for the message shown when it is not running. */
export function startHint(daemon: DaemonName): string {
  if (daemon === 'paxos-replica') {
    return 'give --socket: a Paxos replica serves its status on the socket of craq-scheduler (membership.via: paxos) or, in the lab, on paxos-r<i>.sock in the run folder (the lab prints the command)';
  }
  return `systemctl start ${daemon}  (or run: netaccel-${daemon} --config /etc/netaccel/${daemon}.yaml)`;
}

/** Where a socket path came from, for messages: `given by --socket`, `from NETACCEL_LB_CONTROLLER_SOCKET`, `the default`. */
export type SocketSource = 'option' | 'env' | 'default';

export function socketEnvName(daemon: DaemonName): string {
  return `NETACCEL_${daemon.toUpperCase().replaceAll('-', '_')}_SOCKET`;
}

/** The socket to use and where it came from: the --socket option, else NETACCEL_<DAEMON>_SOCKET, else the default. */
export function resolveSocket(daemon: DaemonName, option: string | undefined, env: NodeJS.ProcessEnv): { socket: string; source: SocketSource } {
  if (option) return { socket: option, source: 'option' };
  const fromEnv = env[socketEnvName(daemon)];
  return fromEnv && fromEnv.length > 0 ? { socket: fromEnv, source: 'env' } : { socket: defaultSocket(daemon), source: 'default' };
}

/** The socket to use: the --socket option, else NETACCEL_<DAEMON>_SOCKET, else the default. */
export function socketFor(daemon: DaemonName, option: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolveSocket(daemon, option, env).socket;
}

function sourceText(daemon: DaemonName, source: SocketSource): string {
  return source === 'option' ? 'given by --socket' : source === 'env' ? `from ${socketEnvName(daemon)}` : `${daemon}'s default socket`;
}

/** The services each daemon serves, by their full gRPC names (libs/rpc/proto). */
export const DAEMON_SERVICES: Readonly<Record<string, string>> = Object.freeze({
  'netaccel.loader.v1.Loader': 'ebpf-loader',
  'netaccel.announcer.v1.Announcer': 'bgp-announcer',
  'netaccel.balancer.v1.Balancer': 'lb-controller',
  'netaccel.craq.v1.Craq': 'craq-scheduler',
  'netaccel.sidecar.v1.Sidecar': 'sidecar-offload',
  'netaccel.paxos.v1.Paxos': 'paxos-replica',
});

/** The user and group names of ids, from /etc/passwd and /etc/group (the ids when unknown). */
function nameOf(file: string, id: number): string {
  try {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.split(':')[2] === String(id));
    return line?.split(':')[0] ?? String(id);
  } catch {
    return String(id);
  }
}

function kindOfFile(st: Stats): string {
  return st.isDirectory() ? 'a directory' : st.isFile() ? 'a regular file' : st.isSymbolicLink() ? 'a symbolic link' : 'not a socket';
}

/**
 * Turns "could not connect" into an error that names the cause: no such file, not a socket,
 * nobody listening, or this user may not use the socket (mode 0660, group). `systemctl start`
 * is suggested only for the default socket: a path the user gave may simply be wrong.
 */
export function explainUnavailable(err: unknown, daemon: DaemonName, socket: string, source: SocketSource = 'default'): unknown {
  if (!isNetaccelError(err) || err.code !== 'NA_ERR_RPC_UNAVAILABLE') return err;
  const given = source !== 'default';
  const details = { daemon, socket, source };
  const hint = `${daemon}'s default socket is ${defaultSocket(daemon)}`;
  let st: Stats;
  try {
    st = statSync(socket);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (given) return NA_ERR_CLI_SOCKET_MISSING.with({ cause: err, details }, socket, sourceText(daemon, source), `check the path (${hint})`);
      return NA_ERR_CLI_DAEMON_DOWN.with({ cause: err, details }, daemon, `its socket ${socket} does not exist`, startHint(daemon));
    }
    return err;
  }
  if (!st.isSocket()) {
    return NA_ERR_CLI_NOT_A_SOCKET.with({ cause: err, details }, socket, kindOfFile(st), sourceText(daemon, source), given ? `point it at ${daemon}'s socket (by default ${defaultSocket(daemon)})` : `${daemon} makes it when it starts: remove it and start ${daemon}`);
  }
  try {
    accessSync(socket, constants.R_OK | constants.W_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EACCES') {
      const group = nameOf('/etc/group', st.gid);
      return NA_ERR_CLI_DAEMON_DENIED.with({ cause: err, details }, daemon, socket, nameOf('/etc/passwd', st.uid), group, (st.mode & 0o777).toString(8).padStart(4, '0'), group);
    }
  }
  if (given) return NA_ERR_CLI_NOT_LISTENING.with({ cause: err, details }, socket, sourceText(daemon, source), `start it again, or check the path (${hint})`);
  return NA_ERR_CLI_DAEMON_DOWN.with({ cause: err, details }, daemon, `nobody is listening on ${socket}`, startHint(daemon));
}

/**
 * A call answered UNIMPLEMENTED: asks the socket's health service which services it serves, and
 * when they are another daemon's, says so (`… serves bgp-announcer, not lb-controller`).
 */
export async function explainWrongDaemon(err: unknown, daemon: DaemonName, socket: string, source: SocketSource, timeoutMs: number): Promise<unknown> {
  if (!(err instanceof RpcError) || err.grpcCodeName !== 'UNIMPLEMENTED') return err;
  const h = createRpcClient(HealthClient, { address: socket, deadlineMs: timeoutMs });
  let served: string[];
  try {
    served = Object.keys((await h.list(healthV1.HealthListRequest.create())).statuses).filter((s) => s !== '');
  } catch {
    return err;
  } finally {
    h.close();
  }
  if (served.some((s) => DAEMON_SERVICES[s] === daemon)) return err; // the right daemon, an older version: its own message says which method
  const others = [...new Set(served.map((s) => DAEMON_SERVICES[s] ?? s))];
  const what = others.length === 0 ? 'no netaccel service' : others.join(', ');
  const hint = source === 'option' ? `give --socket ${daemon}'s socket (default ${defaultSocket(daemon)})` : source === 'env' ? `set ${socketEnvName(daemon)} to ${daemon}'s socket` : `${socket} should be ${daemon}'s`;
  return NA_ERR_CLI_WRONG_DAEMON.with({ cause: err, details: { daemon, socket, source, served } }, socket, what, daemon, sourceText(daemon, source), hint);
}

/**
 * Connects to a daemon, runs `fn` with a typed client and closes it. Calls get the command's
 * deadline; a socket that does not answer, or answers for another daemon, becomes an error that
 * says which (explainUnavailable, explainWrongDaemon).
 */
export async function withDaemon<D extends ServiceDefinitionLike, T>(
  daemon: DaemonName,
  client: ServiceClientConstructorLike<D>,
  ctx: Pick<CommandContext, 'values' | 'env' | 'timeoutMs'>,
  fn: (c: RpcClient<D>) => Promise<T>,
): Promise<T> {
  const { socket, source } = resolveSocket(daemon, typeof ctx.values.socket === 'string' ? ctx.values.socket : undefined, ctx.env);
  const c = createRpcClient(client, { address: socket, deadlineMs: ctx.timeoutMs });
  try {
    return await fn(c);
  } catch (err) {
    throw await explainWrongDaemon(explainUnavailable(err, daemon, socket, source), daemon, socket, source, ctx.timeoutMs);
  } finally {
    c.close();
  }
}
