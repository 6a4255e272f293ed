/**
 * The other end of the readiness protocol: an AF_UNIX datagram socket bound where systemd would
 * listen (a path, or `@name` for an abstract socket), for the tests of daemons that notify.
 * Through the same libc binding as `serviceManager()` (libc.ts), so koffi is loaded only when a
 * receiver is made.
 *
 *   const r = notifyReceiver(join(dir, 'notify'));
 *   … start the daemon with { NOTIFY_SOCKET: r.socket } …
 *   assert.deepEqual(r.drain(), ['READY=1\nSTATUS=…']);
 *   r.close();
 */
import { telemetryErrors } from './errors.js';
import { AF_UNIX, MSG_DONTWAIT, SOCK_CLOEXEC, SOCK_DGRAM, lastErrno, unixLibc } from './libc.js';
import { notifyAddress } from './service-manager.js';

const { NA_ERR_TELEMETRY_NOTIFY_LISTEN } = telemetryErrors;

/** The largest message read (the service manager's own limit is larger; ours are a few lines). */
const MAX_MESSAGE_BYTES = 4096;

export interface NotifyReceiver {
  /** The socket as `$NOTIFY_SOCKET` names it. */
  readonly socket: string;
  /** The oldest message not yet read, or undefined when none waits. */
  read(): string | undefined;
  /** Every message waiting, oldest first. */
  drain(): string[];
  /** Closes the socket (a path stays in the file system). */
  close(): void;
}

/** Binds a receiver at `socket` (a path, or `@name`). Throws `NA_ERR_TELEMETRY_NOTIFY_LISTEN` naming the errno. */
export function notifyReceiver(socket: string): NotifyReceiver {
  const { addr, length } = notifyAddress(socket);
  const c = unixLibc();
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw NA_ERR_TELEMETRY_NOTIFY_LISTEN(socket, `socket: errno ${lastErrno()}`);
  if (c.bind(fd, addr, length) !== 0) {
    const errno = lastErrno();
    c.close(fd);
    throw NA_ERR_TELEMETRY_NOTIFY_LISTEN(socket, `bind: errno ${errno}`);
  }
  let open = true;
  const read = (): string | undefined => {
    if (!open) return undefined;
    const buf = Buffer.alloc(MAX_MESSAGE_BYTES);
    const n = c.recv(fd, buf, buf.length, MSG_DONTWAIT);
    return n < 0 ? undefined : buf.subarray(0, n).toString('utf8');
  };
  return {
    socket,
    read,
    drain() {
      const out: string[] = [];
      for (let m = read(); m !== undefined; m = read()) out.push(m);
      return out;
    },
    close() {
      if (open) c.close(fd);
      open = false;
    },
  };
}
