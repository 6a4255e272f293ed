/**
 * A C library bound through koffi on first use: the daemons' few calls that Node does not offer
 * (AF_UNIX datagrams for the service manager here, TCP_MD5SIG and the like in bgp-announcer).
 * koffi is a native addon (~3 MiB of RSS): it is required, and the library loaded, only when a
 * function is first asked for, so a daemon that never needs them never loads it. Resolved from
 * the module that calls (node_modules, or beside a bundle where koffi stays external).
 *
 *   const libc = lazyLibrary<{ close(fd: number): number }>('libc.so.6', { close: 'int close(int)' });
 *   if (libc.fns().close(fd) !== 0) throw new Error(`close: errno ${libc.errno()}`);
 */
import type Koffi from 'koffi';
import { createRequire } from 'node:module';

export interface LazyLibrary<T> {
  /** The functions, bound on the first call (koffi required and the library loaded then). */
  fns(): T;
  /** errno of the last failed call (koffi required if it was not). */
  errno(): number;
}

let ffi: typeof Koffi | undefined;

function koffi(): typeof Koffi {
  ffi ??= createRequire(import.meta.url)('koffi') as typeof Koffi;
  return ffi;
}

/** `file` (e.g. `libc.so.6`) with each function of `T` bound by its C prototype in koffi's syntax. */
export function lazyLibrary<T extends object>(file: string, prototypes: { readonly [K in keyof T]: string }): LazyLibrary<T> {
  let bound: T | undefined;
  return {
    fns() {
      if (bound !== undefined) return bound;
      const lib = koffi().load(file);
      bound = Object.fromEntries(Object.entries<string>(prototypes).map(([name, proto]) => [name, lib.func(proto)])) as T;
      return bound;
    },
    errno: () => koffi().errno(),
  };
}
