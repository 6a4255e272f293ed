/**
 * Processes a lab runs inside its namespaces (`ip netns exec <ns> argv…`, or `nsenter --net` with
 * `sysfs: 'host'`). Each runs in its own
 * process group, writes stdout and stderr straight into `<logDir>/<name>.log` (the file descriptor
 * is handed to the child, so the log is complete even if this process dies), and can be awaited
 * until ready. Errors about a process name its log file and quote its last lines.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '@netaccel/errors';
import { exitText, killGroup } from './command.js';
import {
  NA_ERR_NETLAB_PROC_EXITED,
  NA_ERR_NETLAB_READY_TIMEOUT,
  NA_ERR_NETLAB_SPAWN_FAILED,
  NA_ERR_NETLAB_WAIT_TIMEOUT,
} from './errors.js';
import type { Logger } from '@netaccel/errors';
import { inNetns, isRunning } from './netns.js';
import type { SysfsView } from './netns.js';
import { describeReady, probeFor } from './ready.js';
import type { ReadyCheck } from './ready.js';
import { sleepSync, within } from './wait.js';

export interface SpawnOptions {
  /** Names the process and its log file (`<name>.log`); unique among the lab's running processes. */
  readonly name?: string;
  /** Resolve spawn() only once this holds; without it spawn() resolves once the process started. */
  readonly ready?: ReadyCheck<LabProcess>;
  /** Readiness deadline; the lab's `readyTimeoutMs` by default. */
  readonly timeoutMs?: number;
  /** Added to (and overriding) this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** 'namespace' (default, `ip netns exec`) or 'host' (`nsenter --net`, keeps /sys/fs/bpf); see SysfsView. */
  readonly sysfs?: SysfsView;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What a process needs to know about its lab. */
export interface ProcessContext {
  readonly node: string;
  readonly ns: string;
  readonly netnsId: string | undefined;
  readonly logDir: string;
  readonly killGraceMs: number;
  readonly pollIntervalMs: number;
  readonly log: Logger;
}

const TAIL_BYTES = 64 * 1024;
const TAIL_LINES = 20;
const EXIT_WAIT_MS = 5_000; // 5 s for a SIGKILLed process to be reaped

export class LabProcess {
  readonly name: string;
  readonly node: string;
  readonly argv: readonly string[];
  /** The log file: stdout and stderr of the process, after a one-line header. */
  readonly logPath: string;
  readonly pid: number;
  readonly #ctx: ProcessContext;
  readonly #logStart: number;
  readonly #exited: Promise<ExitInfo>;
  readonly #child: ChildProcess;
  #exit: ExitInfo | undefined;

