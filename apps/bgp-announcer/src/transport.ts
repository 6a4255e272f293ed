/**
 * What the FSM needs from TCP, as two small interfaces: a connection (bytes in and out, close)
 * and a dialer (open a connection to a peer, cancellable). `tcp.ts` implements them on
 * `node:net` (with TCP MD5 and TTL through setsockopt); tests use an in-memory pair.
 */

export interface BgpConnection {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  write(data: Buffer): void;
  /** Sends what is queued, then closes (FIN); the connection is destroyed if that takes too long. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
  onData(cb: (chunk: Buffer) => void): void;
  /** Called once, when the connection is closed by either side or fails. */
  onClose(cb: (err?: Error) => void): void;
}

export interface DialOptions {
  readonly address: string;
  readonly port: number;
  readonly localAddress?: string;
  /** IP TTL / hop limit of the connection's packets (eBGP multihop). */
  readonly ttl?: number;
  /** TCP MD5 signature key (RFC 2385). */
  readonly password?: string;
  /** Give up after this long, ms. */
  readonly timeoutMs: number;
}

/** Opens connections: calls `done` once with the connection or the error; the answer cancels the attempt. */
export interface Dialer {
  dial(opts: DialOptions, done: (err: Error | undefined, conn: BgpConnection | undefined) => void): () => void;
}
