/**
 * The kernel path loaded in this process (`kernel.via: direct`): sidecar.bpf.o opened with
 * libs/bpf, `sidecar_sockops` attached to the configured cgroup, `sidecar_msg` and the sk_skb
 * verdict to `splice_hash` (and with the parser to `sock_hash`), the listeners' policy compiled
 * into `policy` / `sidecar_cfg`, the per-method counters (`method_stats`) and the hand-off
 * reasons (`reason_stats`) exported as Prometheus metrics.
 *
 * It is also the `SpliceKernel` of the proxy's spliced connections (splice.ts, README "The kernel
 * path"): `offload()` writes `offload_rules` for a listener's clients and its cluster's endpoints
 * (MSG | H2 | SPLICE), `pair()` writes `pairs` for one connection before the proxy connects
 * upstream, `conn()` reads a socket's state (handed over? from which byte?), `decline()` marks a
 * client socket the proxy terminates itself so the kernel stops judging it, `spliceState()` says
 * whether the kernel carries a connection or why not. What is handled where:
 *
 *   kernel   every send of both workloads' sockets is judged (preface, frames, :path against the
 *            policy, per-method counters) and goes socket to socket; SETTINGS are rewritten to
 *            HEADER_TABLE_SIZE 0 (appended when absent, as grpc-js sends none) so that neither
 *            HPACK encoder indexes and every later block is decidable; sends made before the pair
 *            or before the peer received the proxy's copy of earlier ones take the normal path
 *            without a hand-over (CATCH_UP, which keeps the byte order);
 *   proxy    relays those first bytes as they are; after a hand-over (denied method, undecidable
 *            block, a burst of more than 128 calls in one write) relays frames from the point the
 *            kernel names (`user_from`), answers denied calls PERMISSION_DENIED and counts the
 *            calls it carries.
 *
 * The stall found by the first grpc-js trial was the stream parser: with `sk_skb_stream_parser`
 * on the map, bytes the proxy wrote to the client after a hand-over sat in the client socket's
 * strparser and never reached the application (Recv-Q 0, the verdict never ran). Spliced sockets
 * are in `splice_hash`, which has the verdict alone (`sk_skb_verdict`, skb by skb, no strparser):
 * every later call on a handed-over connection goes through.
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
  SIDECAR_LAYOUTS,
  SIDECAR_OBJECT,
  SIDECAR_REASON,
  SIDECAR_REASONS,
  SIDECAR_RULE_F,
  compilePolicy,
  decodeConn,
  decodeCounter,
  decodeMethodStats,
  decodeStream,
  encodeRule,
  encodeSockKey,
  encodeStreamKey,
  encodeU32,
  nextConfig,
  sidecarReason,
} from '@netaccel/bpf-programs/sidecar';
import type { ConnState, CompiledPolicy as KernelCompiledPolicy, MethodStats, SockKey, StreamState } from '@netaccel/bpf-programs/sidecar';
import type { KernelConfig } from './config.js';
import { NA_ERR_SIDECARD_KERNEL_LOAD } from './errors.js';
import { parseGrpcTimeout } from './grpc-wire.js';
import type { ConnectionKey, HostPort, InFlightCall, KernelPath, OffloadState, SpliceKernel } from './offload.js';
import { kernelPolicyOf } from './offload.js';
import type { Action, CompiledPolicy } from './policy.js';

/** Why a connection the proxy terminates itself (node:http2) is not offloaded, when nothing more precise is known. */
export const NOT_PAIRED = 'not spliced: the proxy terminates HTTP/2 for this connection';

/** Rule flags of a listener's clients' sockets and of its upstreams' accepted sockets (SPLICE mode). */
export const CLIENT_RULE = SIDECAR_RULE_F.MSG | SIDECAR_RULE_F.H2 | SIDECAR_RULE_F.REQUESTS | SIDECAR_RULE_F.SPLICE;
export const UPSTREAM_RULE = SIDECAR_RULE_F.MSG | SIDECAR_RULE_F.H2 | SIDECAR_RULE_F.RESPONSES | SIDECAR_RULE_F.SPLICE;

export function anyAddress(host: string): string {
  return host.includes(':') ? '::' : '0.0.0.0';
}

/** Why the kernel does not (or no longer) carry a connection, from its conns entry. */
export function handOverReason(c: ConnState): string {
  return `handed to user space at stream ${c.stream}: ${sidecarReason(c.reason)?.name.replace('SIDECAR_REASON_', '') ?? `reason ${c.reason}`} (${sidecarReason(c.reason)?.description ?? '?'})`;
}

