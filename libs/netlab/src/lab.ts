/**
 * A lab: one run of a topology. `new Lab(spec)` validates; `up()` cleans stale runs, records
 * ownership, builds everything in two batched stages (see plan.ts) and registers teardown;
 * `down()` stops processes, sweeps the namespaces and drops the record — idempotent, and also run
 * synchronously on exit and on SIGINT/SIGTERM/SIGHUP. `withLab()` wraps a function in up/down.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { errorMessage } from '@netaccel/errors';
import { parseScopedIp } from '@netaccel/protocol';
import { Checker } from './check.js';
import { exitText, runCommand } from './command.js';
import type { RunResult } from './command.js';
import {
  NA_ERR_NETLAB_BAD_STATE,
  NA_ERR_NETLAB_DOWN_FAILED,
  NA_ERR_NETLAB_EXEC_FAILED,
  NA_ERR_NETLAB_EXEC_TIMEOUT,
  NA_ERR_NETLAB_NOT_ROOT,
  NA_ERR_NETLAB_OPTIONS_INVALID,
  NA_ERR_NETLAB_PROC_NAME_TAKEN,
  NA_ERR_NETLAB_REGISTRY_FAILED,
  NA_ERR_NETLAB_UP_FAILED,
} from './errors.js';
import { buildPlan } from './build.js';
import type { BuildTimings } from './build.js';
import { ipJson } from './ip.js';
import type { Logger } from '@netaccel/errors';
import { LabNodes } from './lab-nodes.js';
import { newRunId, nsName, runDirName } from './names.js';
import { NETNS_DIR, inNetns, listNetns, netnsId, sweepNetns, sweepNetnsSync } from './netns.js';
import type { SysfsView } from './netns.js';
import { resolveLabOptions } from './options.js';
import type { LabOptions, ResolvedLabOptions } from './options.js';
import { planUp } from './plan.js';
import { PING_DEFAULTS, countersArgv, parseCounters, parsePing, pingArgv } from './probes.js';
import type { IfCounters, LinkInfo, PingOptions, PingResult, RouteInfo } from './probes.js';
import { LabProcess } from './process.js';
import type { SpawnOptions } from './process.js';
import { validateReady } from './ready.js';
import { procfs, publishRecord, recordFile, removeRecord, rewriteRecord } from './registry.js';
import type { RunRecord } from './registry.js';
import { validateSpec } from './spec.js';
import type { LabSpec } from './spec-types.js';
import { cleanStale, registerTeardown, unregisterTeardown } from './teardown.js';
import type { SyncTeardown } from './teardown.js';

export type LabState = 'new' | 'starting' | 'up' | 'stopping' | 'down';

export interface ExecOptions {
  /** Kill the command after this long; the lab's `execTimeoutMs` by default. */
  readonly timeoutMs?: number;
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Throw NA_ERR_NETLAB_EXEC_FAILED on a non-zero exit. Default true. */
  readonly check?: boolean;
  /** 'namespace' (default, `ip netns exec`) or 'host' (`nsenter --net`, keeps /sys/fs/bpf); see SysfsView. */
  readonly sysfs?: SysfsView;
}

export type ExecResult = RunResult;

export interface LabTimings {
  /** cleanStale() before building. */
  readonly cleanMs?: number;
  /** Building (both stages), without cleanStale. */
  readonly buildMs?: number;
  /** The root-namespace batch (namespaces, veths, bridges). */
  readonly rootMs?: number;
  /** The per-node scripts (sysctls, addresses, routes, links up), in parallel. */
  readonly nodesMs?: number;
  readonly upMs?: number;
  readonly downMs?: number;
}

const PROC_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const RUN_ID_ATTEMPTS = 5;
const LINK_UP_TIMEOUT_MS = 5_000; // 5 s for the kernel to report every link up
const PING_STARTUP_MS = 10_000; // 10 s margin for python3 to start

