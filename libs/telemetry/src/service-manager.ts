/**
 * The service manager's readiness protocol (sd_notify(3)): a daemon started by systemd with
 * `Type=notify` says `READY=1` once it serves, `STATUS=…` as a line for `systemctl status`,
 * `RELOADING=1` / `STOPPING=1` around a reload or a shutdown. The message is one datagram on the
 * AF_UNIX socket named by `$NOTIFY_SOCKET` (a path, or an abstract name written `@name`). Node
 * has no AF_UNIX datagram sockets, so the three libc calls go through koffi (libc.ts) — required on the
 * first message sent (so only when `$NOTIFY_SOCKET` is set): a daemon started any other way never
 * loads the native addon (~3 MiB of RSS).
 *
 *   const sm = serviceManager();
 *   sm.notify({ READY: '1', STATUS: '3 services, 2 announced' });
 */
import { telemetryErrors } from './errors.js';
import { AF_UNIX, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_DGRAM, lastErrno, unixLibc } from './libc.js';
import type { Logger } from './logger.js';

const { NA_ERR_TELEMETRY_NOTIFY_FAILED } = telemetryErrors;

/** sizeof(struct sockaddr_un.sun_path). */
const SUN_PATH_BYTES = 108;

/** The `struct sockaddr_un` of a `$NOTIFY_SOCKET` value and its length; `@` names an abstract socket. */
export function notifyAddress(socket: string): { readonly addr: Buffer; readonly length: number } {
  const abstract = socket.startsWith('@');
  const path = Buffer.from(abstract ? socket.slice(1) : socket, 'utf8');
  const used = path.length + 1; // an abstract name's leading NUL, or a path's trailing one
  if (!abstract && !socket.startsWith('/')) throw NA_ERR_TELEMETRY_NOTIFY_FAILED(socket, 'not an absolute path or an @abstract name');
  if (used > SUN_PATH_BYTES) throw NA_ERR_TELEMETRY_NOTIFY_FAILED(socket, `longer than ${SUN_PATH_BYTES - 1} bytes`);
  const addr = Buffer.alloc(2 + SUN_PATH_BYTES);
  addr.writeUInt16LE(AF_UNIX, 0);
  path.copy(addr, abstract ? 3 : 2);
  // An abstract name's length is exact (no terminator); a path's includes its NUL.
  return { addr, length: 2 + used };
}

/** The message: one `KEY=value` line per field, in the given order. Values may not hold newlines. */
export function notifyMessage(fields: Readonly<Record<string, string>>): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw NA_ERR_TELEMETRY_NOTIFY_FAILED(key, 'a field name is upper-case letters, digits and _');
    lines.push(`${key}=${value.replace(/\n/g, ' ')}`);
  }
  return lines.join('\n');
}

export interface ServiceManager {
  /** The socket messages go to, or undefined when the process was not started by a service manager. */
  readonly socket: string | undefined;
  /**
   * Sends the fields as one message; false (and nothing done) without a service manager. Throws
   * `NA_ERR_TELEMETRY_NOTIFY_FAILED` when the socket cannot be reached — or, given a logger, logs
   * it (warn) and returns false: a daemon keeps serving when its manager cannot be told.
   */
  notify(fields: Readonly<Record<string, string>>): boolean;
}

/** The `MONOTONIC_USEC` a `RELOADING=1` message carries (CLOCK_MONOTONIC, as process.hrtime). */
export const monotonicUsec = (): string => (process.hrtime.bigint() / 1000n).toString();

/** The service manager that started this process, from `env` (default `process.env`). */
export function serviceManager(env: NodeJS.ProcessEnv = process.env, log?: Logger): ServiceManager {
  const socket = env.NOTIFY_SOCKET === undefined || env.NOTIFY_SOCKET === '' ? undefined : env.NOTIFY_SOCKET;
  const send = (fields: Readonly<Record<string, string>>): boolean => {
    if (socket === undefined) return false;
    const { addr, length } = notifyAddress(socket);
    const msg = Buffer.from(notifyMessage(fields), 'utf8');
    const c = unixLibc();
    const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw NA_ERR_TELEMETRY_NOTIFY_FAILED(socket, `socket: errno ${lastErrno()}`);
    try {
      const sent = c.sendto(fd, msg, msg.length, MSG_NOSIGNAL, addr, length);
      if (sent < 0) throw NA_ERR_TELEMETRY_NOTIFY_FAILED(socket, `sendto: errno ${lastErrno()}`);
    } finally {
      c.close(fd);
    }
    return true;
  };
  return {
    socket,
    notify(fields) {
      if (log === undefined) return send(fields);
      try {
        return send(fields);
      } catch (err) {
        log.warn({ component: 'service-manager', err, fields: Object.keys(fields) }, 'cannot notify the service manager');
        return false;
      }
    },
  };
}
