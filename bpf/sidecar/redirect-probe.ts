/**
 * redirect_probe.bpf.o with libs/bpf: the sockmap redirect alone (no frame walk, no telemetry),
 * for measuring it apart from sidecar.bpf.o (issue 16; bench/sidecar's `sidecar-redirect` lane).
 * Sockets of the cgroup it is attached to whose connection has `port` at either end are put in
 * `probe_hash` when established; every send of theirs goes to the other end's receive queue
 * (`bpf_msg_redirect_hash`, BPF_F_INGRESS), as Merbridge does between local sockets. `stats()`
 * says how many sends were redirected and how many passed (peer not in the sockhash).
 */
import { join } from 'node:path';
import { BpfObject, attachCgroup, attachToSockmap, detachCgroup } from '@netaccel/bpf';
import { encodeU32 } from './codec.js';
import { SIDECAR_BPF_DIR } from './sidecar-harness.js';

/** The object (path under bpf/), its programs and maps. */
export const REDIRECT_PROBE_OBJECT = Object.freeze({
  path: 'build/sidecar/redirect_probe.bpf.o',
  programs: Object.freeze({ sockops: 'redirect_sockops', msg: 'redirect_msg', verdict: 'redirect_verdict' }),
  maps: Object.freeze(['probe_hash', 'probe_stats'] as const),
});

/** Rows of probe_stats (REDIRECT_PROBE_* of redirect_probe.bpf.c). */
export const REDIRECT_PROBE_STATS = Object.freeze({ redirected: 0, passed: 1 } as const);

export interface RedirectProbeStat {
  readonly sends: bigint;
  readonly bytes: bigint;
}

export interface RedirectProbeStats {
  /** Sends that went to the peer's receive queue. */
  readonly redirected: RedirectProbeStat;
  /** Sends whose peer was not in the sockhash: the normal TCP path. */
  readonly passed: RedirectProbeStat;
}

export class RedirectProbe {
  readonly #obj: BpfObject;
  readonly #cgroup: string;

  private constructor(obj: BpfObject, cgroup: string) {
    this.#obj = obj;
    this.#cgroup = cgroup;
  }

  /**
   * Loads the object for connections with `port` (1-65535) at one end and attaches it to `cgroup`
   * (a cgroup v2 directory); `verdict` also attaches the pass-through sk_skb verdict to the
   * sockhash (as the kernel path's SPLICE sockets have one).
   */
  static attach(cgroup: string, port: number, opts: { verdict?: boolean } = {}): RedirectProbe {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`redirect probe port: expected 1-65535, got ${port}`);
    const obj = BpfObject.openFile(join(SIDECAR_BPF_DIR, REDIRECT_PROBE_OBJECT.path));
    let attached = false;
    try {
      obj.setGlobal('probe_port', port);
      obj.load();
      const p = REDIRECT_PROBE_OBJECT.programs;
      attachToSockmap(obj.map('probe_hash'), obj.program(p.msg), 'sk_msg_verdict');
      if (opts.verdict === true) attachToSockmap(obj.map('probe_hash'), obj.program(p.verdict), 'sk_skb_verdict');
      attachCgroup(cgroup, obj.program(p.sockops), 'cgroup_sock_ops');
      attached = true;
      return new RedirectProbe(obj, cgroup);
    } finally {
      if (!attached) obj.close();
    }
  }

  /** Sends redirected and passed so far, summed over CPUs. */
  stats(): RedirectProbeStats {
    const map = this.#obj.map('probe_stats');
    const row = (i: number): RedirectProbeStat => {
      const cpus = map.lookupPerCpu(encodeU32(i));
      if (!cpus) throw new RangeError(`probe_stats[${i}]: no such entry`);
      return cpus.reduce((a, b) => ({ sends: a.sends + b.readBigUInt64LE(0), bytes: a.bytes + b.readBigUInt64LE(8) }), { sends: 0n, bytes: 0n });
    };
    return { redirected: row(REDIRECT_PROBE_STATS.redirected), passed: row(REDIRECT_PROBE_STATS.passed) };
  }

  /** Detaches sockops and closes the object (sockets still in the sockhash leave it as they close). */
  close(): void {
    try {
      detachCgroup(this.#cgroup, this.#obj.program(REDIRECT_PROBE_OBJECT.programs.sockops), 'cgroup_sock_ops');
    } finally {
      this.#obj.close();
    }
  }
}
