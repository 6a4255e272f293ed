/**
 * The kernel path loaded and attached through ebpf-loader (`kernel.via: loader`; ARCHITECTURE.md:
 * no daemon but the loader calls bpf(2)). What runs where:
 *
 *   ebpf-loader     loads sidecar.bpf.o from its object directory (`kernel.object`, default
 *                   `sidecar/sidecar.bpf.o`), pins it, and attaches: the stream parser, the
 *                   stream verdict and sk_msg to `sock_hash`; the verdict WITHOUT a parser
 *                   (`sk-skb-verdict`) and sk_msg to `splice_hash`; sockops to `kernel.cgroup`.
 *                   It serves every map read and write below (MapLookupBatch for the reads).
 *   this process    the same proxy and relay as `via: direct` (kernel.ts), through the
 *                   `LoaderDataPlane` of @netaccel/dataplane: policies and offload rules written
 *                   in batches; a connection's pair written before the proxy connects upstream
 *                   (awaited); the sockets' `conns` state followed in a mirror (conn-mirror.ts)
 *                   read in batches, one round trip per turn of the event loop whatever the
 *                   number of connections with bytes in user space, none for connections the
 *                   kernel carries; per-method counters and hand-off reasons read at each scrape.
 *
 * Closing detaches sockops (no new socket enters the sockhash without a proxy) and leaves the
 * object loaded: the next start finds it (the loader answers the same object) and attaches again.
 */
import { errorMessage } from '@netaccel/errors';
import { LoaderDataPlane } from '@netaccel/dataplane';
import type { Logger, Metrics } from '@netaccel/telemetry';
import {
  SIDECAR_CONN_F,
  SIDECAR_OBJECT,
  SIDECAR_REASON,
  SIDECAR_REASONS,
  compilePolicy,
  decodeCounter,
  decodeMethodStats,
  encodeRule,
  encodeSockKey,
  encodeU32,
  nextConfig,
} from '@netaccel/bpf-programs/sidecar';
import type { ConnState, CompiledPolicy as KernelCompiledPolicy, MethodStats, SidecarMapName, SockKey, StreamState } from '@netaccel/bpf-programs/sidecar';
import type { KernelConfig } from './config.js';
import { ConnMirror } from './conn-mirror.js';
import { StreamMirror } from './stream-mirror.js';
import { NA_ERR_SIDECARD_KERNEL_LOAD } from './errors.js';
import { parseGrpcTimeout } from './grpc-wire.js';
import { CLIENT_RULE, NOT_PAIRED, UPSTREAM_RULE, anyAddress, handOverReason, mergeKernelPolicies, spliceStateOf } from './kernel.js';
import type { ConnectionKey, HostPort, InFlightCall, KernelPath, OffloadState, SpliceKernel } from './offload.js';
import type { CompiledPolicy } from './policy.js';

/** The object as the loader finds it in its object directory (bpf/build, or /usr/lib/netaccel/bpf). */
export const LOADER_OBJECT_PATH = 'sidecar/sidecar.bpf.o';
/** Who loads it, as the loader records it. */
export const LOADER_OWNER = 'sidecar-offload';

