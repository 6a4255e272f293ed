/**
 * The daemons the CLI talks to: where their sockets are by default and how a person starts one.
 * Sockets live under /run/netaccel/ (ARCHITECTURE.md, "Contracts between daemons"); `--socket` or NETACCEL_<DAEMON>_SOCKET
 * (e.g. NETACCEL_EBPF_LOADER_SOCKET) point elsewhere.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { isNetaccelError } from '@netaccel/errors';
import { createRpcClient } from '@netaccel/rpc';
import type { RpcClient, ServiceClientConstructorLike, ServiceDefinitionLike } from '@netaccel/rpc';
import type { CommandContext } from './command.js';
import { NA_ERR_CLI_DAEMON_DENIED, NA_ERR_CLI_DAEMON_DOWN } from './errors.js';

export type DaemonName = 'ebpf-loader' | 'bgp-announcer' | 'lb-controller' | 'craq-scheduler';

export const SOCKET_DIR = '/run/netaccel';

export function defaultSocket(daemon: DaemonName): string {
  return `${SOCKET_DIR}/${daemon}.sock`;
}

/** How to start a daemon, for the message shown when it is not running. */
export function startHint(daemon: DaemonName): string {
  return `systemctl start ${daemon}  (or run: netaccel-${daemon} --config /etc/netaccel/${daemon}.yaml)`;
}

/** The socket to use: the --socket option, else NETACCEL_<DAEMON>_SOCKET, else the default. */
export function socketFor(daemon: DaemonName, option: string | undefined, env: NodeJS.ProcessEnv): string {
  if (option) return option;
  const fromEnv = env[`NETACCEL_${daemon.toUpperCase().replaceAll('-', '_')}_SOCKET`];
  return fromEnv && fromEnv.length > 0 ? fromEnv : defaultSocket(daemon);
}

/** The user and group names of ids, from /etc/passwd and /etc/group (the ids when unknown). */
function nameOf(file: string, id: number): string {
  try {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.split(':')[2] === String(id));
    return line?.split(':')[0] ?? String(id);
  } catch {
    return String(id);
  }
}

/**
 * Turns "could not connect" into an error that names the daemon, the socket and the fix: the
 * daemon is not running, or it is and this user may not use its socket (mode 0660, group).
 */
export function explainUnavailable(err: unknown, daemon: DaemonName, socket: string): unknown {
  if (!isNetaccelError(err) || err.code !== 'NA_ERR_RPC_UNAVAILABLE') return err;
  try {
    accessSync(socket, constants.R_OK | constants.W_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EACCES') {
      const st = statSync(socket);
      const group = nameOf('/etc/group', st.gid);
      return NA_ERR_CLI_DAEMON_DENIED.with({ cause: err, details: { daemon, socket } }, daemon, socket, nameOf('/etc/passwd', st.uid), group, (st.mode & 0o777).toString(8).padStart(4, '0'), group);
    }
  }
  return NA_ERR_CLI_DAEMON_DOWN.with({ cause: err, details: { daemon, socket } }, daemon, socket, startHint(daemon));
}

/**
 * Connects to a daemon, runs `fn` with a typed client and closes it. Calls get the command's
 * deadline; a daemon that is not running becomes NA_ERR_CLI_DAEMON_DOWN naming the socket.
 */
export async function withDaemon<D extends ServiceDefinitionLike, T>(
  daemon: DaemonName,
  client: ServiceClientConstructorLike<D>,
  ctx: Pick<CommandContext, 'values' | 'env' | 'timeoutMs'>,
  fn: (c: RpcClient<D>) => Promise<T>,
): Promise<T> {
  const socket = socketFor(daemon, typeof ctx.values.socket === 'string' ? ctx.values.socket : undefined, ctx.env);
  const c = createRpcClient(client, { address: socket, deadlineMs: ctx.timeoutMs });
  try {
    return await fn(c);
  } catch (err) {
    throw explainUnavailable(err, daemon, socket);
  } finally {
    c.close();
  }
}
