/**
 * Loads sidecar.bpf.o with libs/bpf for tests and benchmarks: sockops on a cgroup, the sk_skb
 * parser/verdict and sk_msg programs on sock_hash, rules, pairs and policy written, counters read.
 * In production the loader does all of this (issue 16: loaded and attached through ebpf-loader);
 * the proxy then only writes maps through it with the codecs of index.ts.
 *
 * `TestCgroup` makes a cgroup of the test's own (prefix `nsk-`) and moves this process into it
 * and back: sockops runs for sockets created by processes of that cgroup only, so nobody else's
 * sockets meet the programs.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject, attachCgroup, attachToSockmap, cgroup2Root, detachCgroup } from '@netaccel/bpf';
import type { BpfMap } from '@netaccel/bpf';
import { SIDECAR_OBJECT } from './constants.js';
import type { SidecarMapName } from './constants.js';
import { decodeConn, decodeCounter, decodeMethodStats, encodeRule, encodeSockKey, encodeU32, nextConfig } from './codec.js';
import type { ConnState, Counter, MethodStats, SockKey } from './codec.js';
import type { CompiledPolicy } from './policy.js';
import { SIDECAR_REASON_MAX } from './reasons.js';

function packageDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** bpf/: the object is under its build/. */
export const SIDECAR_BPF_DIR = packageDir(dirname(fileURLToPath(import.meta.url)));

/** Path of the built object; throws with the make command when it is missing. */
export function sidecarObjectPath(): string {
  const path = join(SIDECAR_BPF_DIR, SIDECAR_OBJECT.path);
  if (!statSync(path, { throwIfNoEntry: false })) throw new Error(`${path} is missing: run make -C bpf`);
  return path;
}

/** A cgroup v2 directory of the caller's own, which this process can enter and leave. */
export class TestCgroup {
  readonly path: string;
  #home: string | undefined;

  private constructor(path: string) {
    this.path = path;
  }

  /** Removes stale `<prefix>*` cgroups (of runs that died), then makes `<prefix><pid>`. */
  static create(prefix: string): TestCgroup {
    if (!/^nsk[-a-z0-9]*$/.test(prefix)) throw new RangeError(`cgroup prefix: expected nsk…, got ${prefix}`);
    const root = cgroup2Root();
    for (const name of readdirSync(root)) {
      if (!name.startsWith(prefix)) continue;
      try {
        const procs = readFileSync(join(root, name, 'cgroup.procs'), 'utf8').trim();
        if (procs === '') rmdirSync(join(root, name));
      } catch {
        // gone already, or busy: left alone
      }
    }
    const path = join(root, `${prefix}${process.pid}`);
    mkdirSync(path, { recursive: true });
    return new TestCgroup(path);
  }

  /** Moves this process into the cgroup (its sockets made from now on belong to it). */
  enter(): void {
    const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    this.#home = join(cgroup2Root(), (line ?? '0::/').slice(3));
    writeFileSync(join(this.path, 'cgroup.procs'), String(process.pid));
  }

  /** Moves this process back to where it was and removes the cgroup. */
  remove(): void {
    if (this.#home !== undefined) writeFileSync(join(this.#home, 'cgroup.procs'), String(process.pid));
    this.#home = undefined;
    rmdirSync(this.path);
  }
}

export class SidecarObject {
  readonly obj: BpfObject;
  #cgroup: string | undefined;

  private constructor(obj: BpfObject) {
    this.obj = obj;
  }

  /** Opens and loads the object (map sizes may be set before load). */
  static load(maxEntries: Partial<Record<SidecarMapName, number>> = {}): SidecarObject {
    const obj = BpfObject.openFile(sidecarObjectPath());
    try {
      for (const [name, n] of Object.entries(maxEntries)) obj.setMaxEntries(name, n);
      obj.load();
      return new SidecarObject(obj);
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  map(name: SidecarMapName): BpfMap {
    return this.obj.map(name);
  }

  /** Attaches the parser, verdict and sk_msg programs to sock_hash and sockops to `cgroup`. */
  attach(cgroup: string): void {
    const p = SIDECAR_OBJECT.programs;
    const sockHash = this.map('sock_hash');
    attachToSockmap(sockHash, this.obj.program(p.parser), 'sk_skb_stream_parser');
    attachToSockmap(sockHash, this.obj.program(p.verdict), 'sk_skb_stream_verdict');
    attachToSockmap(sockHash, this.obj.program(p.msg), 'sk_msg_verdict');
    const spliceHash = this.map('splice_hash'); // SPLICE sockets: no stream parser
    attachToSockmap(spliceHash, this.obj.program(p.verdict), 'sk_skb_verdict');
    attachToSockmap(spliceHash, this.obj.program(p.msg), 'sk_msg_verdict');
    attachCgroup(cgroup, this.obj.program(p.sockops), 'cgroup_sock_ops');
    this.#cgroup = cgroup;
  }

  /** An offload rule: sockets matching `key` (a zero side is a wildcard) get `flags`. */
  addRule(key: SockKey, flags: number): void {
    this.map('offload_rules').update(encodeSockKey(key), encodeRule(flags));
  }

  /** Pairs two sockets both ways. */
  pair(a: SockKey, b: SockKey): void {
    this.map('pairs').update(encodeSockKey(a), encodeSockKey(b));
    this.map('pairs').update(encodeSockKey(b), encodeSockKey(a));
  }

  /**
   * Replaces the policy without a moment of no policy: the new path forms are written first, then
   * the forms no longer in it deleted, then the config with the next generation.
   */
  setPolicy(compiled: CompiledPolicy): void {
    const policy = this.map('policy');
    const keep = new Set(compiled.entries.map((e) => e.key.toString('hex')));
    for (const e of compiled.entries) policy.update(e.key, e.value);
    for (const key of [...policy.keys()]) if (!keep.has(key.toString('hex'))) policy.delete(key);
    const cfg = this.map('sidecar_cfg');
    cfg.update(encodeU32(0), nextConfig(compiled.config, cfg.lookup(encodeU32(0)))); // a new generation: cached decisions are stale
  }

  /** The conns entry of a socket, or undefined (not offloaded, or closed). */
  conn(key: SockKey): ConnState | undefined {
    const v = this.map('conns').lookup(encodeSockKey(key));
    return v ? decodeConn(v) : undefined;
  }

  methodStats(method: number): MethodStats {
    const v = this.map('method_stats').lookupPerCpu(encodeU32(method));
    if (!v) throw new RangeError(`method_stats[${method}]: no such entry`);
    return decodeMethodStats(v);
  }

  /** reason_stats by reason value (every reason, zero ones included). */
  reasons(): Map<number, Counter> {
    const out = new Map<number, Counter>();
    for (let i = 1; i < SIDECAR_REASON_MAX; i++) {
      const v = this.map('reason_stats').lookupPerCpu(encodeU32(i));
      if (v) out.set(i, decodeCounter(v));
    }
    return out;
  }

  /** Detaches sockops from the cgroup and closes the object (sock_hash and its programs go with it). */
  close(): void {
    try {
      if (this.#cgroup !== undefined) detachCgroup(this.#cgroup, this.obj.program(SIDECAR_OBJECT.programs.sockops), 'cgroup_sock_ops');
    } finally {
      this.#cgroup = undefined;
      this.obj.close();
    }
  }
}