/** The command for messages, shortened (an inline script can be long). */
function commandText(argv: readonly string[]): string {
  const text = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function checkSysfs(value: unknown): SysfsView | undefined {
  if (value === undefined || value === 'namespace' || value === 'host') return value;
  return new Checker(NA_ERR_NETLAB_OPTIONS_INVALID).fail('options.sysfs', `expected "namespace" or "host", got ${JSON.stringify(value)}`);
}

function checkArgv(argv: unknown): readonly string[] {
  const c = new Checker(NA_ERR_NETLAB_OPTIONS_INVALID);
  const list = c.array(argv, 'argv');
  if (list.length === 0) c.fail('argv', 'expected a command');
  list.forEach((a, i) => c.string(a, `argv[${i}]`));
  return list as readonly string[];
}

export class Lab extends LabNodes implements SyncTeardown {
  readonly options: ResolvedLabOptions;
  #runId: string;
  #state: LabState = 'new';
  #record: RunRecord | undefined;
  #kept = false;
  readonly #procs = new Map<string, LabProcess>();
  readonly #log: Logger;
  #upPromise: Promise<this> | undefined;
  #downPromise: Promise<void> | undefined;
  #timings: LabTimings = {};
  /** Aborted by downSync(): kills build commands still running, so they create nothing more. */
  readonly #building = new AbortController();

  constructor(spec: LabSpec, options: LabOptions = {}) {
    super(validateSpec(spec));
    this.options = resolveLabOptions(options);
    this.#runId = newRunId();
    this.#log = this.options.log.child({ component: 'netlab', lab: this.topology.name });
  }

  get runId(): string {
    return this.#runId;
  }

  get prefix(): string {
    return this.options.prefix;
  }

  get state(): LabState {
    return this.#state;
  }

  /** `<name> (run <runId>)`, for messages. */
  get label(): string {
    return `${this.topology.name} (run ${this.#runId})`;
  }

  /** Folder of this run's process logs and build files; kept after down(). */
  get logDir(): string {
    return join(this.options.logDir, runDirName(this.prefix, this.#runId));
  }

  get timings(): LabTimings {
    return this.#timings;
  }

  /** Namespace name of a node: `<prefix>-<runId>-<node>`. */
  ns(node: string): string {
    return nsName(this.prefix, this.#runId, this.node(node).name);
  }

  /** Path of a node's namespace file (for setns(2), `nsenter --net=…`). */
  nsPath(node: string): string {
    return join(NETNS_DIR, this.ns(node));
  }

  namespaces(): string[] {
    return this.topology.nodes.map((n) => nsName(this.prefix, this.#runId, n.name));
  }

  /** Builds the topology. Rolls back and throws NA_ERR_NETLAB_UP_FAILED if any step fails. */
  up(): Promise<this> {
    if (this.#upPromise !== undefined) return this.#upPromise;
    if (this.#state !== 'new') throw NA_ERR_NETLAB_BAD_STATE(this.label, this.#state, 'up()', 'new');
    this.#upPromise = this.#up();
    return this.#upPromise;
  }

  async #up(): Promise<this> {
    const uid = process.getuid?.() ?? -1;
    if (uid !== 0) {
      this.#state = 'down';
      throw NA_ERR_NETLAB_NOT_ROOT(uid);
    }
    this.#state = 'starting';
    const t0 = performance.now();
    const o = this.options;
    try {
      if (o.cleanStale) {
        await cleanStale({ prefix: o.prefix, stateDir: o.stateDir, logDir: o.logDir, killGraceMs: o.killGraceMs, logRetentionMs: o.logRetentionMs, log: o.log });
      }
      this.#publish();
    } catch (err) {
      this.#state = 'down'; // nothing was created
      throw NA_ERR_NETLAB_UP_FAILED.with({ cause: err, details: { runId: this.#runId } }, this.topology.name, this.#runId, errorMessage(err));
    }
    const t1 = performance.now();
    registerTeardown(this, o.handleSignals);
    let build: BuildTimings;
    try {
      mkdirSync(this.logDir, { recursive: true });
      const plan = planUp(this.topology, (n) => this.ns(n), (n) => join(this.logDir, `sysctl-${n}.conf`));
      writeFileSync(join(this.logDir, 'plan.json'), `${JSON.stringify({ runId: this.#runId, topology: this.topology, plan }, null, 2)}\n`);
      build = await buildPlan(plan, { stateDir: o.stateDir, linkUpTimeoutMs: LINK_UP_TIMEOUT_MS, signal: this.#building.signal });
      this.#checkStillStarting();
    } catch (err) {
      this.#log.error({ err, runId: this.#runId, logDir: this.logDir }, 'lab build failed; tearing down');
      try {
        await this.#teardown();
      } catch (err2) {
        this.#log.error({ err: err2, runId: this.#runId }, 'rollback failed');
      }
      throw NA_ERR_NETLAB_UP_FAILED.with({ cause: err, details: { runId: this.#runId, logDir: this.logDir } }, this.topology.name, this.#runId, errorMessage(err));
    }
    this.#state = 'up';
    const t2 = performance.now();
    this.#timings = { cleanMs: t1 - t0, buildMs: t2 - t1, ...build, upMs: t2 - t0 };
    this.#log.info({ runId: this.#runId, nodes: this.topology.nodes.length, links: this.topology.links.length, ...this.#timings }, 'lab up');
    return this;
  }

  #checkStillStarting(): void {
    if (this.#state !== 'starting') throw NA_ERR_NETLAB_BAD_STATE(this.label, this.#state, 'up()', 'starting (torn down meanwhile)');
  }

  /** Publishes the ownership record under a run id that no record or namespace uses yet. */
  #publish(): void {
    const o = this.options;
    for (let attempt = 1; ; attempt++) {
      const taken = listNetns().some((n) => n.startsWith(`${o.prefix}-${this.#runId}-`));
      if (!taken) {
        const record: RunRecord = {
          version: 1,
          runId: this.#runId,
          prefix: o.prefix,
          name: this.topology.name,
          pid: process.pid,
          pidStart: procfs.startTime(process.pid) ?? '0',
          createdAt: new Date().toISOString(),
          namespaces: this.namespaces(),
          logDir: this.logDir,
        };
        if (publishRecord(o.stateDir, record)) {
          this.#record = record;
          return;
        }
      }
      if (attempt >= RUN_ID_ATTEMPTS) {
        throw NA_ERR_NETLAB_REGISTRY_FAILED(this.#runId, o.stateDir, `no free run id after ${RUN_ID_ATTEMPTS} attempts`);
      }
      this.#runId = newRunId();
    }
  }

  /**
   * Hands the running lab over so that this process may exit with it still up: the record is
   * marked kept (cleanStale() leaves it alone), the exit and signal handlers forget it, and its
   * processes no longer hold the event loop. `removeRun()` (or `down()` from this process) takes
   * it down later.
   */
  keep(): void {
    this.#requireUp('keep()');
    if (this.#kept) return;
    const record = this.#record;
    if (record === undefined) throw NA_ERR_NETLAB_BAD_STATE(this.label, this.#state, 'keep()', 'published');
    rewriteRecord(this.options.stateDir, { ...record, kept: true });
    this.#kept = true;
    unregisterTeardown(this);
    for (const p of this.#procs.values()) p.unref();
    this.#log.info({ runId: this.#runId }, 'lab kept');
  }

  /** True after keep(). */
  get kept(): boolean {
    return this.#kept;
  }

  /** Stops every process and deletes every namespace of the run. Idempotent. */
  down(): Promise<void> {
    if (this.#downPromise !== undefined) return this.#downPromise;
    if (this.#state === 'new') {
      this.#state = 'down';
      return Promise.resolve();
    }
    const building = this.#upPromise;
    this.#downPromise = (async () => {
      if (building !== undefined) await building.catch(() => undefined);
      if (this.#state !== 'down') await this.#teardown();
    })();
    return this.#downPromise;
  }

  async #teardown(): Promise<void> {
    this.#state = 'stopping';
    const t0 = performance.now();
    await Promise.all([...this.#procs.values()].map((p) => p.stop(this.options.killGraceMs)));
    const r = await sweepNetns(this.namespaces(), { graceMs: this.options.killGraceMs });
    if (r.remaining.length > 0) {
      // Stays registered (state 'stopping'): the exit handler tries once more.
      throw NA_ERR_NETLAB_DOWN_FAILED(this.topology.name, this.#runId, r.remaining.join(', '));
    }
    removeRecord(recordFile(this.options.stateDir, this.prefix, this.#runId));
    unregisterTeardown(this);
    this.#state = 'down';
    this.#timings = { ...this.#timings, downMs: performance.now() - t0 };
    this.#log.info({ runId: this.#runId, downMs: this.#timings.downMs, killed: r.pids.length }, 'lab down');
  }

  /** Teardown without the event loop (exit and signal handlers). */
  downSync(reason: string): void {
    if (this.#state === 'new' || this.#state === 'down') return;
    this.#state = 'stopping';
    this.#building.abort(); // synchronous: SIGKILLs a running build step before the sweep
    for (const p of this.#procs.values()) p.stopSync(this.options.killGraceMs);
    const r = sweepNetnsSync(this.namespaces(), { graceMs: this.options.killGraceMs });
    if (r.remaining.length === 0) removeRecord(recordFile(this.options.stateDir, this.prefix, this.#runId));
    unregisterTeardown(this);
    this.#state = 'down';
    this.#log.warn({ runId: this.#runId, reason, remaining: r.remaining }, 'lab torn down by handler');
  }

  #requireUp(what: string): void {
    if (this.#state !== 'up') throw NA_ERR_NETLAB_BAD_STATE(this.label, this.#state, what, 'up');
  }

  /** Runs a command inside a node and collects its output. */
  async exec(node: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.#requireUp('exec()');
    const cmd = checkArgv(argv);
    const timeoutMs = opts.timeoutMs ?? this.options.execTimeoutMs;
    const { cmd: bin, args } = inNetns(this.ns(node), cmd, checkSysfs(opts.sysfs));
    const r = await runCommand(bin, args, {
      input: opts.input,
      timeoutMs,
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
    });
    const text = commandText(cmd);
    if (r.timedOut) throw NA_ERR_NETLAB_EXEC_TIMEOUT.with({ details: { stdout: r.stdout, stderr: r.stderr } }, text, node, timeoutMs);
    if (opts.check !== false && r.code !== 0) {
      const stderr = r.stderr.trim().split('\n').slice(-10).join('\n') || '(empty)';
      throw NA_ERR_NETLAB_EXEC_FAILED.with({ details: { stdout: r.stdout, stderr: r.stderr, code: r.code } }, text, node, exitText(r), stderr);
    }
    return r;
  }

  /** Starts a managed process inside a node; resolves once it is ready (see SpawnOptions.ready). */
  async spawn(node: string, argv: readonly string[], opts: SpawnOptions = {}): Promise<LabProcess> {
    this.#requireUp('spawn()');
    const cmd = checkArgv(argv);
    const c = new Checker(NA_ERR_NETLAB_OPTIONS_INVALID);
    c.object(opts, 'options', ['name', 'ready', 'timeoutMs', 'env', 'cwd', 'sysfs']);
    if (opts.ready !== undefined) validateReady(opts.ready, 'options.ready');
    checkSysfs(opts.sysfs);
    const timeoutMs = opts.timeoutMs === undefined ? this.options.readyTimeoutMs : c.int(opts.timeoutMs, 'options.timeoutMs', 1, 24 * 3600_000);
    const name = opts.name === undefined ? this.#freeName(cmd) : c.string(opts.name, 'options.name', PROC_NAME_RE, '1..64 of A-Za-z0-9_.-');
    if (this.#procs.get(name)?.exited === false) throw NA_ERR_NETLAB_PROC_NAME_TAKEN(this.label, name);
    const ns = this.ns(node);
    const proc = await LabProcess.start(
      { node, ns, netnsId: netnsId(ns), logDir: this.logDir, killGraceMs: this.options.killGraceMs, pollIntervalMs: this.options.pollIntervalMs, log: this.#log },
      name, cmd, opts,
    );
    this.#procs.set(name, proc);
    if (opts.ready !== undefined) await proc.waitReady(opts.ready, timeoutMs);
    return proc;
  }

  #freeName(argv: readonly string[]): string {
    const base = basename(argv[0] ?? 'proc').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 56) || 'proc';
    let name = base;
    for (let i = 2; this.#procs.get(name)?.exited === false; i++) name = `${base}-${i}`;
    return name;
  }

  /** Processes started by spawn(), the latest of each name. */
  processes(): readonly LabProcess[] {
    return [...this.#procs.values()];
  }

  /** `ip -j <args>` inside a node, parsed. */
  ipJson<T = unknown>(node: string, args: readonly string[]): Promise<T> {
    this.#requireUp('ipJson()');
    return ipJson<T>(args, { ns: this.ns(node) });
  }

  /** The node's routes (`ip -j -4|-6 route show [table N]`). */
  routes(node: string, opts: { family?: 4 | 6; table?: number | 'all' } = {}): Promise<RouteInfo[]> {
    const table = opts.table === undefined ? [] : ['table', String(opts.table)];
    return this.ipJson<RouteInfo[]>(node, [`-${opts.family ?? 4}`, 'route', 'show', ...table]);
  }

  /** The node's interfaces (`ip -j link show`). */
  links(node: string): Promise<LinkInfo[]> {
    return this.ipJson<LinkInfo[]>(node, ['link', 'show']);
  }

  /** Counters of an interface from /sys/class/net/<if>/statistics. */
  async counters(node: string, ifname: string): Promise<IfCounters> {
    return parseCounters((await this.exec(node, countersArgv(ifname))).stdout);
  }

  /** ICMP echo from a node to an address; never throws for lost replies (see `ok`). */
  async ping(from: string, to: string, opts: PingOptions = {}): Promise<PingResult> {
    try {
      parseScopedIp(to); // a link-local target may name its interface: fe80::1%eth0
    } catch {
      new Checker(NA_ERR_NETLAB_OPTIONS_INVALID).fail('to', `expected an IPv4 or IPv6 address (fe80::…%<interface> for a link-local one), got ${JSON.stringify(to)}`);
    }
    const count = opts.count ?? PING_DEFAULTS.count;
    const perProbe = (opts.timeoutMs ?? PING_DEFAULTS.timeoutMs) + (opts.intervalMs ?? PING_DEFAULTS.intervalMs);
    const timeoutMs = count * perProbe + PING_STARTUP_MS;
    return parsePing((await this.exec(from, pingArgv(to, opts), { timeoutMs })).stdout, from);
  }
}

/** A lab for `spec`, not yet built. */
export function createLab(spec: LabSpec, options: LabOptions = {}): Lab {
  return new Lab(spec, options);
}

/** Builds the lab, runs `fn`, and always tears down; an error of `fn` wins over one of down(). */
export async function withLab<T>(spec: LabSpec, fn: (lab: Lab) => T | Promise<T>, options: LabOptions = {}): Promise<T> {
  const lab = new Lab(spec, options);
  let result: T;
  try {
    await lab.up();
    result = await fn(lab);
  } catch (err) {
    await lab.down().catch(() => undefined);
    throw err;
  }
  await lab.down();
  return result;
}
