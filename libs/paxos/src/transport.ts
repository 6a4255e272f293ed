/**
 * The datagram transport a replica and a client use: UDP over IPv4 or IPv6 (`node:dgram`), one
 * message per datagram. The interface lets tests wrap the socket (faults.ts) and lets the fake
 * offload sit where the kernel would.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import { canonicalIp, ipFamily } from '@netaccel/protocol';
import { NA_ERR_PAXOS_INVALID_OPTIONS } from './errors.js';

export interface Peer {
  readonly address: string;
  readonly port: number;
}

export type DatagramHandler = (data: Buffer, from: Peer) => void;

export interface Transport {
  /** The local address and port (the port chosen by the kernel when bound to 0). */
  readonly local: Peer;
  send(data: Buffer, to: Peer): void;
  /** The one receiver of incoming datagrams (a later call replaces it). */
  onMessage(handler: DatagramHandler): void;
  close(): Promise<void>;
}

/** `address|port` with the address canonical, to compare peers. */
export function peerKey(p: Peer): string {
  return `${canonicalIp(p.address)}|${p.port}`;
}

export interface UdpTransportOptions {
  readonly address: string;
  /** 0: any free port. */
  readonly port: number;
  /** Socket buffer sizes in bytes (0: the system's default). */
  readonly bufferBytes?: number;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram resolves the address of every send (dns.lookup: an IP check and a process.nextTick even
 * for a literal, so each datagram costs a deferred callback); peers are IP literals, so those are
 * answered at once (the send happens inline) and anything else goes to dns.lookup.
 */
function literalLookup(family: 4 | 6): (address: string, options: number | dns.LookupOptions, cb: LookupCallback) => void {
  const literal = new Map<string, boolean>();
  return (address, options, cb) => {
    let ok = literal.get(address);
    if (ok === undefined) {
      ok = ipFamily(address) === family;
      if (literal.size < 1024) literal.set(address, ok);
    }
    if (ok) cb(null, address, family);
    else dns.lookup(address, { ...(typeof options === 'number' ? { family: options } : options), all: false }, cb);
  };
}

/** A UDP socket bound to `address:port`. */
export async function udpTransport(opts: UdpTransportOptions): Promise<Transport> {
  const family = ipFamily(opts.address);
  if (family === undefined) throw NA_ERR_PAXOS_INVALID_OPTIONS('address', `expected an IPv4 or IPv6 address, got ${JSON.stringify(opts.address)}`);
  const socket = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', reuseAddr: false, lookup: literalLookup(family) });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port, opts.address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  if (opts.bufferBytes !== undefined && opts.bufferBytes > 0) {
    socket.setRecvBufferSize(opts.bufferBytes);
    socket.setSendBufferSize(opts.bufferBytes);
  }
  const bound = socket.address();
  let handler: DatagramHandler = () => undefined;
  let closed = false;
  socket.on('message', (data, rinfo) => handler(data, { address: rinfo.address, port: rinfo.port }));
  // A send to a closed port gives ICMP unreachable on some paths; datagrams are best effort.
  socket.on('error', () => undefined);
  return {
    local: { address: bound.address, port: bound.port },
    send(data, to) {
      if (!closed) socket.send(data, to.port, to.address);
    },
    onMessage(h) {
      handler = h;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