/** Whether the kernel carries a spliced connection, from its client socket's conns entry (undefined: none). */
export function spliceStateOf(c: ConnState | undefined): OffloadState {
  if (c === undefined) return { offloaded: false, reason: "the client's socket is not in the kernel's sockhash (closed, or its process is outside kernel.cgroup)" };
  if ((c.flags & SIDECAR_CONN_F.USER) !== 0) return { offloaded: false, reason: handOverReason(c) };
  if (c.kernelFrames === 0n && c.userFrames > 0n && c.rxBytes === 0n) return { offloaded: false, reason: 'catching up: the upstream has not received the first bytes yet (or its socket is outside kernel.cgroup)' };
  return { offloaded: true, reason: '' };
}

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

export class DirectKernelPath implements KernelPath, SpliceKernel {
  readonly loaded = true;
  private compiled: KernelCompiledPolicy | undefined;
  private refused = new Map<string, string>();
  private attachedCgroup: string | undefined;
  /** offload_rules wanted by each listener: key (hex) → flags. */
  private readonly rules = new Map<string, Map<string, number>>();
  /** Calls the kernel opened that the proxy adopted after a hand-over (counted by the proxy), by method id. */
  private readonly adopted = new Map<number, bigint>();
  /**
   * `streams` read in one BPF_MAP_LOOKUP_BATCH for the rest of the current synchronous run (a
   * deadline look: the client socket's `conns`, then its calls in flight), by request socket
   * (hex of its key) and stream id: a look costs one syscall and work for the calls in flight,
   * not a lookup per call started since the last look (at tens of thousands of calls/s those
   * were several µs of the daemon's CPU per call the kernel carried).
   */
  private streamsSeen: Map<string, Map<number, Buffer>> | undefined;

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
      // SPLICE sockets (the proxy's spliced connections): sk_msg and the verdict, no stream parser
      const spliceHash = obj.map('splice_hash');
      attachToSockmap(spliceHash, obj.program(p.verdict), 'sk_skb_verdict');
      attachToSockmap(spliceHash, obj.program(p.msg), 'sk_msg_verdict');
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
    const cfg = this.map('sidecar_cfg');
    cfg.update(encodeU32(0), nextConfig(compiled.config, cfg.lookup(encodeU32(0)))); // last, a new generation: the programs' cached decisions are stale
    this.compiled = compiled;
    this.refused = merged.refused;
    for (const [listener, reason] of merged.refused) this.log.warn({ component: 'kernel', listener }, reason);
  }

  /** Summed over CPUs: the counters of one method id (0 = every path not in the policy); requests without the calls the proxy adopted. */
  methodStats(id: number): MethodStats {
    const v = this.map('method_stats').lookupPerCpu(encodeU32(id));
    if (!v) throw new RangeError(`method_stats[${id}]: no such entry`);
    const s = decodeMethodStats(v);
    // calls the proxy adopted after a hand-over are its to count (adoptStream)
    const adopted = this.adopted.get(id) ?? 0n;
    return adopted === 0n ? s : { ...s, requests: s.requests - adopted };
  }

  /** Method id by path of the policy in the kernel now. */
  get methodIds(): ReadonlyMap<string, number> {
    return this.compiled?.methodIds ?? new Map();
  }

  get splice(): SpliceKernel {
    return this;
  }

  refusal(listener: string): string | undefined {
    return this.refused.get(listener);
  }

  offload(listener: string, listen: HostPort, upstreams: readonly HostPort[]): void {
    const want = new Map<string, number>();
    if (upstreams.length > 0) {
      want.set(encodeSockKey({ localAddress: anyAddress(listen.host), localPort: 0, remoteAddress: listen.host, remotePort: listen.port }).toString('hex'), CLIENT_RULE);
      for (const u of upstreams) want.set(encodeSockKey({ localAddress: u.host, localPort: u.port, remoteAddress: anyAddress(u.host), remotePort: 0 }).toString('hex'), UPSTREAM_RULE);
      this.rules.set(listener, want);
    } else {
      this.rules.delete(listener);
    }
    const all = new Map<string, number>();
    for (const m of this.rules.values()) for (const [k, f] of m) all.set(k, f);
    const map = this.map('offload_rules');
    for (const [k, f] of all) map.update(Buffer.from(k, 'hex'), encodeRule(f));
    for (const key of [...map.keys()]) if (!all.has(key.toString('hex'))) map.delete(key);
  }

  pair(clientSide: SockKey, upstreamSide: SockKey): void {
    const pairs = this.map('pairs');
    pairs.update(encodeSockKey(clientSide), encodeSockKey(upstreamSide));
    pairs.update(encodeSockKey(upstreamSide), encodeSockKey(clientSide));
  }

  unpair(clientSide: SockKey, upstreamSide: SockKey): void {
    const pairs = this.map('pairs');
    for (const k of [clientSide, upstreamSide]) {
      try {
        pairs.delete(encodeSockKey(k));
      } catch {
        // gone already (sockops deletes a socket's pair when it closes)
      }
    }
  }

  conn(key: SockKey): ConnState | undefined {
    this.streamsSeen = undefined; // calls up to this read's last_stream are in `streams` by now
    let raw: Buffer | undefined;
    try {
      raw = this.map('conns').lookup(encodeSockKey(key));
    } catch {
      raw = undefined;
    }
    return raw === undefined ? undefined : decodeConn(raw);
  }

  decline(clientSide: SockKey): void {
    const key = encodeSockKey(clientSide);
    const conns = this.map('conns');
    try {
      const raw = conns.lookup(key);
      if (raw === undefined) return;
      raw.writeUInt32LE(raw.readUInt32LE(0) | SIDECAR_CONN_F.USER, 0);
      if (raw.readUInt32LE(4) === 0) raw.writeUInt32LE(SIDECAR_REASON.NOT_PAIRED, 4);
      conns.update(key, raw, 'exist');
    } catch {
      // closed meanwhile: nothing to stop
    }
  }

  adoptStream(clientSide: SockKey, stream: number): InFlightCall | undefined {
    const streams = this.map('streams');
    const key = encodeStreamKey(clientSide, stream);
    let raw: Buffer | undefined;
    this.streamsSeen = undefined;
    try {
      raw = streams.lookup(key);
      if (raw !== undefined) streams.delete(key);
    } catch {
      return undefined; // finished (or evicted) meanwhile
    }
    if (raw === undefined) return undefined;
    const st = decodeStream(raw);
    this.adopted.set(st.method, (this.adopted.get(st.method) ?? 0n) + 1n);
    return this.inFlight(st);
  }

  /** `streams` as read at the first use after the last `conn()` read, in this synchronous run. */
  private streamsNow(clientSide: SockKey): Map<number, Buffer> | undefined {
    if (this.streamsSeen === undefined) {
      const seen = new Map<string, Map<number, Buffer>>();
      const { conn, stream } = SIDECAR_LAYOUTS.streamKey.members;
      try {
        for (const [k, v] of this.map('streams').lookupBatch()) {
          const sock = k.toString('hex', conn, stream);
          let m = seen.get(sock);
          if (m === undefined) seen.set(sock, (m = new Map()));
          m.set(k.readUInt32LE(stream), v);
        }
      } catch {
        // unloaded meanwhile: no call in flight
      }
      this.streamsSeen = seen;
      queueMicrotask(() => {
        if (this.streamsSeen === seen) this.streamsSeen = undefined;
      });
    }
    return this.streamsSeen.get(encodeSockKey(clientSide).toString('hex'));
  }

  streamsInFlight(clientSide: SockKey): number[] {
    return [...(this.streamsNow(clientSide)?.keys() ?? [])];
  }

  peekStream(clientSide: SockKey, stream: number): InFlightCall | undefined {
    const raw = this.streamsNow(clientSide)?.get(stream);
    return raw === undefined ? undefined : this.inFlight(decodeStream(raw));
  }

  private inFlight(st: StreamState): InFlightCall {
    const path = [...this.methodIds].find(([, id]) => id === st.method)?.[0] ?? 'other';
    const ageMs = Number(process.hrtime.bigint() - st.startNs) / 1e6; // CLOCK_MONOTONIC, as bpf_ktime_get_ns
    return { path, ageMs: Math.max(0, ageMs), responded: st.responded, timeoutMs: parseGrpcTimeout(st.timeout) };
  }

  takeBack(key: SockKey): boolean {
    if (this.conn(key) === undefined) return false;
    this.map('takeback').update(encodeSockKey(key), encodeU32(1));
    return true;
  }

  takeBackPending(key: SockKey): boolean {
    try {
      return this.map('takeback').lookup(encodeSockKey(key)) !== undefined;
    } catch {
      return false;
    }
  }

  spliceState(clientSide: SockKey): OffloadState {
    return spliceStateOf(this.conn(clientSide));
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
    if ((c.flags & SIDECAR_CONN_F.USER) === 0) return { offloaded: false, reason: NOT_PAIRED };
    return { offloaded: false, reason: handOverReason(c) };
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
    counter('sidecar_kernel_requests', 'Requests the kernel path carried, by method (counted by the kernel; calls the proxy adopted after a hand-over are counted by the proxy)', (s) => s.requests);
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
      this.rules.clear();
      if (this.attachedCgroup !== undefined) detachCgroup(this.attachedCgroup, this.obj.program(SIDECAR_OBJECT.programs.sockops), 'cgroup_sock_ops');
    } catch (err) {
      this.log.warn({ component: 'kernel', err: errorMessage(err) }, 'sockops not detached');
    } finally {
      this.attachedCgroup = undefined;
      this.obj.close();
    }
  }
}
