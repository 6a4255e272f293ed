/**
 * A minimal user-space relay standing in for the proxy in the socket-level tests: accepts a
 * client connection, connects to the upstream, pairs the two sockets in the kernel (so allowed
 * frames never reach it) and relays, frame by frame, whatever the kernel hands to user space. A
 * HEADERS frame whose :path the policy denies is answered with a trailers-only PERMISSION_DENIED
 * (grpc-status 7) and the rest of that stream is not forwarded; everything else is forwarded as
 * it came. It counts the bytes it read, which is how the tests see what the kernel kept.
 */
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { reverseSockKey } from './codec.js';
import type { SockKey } from './codec.js';
import { H2_FRAME, HPACK_STATIC, decodeBlock, headerBlock, headersFrame, hpackIndexed, hpackLiteral, readFrames } from './h2-frames.js';
import type { SidecarObject } from './sidecar-harness.js';

export interface RelayOptions {
  readonly sidecar: SidecarObject;
  readonly upstreamPort: number;
  /** What user space decides for a method path. */
  readonly policy: (path: string) => 'allow' | 'deny';
  /**
   * How the kernel takes the bytes: `skb` (default) pairs the relay's two sockets (sk_skb
   * verdict); `msg` pairs the client's socket with the upstream's accepted one (sk_msg at send
   * time), written before the upstream connection exists (its local port is chosen first) so
   * that not even the upstream's first SETTINGS takes the normal path; `none` keeps every byte
   * in user space.
   */
  readonly pair?: 'skb' | 'msg' | 'none';
}

export interface RelayedConnection {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly clientKey: SockKey;
  readonly upstreamKey: SockKey;
  /** Bytes read from each side in user space. */
  readonly read: { fromClient: number; fromUpstream: number };
  /** Streams answered PERMISSION_DENIED by the relay. */
  readonly denied: number[];
}

/** A TCP port free on 127.0.0.1 right now (the kernel's pick for a listener on port 0). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

function keyOf(s: Socket): SockKey {
  return { localAddress: s.localAddress!, localPort: s.localPort!, remoteAddress: s.remoteAddress!, remotePort: s.remotePort! };
}

/** The trailers-only answer to a denied call. */
export function permissionDenied(stream: number): Buffer {
  const block = Buffer.concat([
    hpackIndexed(HPACK_STATIC.STATUS_200),
    hpackLiteral({ name: 'content-type', nameIndex: HPACK_STATIC.CONTENT_TYPE, value: 'application/grpc', kind: 'without', huffman: false }),
    hpackLiteral({ name: 'grpc-status', value: '7', kind: 'without', huffman: false }),
    hpackLiteral({ name: 'grpc-message', value: 'denied by policy', kind: 'without', huffman: false }),
  ]);
  return headersFrame(stream, block, { endStream: true });
}

export class FrameRelay {
  readonly connections: RelayedConnection[] = [];
  readonly #server: Server;
  readonly #opts: RelayOptions;
  readonly #waiters: (() => void)[] = [];

  private constructor(server: Server, opts: RelayOptions) {
    this.#server = server;
    this.#opts = opts;
  }

  static async start(opts: RelayOptions): Promise<FrameRelay> {
    const holder: { relay?: FrameRelay } = {};
    const server = createServer((client) => holder.relay?.accept(client));
    const relay = new FrameRelay(server, opts);
    holder.relay = relay;
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Resolves when `n` connections have been accepted and paired. */
  async paired(n: number): Promise<RelayedConnection> {
    while (this.connections.length < n) await new Promise<void>((r) => this.#waiters.push(r));
    return this.connections[n - 1]!;
  }

  private accept(client: Socket): void {
    client.setNoDelay(true);
    const mode = this.#opts.pair ?? 'skb';
    void (mode === 'msg' ? freePort() : Promise.resolve(0)).then((localPort) => {
      if (mode === 'msg') {
        // the client's socket <-> the upstream's accepted socket, both seen from themselves
        const clientSide = reverseSockKey(keyOf(client));
        const upstreamSide = { localAddress: '127.0.0.1', localPort: this.#opts.upstreamPort, remoteAddress: '127.0.0.1', remotePort: localPort };
        this.#opts.sidecar.pair(clientSide, upstreamSide);
      }
      this.relay(client, createConnection({ port: this.#opts.upstreamPort, host: '127.0.0.1', noDelay: true, ...(localPort ? { localAddress: '127.0.0.1', localPort } : {}) }));
    });
  }

  private relay(client: Socket, upstream: Socket): void {
    const read = { fromClient: 0, fromUpstream: 0 };
    const denied: number[] = [];
    let fromClient: Buffer = Buffer.alloc(0);
    let started = false;
    const toUpstream: Buffer[] = [];
    let upstreamUp = false;
    const send = (b: Buffer) => (upstreamUp ? upstream.write(b) : toUpstream.push(b));
    let skip: number | undefined;
    client.on('data', (d: Buffer) => {
      read.fromClient += d.length;
      fromClient = Buffer.concat([fromClient, d]);
      // The first bytes handed over may end a frame the kernel forwarded: forward them as they are.
      const judged = (this.#opts.pair ?? 'skb') === 'msg' ? reverseSockKey(keyOf(client)) : keyOf(client);
      skip ??= this.#opts.sidecar.conn(judged)?.userSkip ?? 0;
      if (skip > 0) {
        const n = Math.min(skip, fromClient.length);
        send(fromClient.subarray(0, n));
        fromClient = fromClient.subarray(n);
        skip -= n;
        started = true;
      }
      const { frames, rest, preface } = readFrames(fromClient, !started);
      if (preface || frames.length > 0) started = true;
      if (preface) send(fromClient.subarray(0, 24));
      fromClient = rest;
      for (const f of frames) {
        if (f.type === H2_FRAME.HEADERS && !denied.includes(f.stream)) {
          let path: string | undefined;
          try {
            path = decodeBlock(headerBlock(f)).get(':path');
          } catch {
            path = undefined; // a block this relay cannot read (dynamic table): forwarded, the upstream judges it
          }
          if (path !== undefined && this.#opts.policy(path) === 'deny') {
            denied.push(f.stream);
            client.write(permissionDenied(f.stream));
            continue;
          }
        }
        if (denied.includes(f.stream)) continue;
        send(f.raw);
      }
    });
    upstream.on('data', (d: Buffer) => {
      read.fromUpstream += d.length;
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.once('connect', () => {
      const conn: RelayedConnection = { client, upstream, clientKey: keyOf(client), upstreamKey: keyOf(upstream), read, denied };
      if ((this.#opts.pair ?? 'skb') === 'skb') this.#opts.sidecar.pair(conn.clientKey, conn.upstreamKey);
      upstreamUp = true;
      for (const b of toUpstream.splice(0)) upstream.write(b);
      this.connections.push(conn);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  async close(): Promise<void> {
    for (const c of this.connections) {
      c.client.destroy();
      c.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
