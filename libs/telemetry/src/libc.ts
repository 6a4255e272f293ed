/**
 * The AF_UNIX datagram calls of the service-manager protocol (socket, sendto, bind, recv, close),
 * which Node does not offer, through koffi. koffi (a native addon, ~3 MiB of RSS) is required on
 * the first call, so a daemon that never talks to a service manager never loads it.
 */
import type Koffi from 'koffi';
import { createRequire } from 'node:module';

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

let libc: Libc | undefined;
let ffi: typeof Koffi | undefined;

/** koffi, required on first use (from node_modules, also from a bundle: it stays external). */
function koffi(): typeof Koffi {
  ffi ??= createRequire(import.meta.url)('koffi') as typeof Koffi;
  return ffi;
}

/** The calls, bound on first use. */
export function unixLibc(): Libc {
  if (libc !== undefined) return libc;
  const lib = koffi().load('libc.so.6');
  libc = {
    socket: lib.func('int socket(int, int, int)') as Libc['socket'],
    sendto: lib.func('long sendto(int, const void *, unsigned long, int, const void *, uint32_t)') as Libc['sendto'],
    bind: lib.func('int bind(int, const void *, uint32_t)') as Libc['bind'],
    recv: lib.func('long recv(int, _Out_ void *, unsigned long, int)') as Libc['recv'],
    close: lib.func('int close(int)') as Libc['close'],
  };
  return libc;
}

/** errno of the last failed call. */
export const lastErrno = (): number => koffi().errno();
