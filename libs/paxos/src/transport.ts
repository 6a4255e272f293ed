/**
 * The datagram transport a replica and a client use: UDP over IPv4 or IPv6 (`node:dgram`), one
 * message per datagram. The interface lets tests wrap the socket (faults.ts) and lets the fake
 * offload sit where the kernel would.
 */
import dgram from 'node:dgram';
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

/** A UDP socket bound to `address:port`. */
export async function udpTransport(opts: UdpTransportOptions): Promise<Transport> {
  const family = ipFamily(opts.address);
  if (family === undefined) throw NA_ERR_PAXOS_INVALID_OPTIONS('address', `expected an IPv4 or IPv6 address, got ${JSON.stringify(opts.address)}`);
  const socket = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', reuseAddr: false });
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
      // dgram resolves the address first (dns.lookup, a process.nextTick even for an IP
      // literal), so the datagram leaves after the current step. The replica relies on that: a
      // leader publishes its last op to the offload (at the end of the step) before its PREPARE
      // leaves, or the kernel's quorum wait passes every PREPARE_OK up as ACK_FUTURE. Sending
      // inline (a literal lookup answered at once) did exactly that: bench/paxos, all three
      // offloads, 0 quorums and 0 filtered acks per op instead of 0.07 and 0.34.
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
