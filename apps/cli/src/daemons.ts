/**
 * The daemons the CLI talks to: where their sockets are by default and how a person starts one.
 * Sockets live under /run/netaccel/ (DESIGN.md); `--socket` or NETACCEL_<DAEMON>_SOCKET
 * (e.g. NETACCEL_EBPF_LOADER_SOCKET) point elsewhere.
 */
import { isNetaccelError } from '@netaccel/errors';
import { createRpcClient } from '@netaccel/rpc';
import type { RpcClient, ServiceClientConstructorLike, ServiceDefinitionLike } from '@netaccel/rpc';
import type { CommandContext } from './command.js';
import { NA_ERR_CLI_DAEMON_DOWN } from './errors.js';

export type DaemonName = 'ebpf-loader' | 'bgp-announcer' | 'lb-controller';

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

/** Turns "could not connect" into an error that names the daemon, the socket and the fix. */
export function explainUnavailable(err: unknown, daemon: DaemonName, socket: string): unknown {
  if (isNetaccelError(err) && err.code === 'NA_ERR_RPC_UNAVAILABLE') {
    return NA_ERR_CLI_DAEMON_DOWN.with({ cause: err, details: { daemon, socket } }, daemon, socket, startHint(daemon));
  }
  return err;
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