  private constructor(ctx: ProcessContext, name: string, argv: readonly string[], logPath: string, logStart: number, child: ChildProcess, exited: Promise<ExitInfo>) {
    const pid = child.pid!;
    this.#child = child;
    this.#ctx = ctx;
    this.name = name;
    this.node = ctx.node;
    this.argv = Object.freeze([...argv]);
    this.logPath = logPath;
    this.#logStart = logStart;
    this.pid = pid;
    this.#exited = exited.then((info) => {
      this.#exit = info;
      ctx.log.info({ name, node: ctx.node, pid, ...info }, 'process exited');
      return info;
    });
  }

  /** Starts `argv` in the context's namespace; resolves once the process exists (not yet ready). */
  static async start(ctx: ProcessContext, name: string, argv: readonly string[], opts: SpawnOptions): Promise<LabProcess> {
    const logPath = join(ctx.logDir, `${name}.log`);
    const fd = openSync(logPath, 'a', 0o644);
    let logStart: number;
    try {
      writeSync(fd, `=== netlab: ${JSON.stringify(argv)} in node ${ctx.node} (${ctx.ns}) at ${new Date().toISOString()}\n`);
      logStart = fstatSync(fd).size;
      const { cmd, args } = inNetns(ctx.ns, argv, opts.sysfs);
      const child = spawn(cmd, args, {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, ...opts.env },
        cwd: opts.cwd,
        detached: true, // its own process group: kill() reaches what it forks
      });
      const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      const failed = await new Promise<Error | undefined>((resolve) => {
        child.once('spawn', () => resolve(undefined));
        child.once('error', resolve);
      });
      child.on('error', (err) => ctx.log.warn({ name, err }, 'process error'));
      if (failed !== undefined || child.pid === undefined) {
        throw NA_ERR_NETLAB_SPAWN_FAILED.with({ cause: failed }, [cmd, ...args].join(' '), errorMessage(failed ?? 'no pid'));
      }
      ctx.log.info({ name, node: ctx.node, pid: child.pid, argv, logPath }, 'process started');
      return new LabProcess(ctx, name, argv, logPath, logStart, child, exited);
    } finally {
      closeSync(fd);
    }
  }

  /** Lets this process exit while the child runs on (Lab.keep()). */
  unref(): void {
    this.#child.unref();
  }

  /** True once the process has exited. */
  get exited(): boolean {
    return this.#exit !== undefined;
  }

  /** How it exited, once it has. */
  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  /** What this start of the process wrote so far (stdout and stderr interleaved). */
  output(): string {
    return this.#read(this.#logStart);
  }

  /** The last `lines` lines of output. */
  tail(lines = TAIL_LINES): string[] {
    const text = this.#read(-TAIL_BYTES);
    const all = text.split('\n');
    if (all[all.length - 1] === '') all.pop();
    return all.slice(-lines);
  }

  #read(from: number): string {
    let fd: number;
    try {
      fd = openSync(this.logPath, 'r');
    } catch {
      return '';
    }
    try {
      const size = fstatSync(fd).size;
      const start = from >= 0 ? from : Math.max(this.#logStart, size + from);
      const buf = Buffer.alloc(Math.max(0, size - start));
      const n = readSync(fd, buf, 0, buf.length, start);
      return buf.subarray(0, n).toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  /** Sends a signal to the process group; false when the process is gone. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.#exit !== undefined) return false;
    return killGroup(this.pid, signal);
  }

  /** Resolves when the process exits; with a timeout, rejects with NA_ERR_NETLAB_WAIT_TIMEOUT. */
  async wait(opts: { timeoutMs?: number } = {}): Promise<ExitInfo> {
    if (opts.timeoutMs === undefined) return this.#exited;
    const info = await within(this.#exited, opts.timeoutMs);
    if (info === undefined) {
      throw NA_ERR_NETLAB_WAIT_TIMEOUT(opts.timeoutMs, `process ${this.name} in node ${this.node} to exit`, `; log ${this.logPath}`);
    }
    return info;
  }

  /** SIGTERM to the group, SIGKILL after the grace period; resolves with the exit. */
  async stop(graceMs = this.#ctx.killGraceMs): Promise<ExitInfo | undefined> {
    if (this.#exit !== undefined) return this.#exit;
    this.kill('SIGTERM');
    const graceful = await within(this.#exited, graceMs);
    if (graceful !== undefined) return graceful;
    this.kill('SIGKILL');
    return within(this.#exited, EXIT_WAIT_MS);
  }

  /** The same without the event loop, for signal and exit handlers. */
  stopSync(graceMs = this.#ctx.killGraceMs): void {
    if (this.#exit !== undefined || !isRunning(this.pid)) return;
    killGroup(this.pid, 'SIGTERM');
    const deadline = performance.now() + graceMs;
    while (isRunning(this.pid) && performance.now() < deadline) sleepSync(10);
    if (isRunning(this.pid)) killGroup(this.pid, 'SIGKILL');
  }

  /** Waits until `check` holds; on timeout stops the process and throws with the log tail. */
  async waitReady(check: ReadyCheck<LabProcess>, timeoutMs: number): Promise<void> {
    const probe = probeFor(check, { pid: this.pid, netnsId: this.#ctx.netnsId, logPath: this.logPath, logStart: this.#logStart }, this);
    const what = describeReady(check);
    const deadline = performance.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      if (this.#exit === undefined) {
        try {
          if (await probe()) return;
        } catch (err) {
          lastError = err;
        }
      }
      if (this.#exit !== undefined) {
        throw NA_ERR_NETLAB_PROC_EXITED.with(
          { details: { logPath: this.logPath, exit: this.#exit } },
          this.name, this.node, exitText(this.#exit), what, this.logPath, this.#tailText(),
        );
      }
      if (performance.now() >= deadline) {
        await this.stop();
        throw NA_ERR_NETLAB_READY_TIMEOUT.with(
          { cause: lastError, details: { logPath: this.logPath, timeoutMs } },
          this.name, this.node, what, timeoutMs, this.logPath, this.#tailText(),
        );
      }
      await within(this.#exited, this.#ctx.pollIntervalMs);
    }
  }

  #tailText(): string {
    const lines = this.tail();
    return lines.length === 0 ? '  (no output)' : lines.map((l) => `  | ${l}`).join('\n');
  }
}
