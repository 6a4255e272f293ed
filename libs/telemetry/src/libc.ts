/**
 * The AF_UNIX datagram calls of the service-manager protocol (socket, sendto, bind, recv, close),
 * which Node does not offer, bound lazily (native-library.ts): a daemon that never talks to a
 * service manager never loads koffi.
 */
import { lazyLibrary } from './native-library.js';

export const AF_UNIX = 1;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;

export interface Libc {
  socket(domain: number, type: number, proto: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrLen: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
}

const libc = lazyLibrary<Libc>('libc.so.6', {
  socket: 'int socket(int, int, int)',
  sendto: 'long sendto(int, const void *, unsigned long, int, const void *, uint32_t)',
  bind: 'int bind(int, const void *, uint32_t)',
  recv: 'long recv(int, _Out_ void *, unsigned long, int)',
  close: 'int close(int)',
});

/** The calls, bound on first use. */
export const unixLibc = (): Libc => libc.fns();

/** errno of the last failed call. */
export const lastErrno = (): number => libc.errno();
