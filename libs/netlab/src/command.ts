/**
 * Runs one command to completion and collects its exit status and output — asynchronously for
 * normal use, synchronously for the teardown path of a signal or `exit` handler. A command that
 * outlives its timeout is killed with its whole process group.
 */
import { spawn, spawnSync } from 'node:child_process';
import { NA_ERR_NETLAB_SPAWN_FAILED } from './errors.js';

export interface RunOptions {
  readonly input?: string | Buffer;
  /** Kill the command (SIGKILL to its process group) after this long. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Output kept per stream; the rest is dropped. Default 16 MiB. */
  readonly maxOutputBytes?: number;
  /** Aborting kills the command (SIGKILL to its process group). */
  readonly signal?: AbortSignal;
}

export interface RunResult {
  /** Exit code, or null when a signal ended the command. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly durationMs: number;
}

const MAX_OUTPUT = 16 * 1024 * 1024;

/** How a command ended, for messages: `code 1`, `signal SIGKILL`. */
export function exitText(r: { code: number | null; signal: NodeJS.Signals | null }): string {
  return r.signal !== null ? `signal ${r.signal}` : `code ${r.code ?? '?'}`;
}

class Collector {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    if (this.size >= this.max) return;
    const part = chunk.subarray(0, this.max - this.size);
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Runs `cmd args…`; resolves with the result whatever the exit status; rejects only when it cannot start. */
export function runCommand(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      detached: true, // own process group, so a timeout kills what the command started too
    });
    const out = new Collector(opts.maxOutputBytes ?? MAX_OUTPUT);
    const err = new Collector(opts.maxOutputBytes ?? MAX_OUTPUT);
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid, 'SIGKILL');
      }, opts.timeoutMs);
    }
    const abort = (): void => {
      killGroup(child.pid, 'SIGKILL');
    };
    if (opts.signal?.aborted === true) abort();
    opts.signal?.addEventListener('abort', abort, { once: true });
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.once('error', (e) => {
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      reject(NA_ERR_NETLAB_SPAWN_FAILED.with({ cause: e }, [cmd, ...args].join(' '), e.message));
    });
    child.once('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      resolve({ code, signal, stdout: out.text(), stderr: err.text(), timedOut, durationMs: performance.now() - started });
    });
    if (opts.input !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => {}); // the command may exit without reading its input
      child.stdin.end(opts.input);
    }
  });
}

/** The same, blocking; for signal and exit handlers. Never throws: a start failure is code 127. */
export function runCommandSync(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const started = performance.now();
  const r = spawnSync(cmd, args, {
    input: opts.input,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    timeout: opts.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: opts.maxOutputBytes ?? MAX_OUTPUT,
    encoding: 'utf8',
  });
  const durationMs = performance.now() - started;
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') {
    return { code: 127, signal: null, stdout: r.stdout ?? '', stderr: r.error.message, timedOut: false, durationMs };
  }
  return {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    timedOut: r.error !== undefined,
    durationMs,
  };
}

/** Sends `signal` to the process group led by `pid`; false when it is gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
