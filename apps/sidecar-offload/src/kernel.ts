/**
 * The kernel path loaded in this process (`kernel.via: direct`): sidecar.bpf.o opened with
 * libs/bpf, `sidecar_sockops` attached to the configured cgroup, `sidecar_msg` (and the sk_skb
 * parser/verdict) to its sockhash, the listeners' policy compiled into `policy` / `sidecar_cfg`,
 * the per-method counters (`method_stats`) and the hand-off reasons (`reason_stats`) exported as
 * Prometheus metrics.
 *
 * What it does NOT do yet: write `offload_rules` and `pairs`. The proxy terminates HTTP/2 for
 * every client connection (node:http2), so no connection's bytes may be moved by the kernel: a
 * pair needs a per-connection frame relay in the proxy instead of the HTTP/2 server, and with
 * @grpc/grpc-js endpoints (HPACK dynamic table of 4096, the server cannot advertise 0) the kernel
 * hands the first HEADERS to user space (`HPACK_DYNAMIC`), after which calls on that connection
 * stalled in our trial of the msg-mode relay. So every connection stays on the user path, with
 * the reason, and the kernel's counters stay at what the kernel carried: nothing.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject, attachCgroup, attachToSockmap, detachCgroup } from '@netaccel/bpf';
import type { BpfMap } from '@netaccel/bpf';
import { errorMessage } from '@netaccel/errors';
import type { Logger, Metrics } from '@netaccel/telemetry';
import {
  SIDECAR_CONN_F,
  SIDECAR_OBJECT,
  SIDECAR_REASONS,
  compilePolicy,
  decodeConn,
  decodeCounter,
  decodeMethodStats,
  encodeSockKey,
  encodeU32,
  sidecarReason,
} from '@netaccel/bpf-programs/sidecar';
import type { CompiledPolicy as KernelCompiledPolicy, MethodStats } from '@netaccel/bpf-programs/sidecar';
import type { KernelConfig } from './config.js';
import { NA_ERR_SIDECARD_KERNEL_LOAD } from './errors.js';
import type { ConnectionKey, KernelPath, OffloadState } from './offload.js';
import { kernelPolicyOf } from './offload.js';
import type { Action, CompiledPolicy } from './policy.js';

/** Why a connection of a listener whose policy the kernel holds is still in user space. */
export const NOT_PAIRED = 'not paired: the proxy terminates HTTP/2 for this connection (no per-connection kernel relay yet)';

/** sidecar.bpf.o inside the installed @netaccel/bpf-programs. */
export function defaultObjectPath(): string {
  for (let dir = dirname(fileURLToPath(import.meta.resolve('@netaccel/bpf-programs/sidecar'))); dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, SIDECAR_OBJECT.path);
  }
  throw new Error('@netaccel/bpf-programs: no package directory found');
}

/** The one policy table of the kernel, made of every listener's; listeners it cannot serve, with the reason. */
export function mergeKernelPolicies(policies: readonly CompiledPolicy[]): { methods: Record<string, Action>; defaultAction: Action; refused: Map<string, string> } {
  const refused = new Map<string, string>();
  const methods: Record<string, Action> = {};
  let defaultAction: Action | undefined;
  for (const p of policies) {
    const k = kernelPolicyOf(p);
    if ('reason' in k) {
      refused.set(p.listener, k.reason);
      continue;
    }
    const conflict = Object.entries(k.policy.methods).find(([m, a]) => methods[m] !== undefined && methods[m] !== a);
    if ((defaultAction !== undefined && k.policy.defaultAction !== defaultAction) || conflict !== undefined) {
      refused.set(p.listener, `policy of listener ${p.listener} differs from another listener's, and the kernel holds one policy table`);
      continue;
    }
    defaultAction = k.policy.defaultAction;
    Object.assign(methods, k.policy.methods);
  }
  return { methods, defaultAction: defaultAction ?? 'allow', refused };
}

export class DirectKernelPath implements KernelPath {
  readonly loaded = true;
  private compiled: KernelCompiledPolicy | undefined;
  private refused = new Map<string, string>();
  private attachedCgroup: string | undefined;

  private constructor(
    private readonly obj: BpfObject,
    private readonly log: Logger,
  ) {}

  /** Loads and attaches; throws NA_ERR_SIDECARD_KERNEL_LOAD (nothing left attached) when it cannot. */
  static open(cfg: KernelConfig, metrics: Metrics, log: Logger): DirectKernelPath {
    const path = cfg.object === '' ? defaultObjectPath() : cfg.object;
    let obj: BpfObject | undefined;
    try {
      obj = BpfObject.openFile(path);
      obj.load();
      const p = SIDECAR_OBJECT.programs;
      const sockHash = obj.map('sock_hash');
      attachToSockmap(sockHash, obj.program(p.parser), 'sk_skb_stream_parser');
      attachToSockmap(sockHash, obj.program(p.verdict), 'sk_skb_stream_verdict');
      attachToSockmap(sockHash, obj.program(p.msg), 'sk_msg_verdict');
      attachCgroup(cfg.cgroup, obj.program(p.sockops), 'cgroup_sock_ops');
    } catch (err) {
      obj?.close();
      throw NA_ERR_SIDECARD_KERNEL_LOAD.with({ cause: err }, path, cfg.cgroup, errorMessage(err));
    }
    const k = new DirectKernelPath(obj, log);
    k.attachedCgroup = cfg.cgroup;
    k.registerMetrics(metrics);
    log.info({ component: 'kernel', object: path, cgroup: cfg.cgroup }, 'kernel path loaded and attached');
    return k;
  }

