/**
 * BGP over real TCP (node:net): connections, the dialer (with TCP MD5 set before the SYN by
 * opening the socket through libc, and IP TTL for eBGP multihop) and the listeners on port 179
 * (MD5 keys of every peer with a password set on the listening socket before any SYN arrives).
 */
import net from 'node:net';
import { errorMessage } from '@netaccel/errors';
import { NA_ERR_BGPD_LISTEN_FAILED, NA_ERR_BGPD_SOCKET_OPTION } from './errors.js';
import { AF_INET, AF_INET6, bindTo, closeFd, connectResult, connectStart, setMd5, setTtl, tcpSocket } from './libc.js';
import type { BgpConnection, DialOptions, Dialer } from './transport.js';

const END_GRACE_MS = 1000; // after end(), destroy if the FIN handshake takes longer

/** The file descriptor of a net.Socket or net.Server (Linux; libuv keeps it on the handle). */
export function fdOf(x: net.Socket | net.Server): number {
  const fd = (x as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the socket has no file descriptor');
  return fd;
}

export class NetConnection implements BgpConnection {
  private closeCb: ((err?: Error) => void) | undefined;
  private closed = false;
  private error: Error | undefined;

  constructor(private readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on('error', (err) => {
      this.error = err;
    });
    sock.on('close', () => {
      this.closed = true;
      this.closeCb?.(this.error);
    });
    sock.on('end', () => sock.end());
  }

  get localAddress(): string {
    return this.sock.localAddress ?? '';
  }
  get localPort(): number {
    return this.sock.localPort ?? 0;
  }
  get remoteAddress(): string {
    return this.sock.remoteAddress ?? '';
  }
  get remotePort(): number {
    return this.sock.remotePort ?? 0;
  }

  write(data: Buffer): void {
    if (!this.closed && this.sock.writable) this.sock.write(data);
  }

  end(): void {
    if (this.closed) return;
    this.sock.end();
    setTimeout(() => this.sock.destroy(), END_GRACE_MS).unref();
  }

  destroy(): void {
    this.sock.destroy();
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.sock.on('data', cb);
  }

  onClose(cb: (err?: Error) => void): void {
    this.closeCb = cb;
  }
}

function familyOf(address: string): number {
  return net.isIPv6(address) ? AF_INET6 : AF_INET;
}

/** Dials with libc so that the MD5 key is on the socket before connect(); answers a connected net.Socket. */
function dialMd5(opts: DialOptions, done: (err: Error | undefined, sock: net.Socket | undefined) => void): () => void {
  const family = familyOf(opts.address);
  let fd = -1;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  const finish = (err: Error | undefined, sock?: net.Socket): void => {
    if (finished) return;
    finished = true;
    if (timer !== undefined) clearInterval(timer);
    if (err !== undefined && fd >= 0) closeFd(fd);
    done(err, sock);
  };
  const wrap = (): void => {
    const sock = new net.Socket({ fd, readable: true, writable: true });
    finish(undefined, sock);
  };
  try {
    fd = tcpSocket(family);
    setMd5(fd, family, opts.address, opts.password!);
    if (opts.ttl !== undefined) setTtl(fd, family, opts.ttl);
    if (opts.localAddress !== undefined) bindTo(fd, opts.localAddress, family);
    if (connectStart(fd, opts.address, opts.port, family)) {
      queueMicrotask(wrap);
    } else {
      const t0 = Date.now();
      timer = setInterval(() => {
        const r = connectResult(fd);
        if (r === undefined) {
          if (Date.now() - t0 > opts.timeoutMs) finish(new Error(`connect to ${opts.address}:${opts.port} timed out`));
          return;
        }
        if (r === 0) wrap();
        else finish(Object.assign(new Error(`connect to ${opts.address}:${opts.port}: errno ${r}`), { errno: r }));
      }, 5);
    }
  } catch (err) {
    queueMicrotask(() => finish(err as Error));
  }
  return () => finish(new Error('cancelled'));
}

export class TcpDialer implements Dialer {
  dial(opts: DialOptions, done: (err: Error | undefined, conn: BgpConnection | undefined) => void): () => void {
    let finished = false;
    const answer = (err: Error | undefined, sock: net.Socket | undefined): void => {
      if (finished) {
        sock?.destroy();
        return;
      }
      finished = true;
      if (err !== undefined || sock === undefined) return done(err ?? new Error('no socket'), undefined);
      done(undefined, new NetConnection(sock));
    };
    if (opts.password !== undefined) {
      const cancel = dialMd5(opts, answer);
      return () => {
        if (!finished) {
          finished = true;
          cancel();
        }
      };
    }
    const sock = net.connect({ host: opts.address, port: opts.port, ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }), timeout: opts.timeoutMs });
    const onErr = (err: Error): void => {
      sock.destroy();
      answer(err, undefined);
    };
    sock.once('error', onErr);
    sock.once('timeout', () => onErr(new Error(`connect to ${opts.address}:${opts.port} timed out`)));
    sock.once('connect', () => {
      sock.removeListener('error', onErr);
      sock.setTimeout(0);
      if (opts.ttl !== undefined) {
        try {
          setTtl(fdOf(sock), familyOf(opts.address), opts.ttl);
        } catch (err) {
          return onErr(NA_ERR_BGPD_SOCKET_OPTION('IP_TTL', opts.address, errorMessage(err)));
        }
      }
      answer(undefined, sock);
    });
    return () => {
      if (!finished) {
        finished = true;
        sock.destroy();
      }
    };
  }
}

/** A listening socket for BGP; MD5 keys are (re)set per peer with `setPassword`. */
export class TcpListener {
  private readonly server: net.Server;
  private readonly family: number;

  constructor(
    readonly host: string,
    readonly port: number,
    onConnection: (conn: BgpConnection) => void,
  ) {
    this.family = net.isIPv6(host) ? AF_INET6 : AF_INET;
    this.server = net.createServer({ noDelay: true }, (sock) => onConnection(new NetConnection(sock)));
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      const onErr = (err: Error): void => reject(NA_ERR_BGPD_LISTEN_FAILED.with({ cause: err }, `${this.host}:${this.port}`, err.message));
      this.server.once('error', onErr);
      this.server.listen({ host: this.host, port: this.port, ipv6Only: false }, () => {
        this.server.removeListener('error', onErr);
        resolve();
      });
    });
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Sets (or with undefined, removes) the TCP MD5 key for a peer address. */
  setPassword(peer: string, password: string | undefined): void {
    if (this.family === AF_INET && net.isIPv6(peer)) return;
    try {
      setMd5(fdOf(this.server), this.family, peer, password ?? '');
    } catch (err) {
      if (password !== undefined) throw NA_ERR_BGPD_SOCKET_OPTION('TCP_MD5SIG', `${this.host}:${this.port} for ${peer}`, errorMessage(err));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
