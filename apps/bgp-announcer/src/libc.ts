/**
 * The few libc calls Node does not offer for TCP sockets, through koffi: setsockopt (IP_TTL /
 * IPV6_UNICAST_HOPS for eBGP multihop, TCP_MD5SIG for RFC 2385), and socket / bind / connect /
 * poll / getsockopt to open an outgoing connection whose MD5 key is set before the SYN. Nothing
 * is loaded until first used, koffi itself included (telemetry's lazyLibrary; a native addon:
 * ~3 MiB of RSS that a speaker without TCP MD5 or multihop TTL never needs).
 */
import { isIPv6 } from 'node:net';
import { parseIp } from '@netaccel/protocol';
import { lazyLibrary } from '@netaccel/telemetry';

export const AF_INET = 2;
export const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const IPPROTO_IP = 0;
const IP_TTL = 2;
const IPPROTO_TCP = 6;
const TCP_MD5SIG = 14;
const IPPROTO_IPV6 = 41;
const IPV6_UNICAST_HOPS = 16;
const POLLOUT = 4;
export const EINPROGRESS = 115;
export const TCP_MD5SIG_MAXKEYLEN = 80;

interface Libc {
  socket(domain: number, type: number, proto: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Buffer): number;
  bind(fd: number, addr: Buffer, len: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  poll(fds: Buffer, n: number, timeout: number): number;
  close(fd: number): number;
}

const libc = lazyLibrary<Libc>('libc.so.6', {
  socket: 'int socket(int, int, int)',
  setsockopt: 'int setsockopt(int, int, int, const void *, uint32_t)',
  getsockopt: 'int getsockopt(int, int, int, _Out_ void *, _Inout_ void *)',
  bind: 'int bind(int, const void *, uint32_t)',
  connect: 'int connect(int, const void *, uint32_t)',
  poll: 'int poll(_Inout_ void *, unsigned long, int)',
  close: 'int close(int)',
});
const load = (): Libc => libc.fns();

/** errno of the last failed call, as a Node-style error. */
export function errnoError(call: string): Error {
  const code = libc.errno();
  const err = new Error(`${call}: errno ${code}`) as Error & { errno: number };
  err.errno = code;
  return err;
}

/** A struct sockaddr_in / sockaddr_in6 (in the socket's family: IPv4 peers of an IPv6 socket are v4-mapped). */
export function sockaddr(address: string, port: number, family: number = isIPv6(address) ? AF_INET6 : AF_INET): Buffer {
  let bytes = parseIp(address);
  if (family === AF_INET6 && bytes.length === 4) bytes = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...bytes]);
  if (family === AF_INET) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    Buffer.from(bytes).copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  Buffer.from(bytes).copy(b, 8);
  return b;
}

function setInt(fd: number, level: number, name: number, v: number, what: string): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  if (load().setsockopt(fd, level, name, b, 4) !== 0) throw errnoError(`setsockopt ${what}`);
}

/** IP_TTL (IPv4) or IPV6_UNICAST_HOPS (IPv6) of a socket. */
export function setTtl(fd: number, family: number, ttl: number): void {
  if (family === AF_INET6) {
    setInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, 'IPV6_UNICAST_HOPS');
    // an IPv6 socket may carry IPv4 (v4-mapped) traffic, whose TTL is IP_TTL
    try {
      setInt(fd, IPPROTO_IP, IP_TTL, ttl, 'IP_TTL');
    } catch {
      // not every IPv6 socket accepts it
    }
  } else setInt(fd, IPPROTO_IP, IP_TTL, ttl, 'IP_TTL');
}

/**
 * TCP_MD5SIG (RFC 2385) for one peer address on a socket of `family`; an empty key removes it.
 * struct tcp_md5sig: sockaddr_storage (128), flags, prefixlen, keylen (u16), ifindex (u32), key[80].
 */
export function setMd5(fd: number, family: number, peer: string, key: string): void {
  const k = Buffer.from(key, 'utf8');
  if (k.length > TCP_MD5SIG_MAXKEYLEN) throw new Error(`TCP MD5 key of ${k.length} octets exceeds ${TCP_MD5SIG_MAXKEYLEN}`);
  const s = Buffer.alloc(216);
  sockaddr(peer, 0, family).copy(s, 0);
  s.writeUInt16LE(k.length, 130);
  k.copy(s, 136);
  if (load().setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, s, s.length) !== 0) throw errnoError('setsockopt TCP_MD5SIG');
}

/** A non-blocking TCP socket of the family. */
export function tcpSocket(family: number): number {
  const fd = load().socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw errnoError('socket');
  return fd;
}

export function bindTo(fd: number, address: string, family: number): void {
  const a = sockaddr(address, 0, family);
  if (load().bind(fd, a, a.length) !== 0) throw errnoError('bind');
}

/** Starts a non-blocking connect: true when connected at once, false when in progress. */
export function connectStart(fd: number, address: string, port: number, family: number): boolean {
  const a = sockaddr(address, port, family);
  if (load().connect(fd, a, a.length) === 0) return true;
  const e = libc.errno();
  if (e === EINPROGRESS) return false;
  throw errnoError('connect');
}

/** Polls an in-progress connect without blocking: undefined while pending, else 0 or the errno. */
export function connectResult(fd: number): number | undefined {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLOUT, 4);
  const r = load().poll(pfd, 1, 0);
  if (r < 0) return libc.errno();
  if (r === 0) return undefined;
  const v = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(4, 0);
  if (load().getsockopt(fd, SOL_SOCKET, SO_ERROR, v, len) !== 0) return libc.errno();
  return v.readInt32LE(0);
}

export function closeFd(fd: number): void {
  load().close(fd);
}