  private map(name: string): BpfMap {
    return this.obj.map(name);
  }

  async applyPolicies(policies: readonly CompiledPolicy[]): Promise<void> {
    const merged = mergeKernelPolicies(policies);
    const compiled = compilePolicy({ methods: merged.methods, defaultAction: merged.defaultAction });
    const policy = this.map('policy');
    const keep = new Set(compiled.entries.map((e) => e.key.toString('hex')));
    for (const e of compiled.entries) policy.update(e.key, e.value); // new forms first: no moment without a policy
    for (const key of [...policy.keys()]) if (!keep.has(key.toString('hex'))) policy.delete(key);
    this.map('sidecar_cfg').update(encodeU32(0), compiled.config);
    this.compiled = compiled;
    this.refused = merged.refused;
    for (const [listener, reason] of merged.refused) this.log.warn({ component: 'kernel', listener }, reason);
  }

  /** Summed over CPUs: the counters of one method id (0 = every path not in the policy). */
  methodStats(id: number): MethodStats {
    const v = this.map('method_stats').lookupPerCpu(encodeU32(id));
    if (!v) throw new RangeError(`method_stats[${id}]: no such entry`);
    return decodeMethodStats(v);
  }

  /** Method id by path of the policy in the kernel now. */
  get methodIds(): ReadonlyMap<string, number> {
    return this.compiled?.methodIds ?? new Map();
  }

  state(conn: ConnectionKey): OffloadState {
    const refused = this.refused.get(conn.listener);
    if (refused !== undefined) return { offloaded: false, reason: refused };
    // the client's socket as seen from itself (the msg mode judges the sender)
    const key = { localAddress: conn.remoteAddress, localPort: conn.remotePort, remoteAddress: conn.localAddress, remotePort: conn.localPort };
    let raw: Buffer | undefined;
    try {
      raw = this.map('conns').lookup(encodeSockKey(key));
    } catch {
      raw = undefined; // an IPv6 tuple: the kernel keys IPv4 only
    }
    if (raw === undefined) return { offloaded: false, reason: NOT_PAIRED };
    const c = decodeConn(raw);
    if ((c.flags & SIDECAR_CONN_F.USER) === 0) return { offloaded: true, reason: '' };
    return { offloaded: false, reason: `handed to user space at stream ${c.stream}: ${sidecarReason(c.reason)?.name ?? `reason ${c.reason}`}` };
  }

  private registerMetrics(metrics: Metrics): void {
    const methods = (): [string, MethodStats][] => {
      const out: [string, MethodStats][] = [['other', this.methodStats(0)]];
      for (const [path, id] of this.methodIds) out.push([path, this.methodStats(id)]);
      return out;
    };
    const counter = (name: string, help: string, pick: (s: MethodStats) => bigint) =>
      metrics.gauge({
        name,
        help,
        labelNames: ['method'],
        collect() {
          this.reset();
          for (const [method, s] of methods()) this.set({ method }, Number(pick(s)));
        },
      });
    counter('sidecar_kernel_requests', 'Requests the kernel path carried, by method (counted by the kernel)', (s) => s.requests);
    counter('sidecar_kernel_denied', 'Requests the kernel judged denied and handed to user space, by method', (s) => s.denied);
    counter('sidecar_kernel_responses', 'Responses (END_STREAM) the kernel path carried, by method', (s) => s.responses);
    counter('sidecar_kernel_request_bytes', 'Request DATA bytes the kernel path carried, by method', (s) => s.requestBytes);
    counter('sidecar_kernel_response_bytes', 'Response DATA bytes the kernel path carried, by method', (s) => s.responseBytes);
    const reasons = this.map('reason_stats');
    metrics.gauge({
      name: 'sidecar_kernel_frames',
      help: 'HTTP/2 frames seen by the kernel path, by outcome (redirected, or why handed to user space)',
      labelNames: ['reason'],
      collect() {
        this.reset();
        for (const r of SIDECAR_REASONS) {
          const v = reasons.lookupPerCpu(encodeU32(r.value));
          if (v) this.set({ reason: r.name }, Number(decodeCounter(v).frames));
        }
      },
    });
  }

  async close(): Promise<void> {
    try {
      if (this.attachedCgroup !== undefined) detachCgroup(this.attachedCgroup, this.obj.program(SIDECAR_OBJECT.programs.sockops), 'cgroup_sock_ops');
    } catch (err) {
      this.log.warn({ component: 'kernel', err: errorMessage(err) }, 'sockops not detached');
    } finally {
      this.attachedCgroup = undefined;
      this.obj.close();
    }
  }
}
