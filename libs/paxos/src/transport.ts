/**
 * The datagram transport a replica and a client use: UDP over IPv4 or IPv6 (`node:dgram`), one
 * message per datagram. The interface lets tests wrap the socket (faults.ts) and lets the fake
 * offload sit where the kernel would.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import type { LookupOneOptions } from 'node:dns';
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
  /**
   * Send an IP literal's datagram inline (default; `NETACCEL_PAXOS_INLINE_SEND=0` turns it off):
   * the socket's lookup answers an IP literal at once instead of through `dns.lookup` and a
   * `process.nextTick`, so `send` reaches `sendmsg` before it returns. Off: the datagram leaves
   * after the current step, as before (for A/B).
   */
  readonly inlineSend?: boolean;
}

/** The default of UdpTransportOptions.inlineSend: on unless `NETACCEL_PAXOS_INLINE_SEND=0`. */
export function inlineSendDefault(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NETACCEL_PAXOS_INLINE_SEND !== '0';
}

/** IP literals already parsed, with their family (cleared when full: clients come and go). */
const literalFamilies = new Map<string, 4 | 6>();
const LITERAL_FAMILIES_MAX = 4096;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram's `lookup` for a socket that sends to IP literals: answered at once (no `dns.lookup`, no
 * `process.nextTick`); a name, which the replica never sends to, still goes to `dns.lookup`.
 */
export function literalLookup(address: string, options: number | LookupOneOptions, callback: LookupCallback): void {
  let family = literalFamilies.get(address);
  if (family === undefined) {
    family = ipFamily(address);
    if (family !== undefined) {
      // parsing the text (split, a regular expression per part, a byte array) was ~2 % of the
      // leader's samples: the replica sends to a few peers and its clients, again and again
      if (literalFamilies.size >= LITERAL_FAMILIES_MAX) literalFamilies.clear();
      literalFamilies.set(address, family);
    }
  }
  if (family !== undefined) {
    callback(null, address, family);
    return;
  }
  dns.lookup(address, typeof options === 'number' ? { family: options } : options, callback);
}

/** A UDP socket bound to `address:port`. */
export async function udpTransport(opts: UdpTransportOptions): Promise<Transport> {
  const family = ipFamily(opts.address);
  if (family === undefined) throw NA_ERR_PAXOS_INVALID_OPTIONS('address', `expected an IPv4 or IPv6 address, got ${JSON.stringify(opts.address)}`);
  const inline = opts.inlineSend ?? inlineSendDefault();
  const socket = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', reuseAddr: false, ...(inline ? { lookup: literalLookup } : {}) });
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
      // Inline (literalLookup): the datagram is in the kernel when send returns. A leader must
      // therefore publish its last op to the offload before a PREPARE leaves, or the kernel's
      // quorum wait passes every PREPARE_OK up as ACK_FUTURE (0 quorums and 0 filtered acks per
      // op in bench/paxos when an earlier round sent inline without it): normal.ts' flush
      // publishes before it sends.
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
