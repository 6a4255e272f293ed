/**
 * Readiness checks for spawned processes. Socket checks read /proc/<pid>/net/{tcp,udp}{,6} — the
 * socket tables of the namespace the process is in — so no probe process is started per poll;
 * they first make sure the process has entered its namespace (before that /proc/<pid>/net shows
 * the root namespace, whose listeners must not count). Log checks scan the process's log from
 * where this start of it began.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { parseHostPort, procHexToIp } from './addr.js';
import type { IpFamily } from './addr.js';
import { Checker, describe } from './check.js';
import { NA_ERR_NETLAB_OPTIONS_INVALID } from './errors.js';
import { pidNetnsId } from './netns.js';

/** When a spawned process counts as ready. A function gets the process and may be async. */
export type ReadyCheck<P = unknown> =
  | { readonly tcp: string } // a TCP socket listens on addr:port (or the wildcard address)
  | { readonly udp: string } // a UDP socket is bound to addr:port (or the wildcard address)
  | { readonly log: RegExp } // the log (stdout + stderr) matches
  | { readonly file: string } // the file exists
  | ((proc: P) => boolean | Promise<boolean>);

export interface ProbeTarget {
  readonly pid: number;
  /** Identity of the lab namespace the process must be in (see netns.ts). */
  readonly netnsId: string | undefined;
  readonly logPath: string;
  /** Byte offset in the log where this process's output starts. */
  readonly logStart: number;
}

export interface Socket {
  readonly addr: string;
  readonly port: number;
  /** Kernel state, hex as in /proc: 0A = LISTEN, 07 = CLOSE (a bound UDP socket). */
  readonly state: string;
}

const LISTEN = '0A';
const LOG_KEEP = 1024 * 1024; // scan at most the last 1 MiB of output

/** Parses a /proc/net/{tcp,udp}{,6} table. */
export function parseSocketTable(text: string): Socket[] {
  const sockets: Socket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    const state = cols[3];
    if (local === undefined || state === undefined) continue;
    const [hex = '', portHex = ''] = local.split(':');
    const addr = procHexToIp(hex);
    if (addr === undefined) continue;
    sockets.push({ addr, port: parseInt(portHex, 16), state: state.toUpperCase() });
  }
  return sockets;
}

/** True when one of the sockets serves host:port for this protocol (wildcards and v4-mapped included). */
export function socketMatches(sockets: readonly Socket[], proto: 'tcp' | 'udp', host: string, port: number, family: IpFamily): boolean {
  const hosts = family === 4 ? [host, '0.0.0.0', '::', `::ffff:${host}`] : [host, '::'];
  return sockets.some((s) => s.port === port && hosts.includes(s.addr) && (proto === 'udp' || s.state === LISTEN));
}

function readTable(pid: number, name: string): Socket[] {
  try {
    return parseSocketTable(readFileSync(`/proc/${pid}/net/${name}`, 'utf8'));
  } catch {
    return [];
  }
}

/** Validates a readiness check given to spawn(); throws NA_ERR_NETLAB_OPTIONS_INVALID. */
export function validateReady(check: unknown, path: string): void {
  const c = new Checker(NA_ERR_NETLAB_OPTIONS_INVALID);
  if (typeof check === 'function') return;
  const o = c.object(check, path, ['tcp', 'udp', 'log', 'file']);
  const keys = Object.keys(o);
  if (keys.length !== 1) c.fail(path, `expected exactly one of tcp, udp, log, file or a function, got ${describe(check)}`);
  if (o.tcp !== undefined || o.udp !== undefined) {
    const key = o.tcp !== undefined ? 'tcp' : 'udp';
    const hp = parseHostPort(c.string(o[key], `${path}.${key}`));
    if (typeof hp === 'string') c.fail(`${path}.${key}`, hp);
  }
  if (o.log !== undefined && !(o.log instanceof RegExp)) c.fail(`${path}.log`, `expected a RegExp, got ${describe(o.log)}`);
  if (o.file !== undefined) c.string(o.file, `${path}.file`, /^\//, 'an absolute path');
}

/** Words a check for messages: `tcp 10.0.0.2:8080 listening`. */
export function describeReady(check: ReadyCheck<never> | undefined): string {
  if (check === undefined) return 'started';
  if (typeof check === 'function') return 'custom check';
  if ('tcp' in check) return `tcp ${check.tcp} listening`;
  if ('udp' in check) return `udp ${check.udp} bound`;
  if ('log' in check) return `log matches ${String(check.log)}`;
  return `file ${check.file} exists`;
}

/** Reads a growing log from an offset and tests a regex against what arrived so far. */
class LogScanner {
  private offset: number;
  private text = '';
  private readonly decoder = new StringDecoder('utf8');
  private readonly re: RegExp;
  constructor(private readonly path: string, start: number, re: RegExp) {
    this.offset = start;
    this.re = new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
  }
  matches(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return false;
    }
    try {
      const size = fstatSync(fd).size;
      if (size > this.offset) {
        const buf = Buffer.alloc(Math.min(size - this.offset, LOG_KEEP));
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        this.offset += n;
        this.text = (this.text + this.decoder.write(buf.subarray(0, n))).slice(-LOG_KEEP);
      }
    } finally {
      closeSync(fd);
    }
    return this.re.test(this.text);
  }
}

/** A probe for one check: resolves true once the process is ready. */
export function probeFor<P>(check: ReadyCheck<P>, target: ProbeTarget, proc: P): () => Promise<boolean> {
  if (typeof check === 'function') return async () => (await check(proc)) === true;
  if ('log' in check) {
    const scanner = new LogScanner(target.logPath, target.logStart, check.log);
    return async () => scanner.matches();
  }
  if ('file' in check) return async () => existsSync(check.file);
  const proto = 'tcp' in check ? 'tcp' : 'udp';
  const hp = parseHostPort('tcp' in check ? check.tcp : check.udp);
  if (typeof hp === 'string') throw NA_ERR_NETLAB_OPTIONS_INVALID(`ready.${proto}: ${hp}`);
  return async () => {
    if (target.netnsId === undefined || pidNetnsId(target.pid) !== target.netnsId) return false;
    const sockets = [...readTable(target.pid, proto), ...readTable(target.pid, `${proto}6`)];
    return socketMatches(sockets, proto, hp.host, hp.port, hp.family);
  };
}