const DESCRIPTOR = Object.freeze({ name: 'sidecar', program: SIDECAR_OBJECT.programs.sockops, maps: SIDECAR_OBJECT.maps });
/** ms a take-back waits for the kernel to consume its entry (splice.ts polls meanwhile). */
const TAKE_BACK_MS = 2500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class LoaderKernelPath implements KernelPath, SpliceKernel {
  readonly loaded = true;
  readonly mirror: ConnMirror;
  readonly streams: StreamMirror;
  private compiled: KernelCompiledPolicy | undefined;
  private refused = new Map<string, string>();
  private sockopsLink: string | undefined;
  /** offload_rules wanted by each listener: key (hex) → flags. */
  private readonly rules = new Map<string, Map<string, number>>();
  /** Take-backs under way, by socket key (hex). */
  private readonly takingBack = new Map<string, Promise<void>>();
  /** Calls the kernel opened that the proxy adopted after a hand-over (counted by the proxy), by method id. */
  private readonly adopted = new Map<number, bigint>();

  private constructor(
    readonly dataPlane: LoaderDataPlane<SidecarMapName>,
    private readonly log: Logger,
  ) {
    this.mirror = new ConnMirror((keys) => dataPlane.lookupMany('conns', keys), (keys) => dataPlane.lookupMany('takeback', keys));
    this.streams = new StreamMirror(
      (keys) => dataPlane.lookupMany('streams', keys),
      async (key) => {
        try {
          await dataPlane.delete('streams', key); // gone already (evicted) is not an error
        } catch (err) {
          log.warn({ component: 'kernel', err: errorMessage(err) }, 'adopted call not deleted from streams through ebpf-loader');
        }
      },
    );
  }

  /** Loads and attaches through the loader; throws NA_ERR_SIDECARD_KERNEL_LOAD when it cannot (sockops, attached last, is not left attached). */
  static async open(cfg: KernelConfig, metrics: Metrics, log: Logger): Promise<LoaderKernelPath> {
    const objectPath = cfg.object === '' ? LOADER_OBJECT_PATH : cfg.object;
    let dp: LoaderDataPlane<SidecarMapName> | undefined;
    let sockops: string | undefined;
    try {
      dp = await LoaderDataPlane.open(DESCRIPTOR, { address: cfg.loaderSocket, objectPath, owner: LOADER_OWNER });
      const p = SIDECAR_OBJECT.programs;
      await dp.attachProgram(p.parser, { mode: 'sk-skb-stream-parser', map: 'sock_hash' });
      await dp.attachProgram(p.verdict, { mode: 'sk-skb-stream-verdict', map: 'sock_hash' });
      await dp.attachProgram(p.msg, { mode: 'sk-msg-verdict', map: 'sock_hash' });
      // SPLICE sockets (the proxy's spliced connections): sk_msg and the verdict, no stream parser
      await dp.attachProgram(p.verdict, { mode: 'sk-skb-verdict', map: 'splice_hash' });
      await dp.attachProgram(p.msg, { mode: 'sk-msg-verdict', map: 'splice_hash' });
      sockops = await dp.attachProgram(p.sockops, { mode: 'sockops', cgroup: cfg.cgroup });
    } catch (err) {
      await dp?.close();
      throw NA_ERR_SIDECARD_KERNEL_LOAD.with({ cause: err }, `${objectPath} (through ebpf-loader ${cfg.loaderSocket})`, cfg.cgroup, errorMessage(err));
    }
    const k = new LoaderKernelPath(dp, log);
    k.sockopsLink = sockops;
    k.registerMetrics(metrics);
    log.info({ component: 'kernel', object: objectPath, objectId: dp.objectId, loader: cfg.loaderSocket, cgroup: cfg.cgroup }, 'kernel path loaded and attached through ebpf-loader');
    return k;
  }

  async applyPolicies(policies: readonly CompiledPolicy[]): Promise<void> {
    const merged = mergeKernelPolicies(policies);
    const compiled = compilePolicy({ methods: merged.methods, defaultAction: merged.defaultAction });
    const keep = new Set(compiled.entries.map((e) => e.key.toString('hex')));
    // new forms first: no moment without a policy
    await this.dataPlane.updateBatch('policy', compiled.entries.map((e) => e.key), compiled.entries.map((e) => e.value));
    for (const key of await this.keys('policy')) if (!keep.has(key.toString('hex'))) await this.dataPlane.delete('policy', key);
    // last, a new generation: the programs' cached decisions are stale
    await this.dataPlane.update('sidecar_cfg', encodeU32(0), nextConfig(compiled.config, await this.dataPlane.lookup('sidecar_cfg', encodeU32(0))));
    this.compiled = compiled;
    this.refused = merged.refused;
    for (const [listener, reason] of merged.refused) this.log.warn({ component: 'kernel', listener }, reason);
  }

  private async keys(map: SidecarMapName): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for await (const e of this.dataPlane.dump(map)) out.push(e.key);
    return out;
  }

  /** Summed over CPUs: the counters of method ids (0 = every path not in the policy), one call for all. */
  async methodStatsMany(ids: readonly number[]): Promise<MethodStats[]> {
    const values = await this.dataPlane.lookupManyPerCpu('method_stats', ids.map((id) => encodeU32(id)));
    return values.map((v, i) => {
      if (v === undefined) throw new RangeError(`method_stats[${ids[i]}]: no such entry`);
      const st = decodeMethodStats(v);
      // calls the proxy adopted after a hand-over are its to count (adoptStream)
      const adopted = this.adopted.get(ids[i]!) ?? 0n;
      return adopted === 0n ? st : { ...st, requests: st.requests - adopted };
    });
  }

  async methodStats(id: number): Promise<MethodStats> {
    return (await this.methodStatsMany([id]))[0]!;
  }

  /** Frames the kernel counted by hand-off reason (REDIRECTED included), one call for all. */
  async reasonFrames(): Promise<Map<number, bigint>> {
    const values = await this.dataPlane.lookupManyPerCpu('reason_stats', SIDECAR_REASONS.map((r) => encodeU32(r.value)));
    const out = new Map<number, bigint>();
    SIDECAR_REASONS.forEach((r, i) => {
      const v = values[i];
      if (v !== undefined) out.set(r.value, decodeCounter(v).frames);
    });
    return out;
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

  async offload(listener: string, listen: HostPort, upstreams: readonly HostPort[]): Promise<void> {
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
    const keys = [...all.keys()];
    await this.dataPlane.updateBatch('offload_rules', keys.map((k) => Buffer.from(k, 'hex')), keys.map((k) => encodeRule(all.get(k)!)));
    for (const key of await this.keys('offload_rules')) if (!all.has(key.toString('hex'))) await this.dataPlane.delete('offload_rules', key);
  }

  async pair(clientSide: SockKey, upstreamSide: SockKey): Promise<void> {
    const c = encodeSockKey(clientSide);
    const u = encodeSockKey(upstreamSide);
    await this.dataPlane.updateBatch('pairs', [c, u], [u, c]);
    this.mirror.follow(clientSide);
    this.mirror.follow(upstreamSide);
  }

  /** Never throws (it runs on a failed connect): an entry it cannot delete is logged; sockops deletes it when the socket closes. */
  async unpair(clientSide: SockKey, upstreamSide: SockKey): Promise<void> {
    for (const k of [clientSide, upstreamSide]) {
      this.mirror.forget(k);
      try {
        await this.dataPlane.delete('pairs', encodeSockKey(k)); // gone already is not an error
      } catch (err) {
        this.log.warn({ component: 'kernel', err: errorMessage(err) }, 'pair not deleted through ebpf-loader');
      }
    }
  }

  conn(key: SockKey): ConnState | undefined {
    return this.mirror.conn(key);
  }

  readonly fresh = (key: SockKey): Promise<void> => this.mirror.fresh(key);

  /** The kernel stops judging a client socket the proxy terminates itself (read, marked, written while it exists). */
  async decline(clientSide: SockKey): Promise<void> {
    const key = encodeSockKey(clientSide);
    try {
      const raw = await this.dataPlane.lookup('conns', key);
      if (raw === undefined) return;
      raw.writeUInt32LE(raw.readUInt32LE(0) | SIDECAR_CONN_F.USER, 0);
      if (raw.readUInt32LE(4) === 0) raw.writeUInt32LE(SIDECAR_REASON.NOT_PAIRED, 4);
      await this.dataPlane.update('conns', key, raw, 'exist');
    } catch (err) {
      // closed meanwhile (the entry is gone): nothing to stop
      this.log.debug({ component: 'kernel', err: errorMessage(err) }, 'declined socket not marked in the kernel');
    }
  }

  /**
   * Asks the kernel to hand a socket over (splice.ts `takeBack`): true when the mirror knows the
   * socket or follows it; the entry is written, then read in batches until the kernel consumed it
   * (`takeBackPending` answers true meanwhile), then the socket's state is read again.
   */
  takeBack(key: SockKey): boolean | Promise<boolean> {
    const hex = encodeSockKey(key).toString('hex');
    if (this.takingBack.has(hex)) return true;
    return this.startTakeBack(key, hex);
  }

  private async startTakeBack(key: SockKey, hex: string): Promise<boolean> {
    // the mirror may not hold the socket (never read, or read long ago): read it first
    if (this.mirror.conn(key) === undefined) await this.mirror.fresh(key);
    if (this.mirror.conn(key) === undefined) return false;
    if (this.takingBack.has(hex)) return true;
    // the trigger byte may go only once the entry is in the kernel: a byte that finds none reaches the workload
    let written!: (ok: boolean) => void;
    const ready = new Promise<boolean>((resolve) => (written = resolve));
    const run = this.runTakeBack(key, written).finally(() => this.takingBack.delete(hex));
    this.takingBack.set(hex, run);
    return ready;
  }

  takeBackPending(key: SockKey): boolean {
    return this.takingBack.has(encodeSockKey(key).toString('hex'));
  }

  private async runTakeBack(key: SockKey, written: (ok: boolean) => void): Promise<void> {
    const k = encodeSockKey(key);
    try {
      try {
        await this.dataPlane.update('takeback', k, encodeU32(1));
      } catch (err) {
        written(false);
        throw err;
      }
      written(true);
      for (const end = Date.now() + TAKE_BACK_MS; Date.now() < end; await sleep(1)) {
        await this.mirror.takeback.ask(k);
        if (!this.mirror.takeback.last.has(k.toString('hex'))) break;
      }
      await this.mirror.fresh(key);
    } catch (err) {
      this.log.warn({ component: 'kernel', err: errorMessage(err) }, 'take-back through ebpf-loader failed');
    }
  }

  /** Reads again the kernel's entries of these calls of a connection (batched with every read of this turn). */
  readonly freshStreams = (clientSide: SockKey, ids: readonly number[]): Promise<void> => this.streams.fresh(clientSide, ids);

  /** A call in flight at a hand-over, as last read (`freshStreams`): adopted, its entry deleted through the loader. */
  adoptStream(clientSide: SockKey, stream: number): InFlightCall | undefined {
    const st = this.streams.take(clientSide, stream);
    if (st === undefined) return undefined;
    this.adopted.set(st.method, (this.adopted.get(st.method) ?? 0n) + 1n);
    return this.inFlight(st);
  }

  /** The same call left in the kernel, as last read. */
  peekStream(clientSide: SockKey, stream: number): InFlightCall | undefined {
    const st = this.streams.peek(clientSide, stream);
    return st === undefined ? undefined : this.inFlight(st);
  }

  private inFlight(st: StreamState): InFlightCall {
    const path = [...this.methodIds].find(([, id]) => id === st.method)?.[0] ?? 'other';
    const ageMs = Number(process.hrtime.bigint() - st.startNs) / 1e6; // CLOCK_MONOTONIC, as bpf_ktime_get_ns (one host)
    return { path, ageMs: Math.max(0, ageMs), responded: st.responded, timeoutMs: parseGrpcTimeout(st.timeout) };
  }

  spliceState(clientSide: SockKey): OffloadState {
    return spliceStateOf(this.mirror.conn(clientSide));
  }

  state(conn: ConnectionKey): OffloadState {
    const refused = this.refused.get(conn.listener);
    if (refused !== undefined) return { offloaded: false, reason: refused };
    const c = this.mirror.conn({ localAddress: conn.remoteAddress, localPort: conn.remotePort, remoteAddress: conn.localAddress, remotePort: conn.localPort });
    if (c === undefined || (c.flags & SIDECAR_CONN_F.USER) === 0) return { offloaded: false, reason: NOT_PAIRED };
    return { offloaded: false, reason: handOverReason(c) };
  }

  /** Reads again the state of every socket of a spliced connection (one batch), for the connection list. */
  readonly refresh = async (): Promise<void> => {
    try {
      await this.mirror.refresh();
    } catch (err) {
      this.log.warn({ component: 'kernel', err: errorMessage(err) }, 'connection states not read from ebpf-loader');
    }
  };

  private registerMetrics(metrics: Metrics): void {
    const methods = async (): Promise<[string, MethodStats][]> => {
      const paths = ['other', ...this.methodIds.keys()];
      const stats = await this.methodStatsMany([0, ...this.methodIds.values()]);
      return paths.map((p, i) => [p, stats[i]!]);
    };
    const counter = (name: string, help: string, pick: (s: MethodStats) => bigint) =>
      metrics.gauge({
        name,
        help,
        labelNames: ['method'],
        async collect() {
          const all = await methods();
          this.reset();
          for (const [method, s] of all) this.set({ method }, Number(pick(s)));
        },
      });
    counter('sidecar_kernel_requests', 'Requests the kernel path carried, by method (counted by the kernel; calls the proxy adopted after a hand-over are counted by the proxy)', (s) => s.requests);
    counter('sidecar_kernel_denied', 'Requests the kernel judged denied and handed to user space, by method', (s) => s.denied);
    counter('sidecar_kernel_responses', 'Responses (END_STREAM) the kernel path carried, by method', (s) => s.responses);
    counter('sidecar_kernel_request_bytes', 'Request DATA bytes the kernel path carried, by method', (s) => s.requestBytes);
    counter('sidecar_kernel_response_bytes', 'Response DATA bytes the kernel path carried, by method', (s) => s.responseBytes);
    const reasons = () => this.reasonFrames();
    metrics.gauge({
      name: 'sidecar_kernel_frames',
      help: 'HTTP/2 frames seen by the kernel path, by outcome (redirected, or why handed to user space)',
      labelNames: ['reason'],
      async collect() {
        const frames = await reasons();
        this.reset();
        for (const r of SIDECAR_REASONS) {
          const n = frames.get(r.value);
          if (n !== undefined) this.set({ reason: r.name }, Number(n));
        }
      },
    });
  }

  async close(): Promise<void> {
    try {
      this.rules.clear();
      if (this.sockopsLink !== undefined) await this.dataPlane.detach(this.sockopsLink);
    } catch (err) {
      this.log.warn({ component: 'kernel', err: errorMessage(err) }, 'sockops not detached');
    } finally {
      this.sockopsLink = undefined;
      await this.dataPlane.close();
    }
  }
}
