/**
 * Real etcd (Debian's etcd-server) and Redis (redis-server) for tests and benchmarks, outside any
 * namespace: each on free 127.0.0.1 ports with its own temporary folder, its output kept (the
 * last 20,000 characters) for a failure's message. `stop()` kills the process and removes the
 * folder; a test registers it with `onTestFinished` / `afterAll` so nothing is left running.
 *
 *   const etcd = await TestEtcd.start();
 *   t.onTestFinished(() => etcd.stop());
 *   … new Etcd3({ hosts: etcd.clientUrl }) …
 *   await etcd.restart(500);            // down for 500 ms, same data and ports
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, waitFor } from './wait.js';

const LOG_KEEP = 20_000;
/** How much of a process's output a readiness timeout quotes. */
const LOG_QUOTE = 2_000;
const ETCD_READY_MS = 20_000;
const REDIS_READY_MS = 10_000;

/** A TCP port free on `host` now (the kernel's pick; free until someone else binds it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** One child process with its recent output; killed with SIGKILL (the data folder is thrown away or reused as is). */
class ServiceProcess {
  #proc: ChildProcess | undefined;
  #log = '';

  constructor(
    private readonly cmd: string,
    private readonly args: readonly string[],
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get log(): string {
    return this.#log;
  }

  start(): void {
    const p = spawn(this.cmd, this.args, { stdio: ['ignore', 'pipe', 'pipe'], env: this.env });
    this.#proc = p;
    const keep = (d: Buffer): void => {
      this.#log = (this.#log + d.toString()).slice(-LOG_KEEP);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    p.on('error', (err) => keep(Buffer.from(`spawn ${this.cmd}: ${err.message}\n`)));
  }

  /** Polls `probe` (a throw is "not yet") until it says yes; the timeout's error quotes the output. */
  async ready(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
    await waitFor(probe, { timeoutMs, what: () => `${what} (output: ${this.#log.slice(-LOG_QUOTE) || 'none'})` });
  }

  async kill(): Promise<void> {
    const p = this.#proc;
    this.#proc = undefined;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null || p.pid === undefined) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }
}

/** One etcd member on loopback; `restart()` keeps its data and ports. */
export class TestEtcd {
  readonly dir: string;
  readonly clientUrl: string;
  readonly #process: ServiceProcess;

  private constructor(clientPort: number, peerPort: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'netlab-etcd-'));
    this.clientUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    this.#process = new ServiceProcess('etcd', [
      '--name', 'test', '--data-dir', join(this.dir, 'data'),
      '--listen-client-urls', this.clientUrl, '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `test=${peerUrl}`, '--initial-cluster-state', 'new',
      '--log-level', 'warn', '--logger', 'zap',
    ], { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'arm64' ? 'arm64' : '' });
  }

  /** Starts etcd and waits until `/health` says so; on failure nothing is left behind. */
  static async start(): Promise<TestEtcd> {
    const e = new TestEtcd(await freePort(), await freePort());
    try {
      await e.#run();
    } catch (err) {
      await e.stop();
      throw err;
    }
    return e;
  }

  /** etcd's Prometheus endpoint. */
  get metricsUrl(): string {
    return `${this.clientUrl}/metrics`;
  }

  get log(): string {
    return this.#process.log;
  }

  async #run(): Promise<void> {
    this.#process.start();
    await this.#process.ready(`etcd at ${this.clientUrl} healthy`, ETCD_READY_MS, async () => {
      const r = await fetch(`${this.clientUrl}/health`);
      return r.ok && ((await r.json()) as { health?: string }).health === 'true';
    });
  }

  /** Kills etcd and starts it again on the same data and ports after `downMs`. */
  async restart(downMs = 0): Promise<void> {
    await this.#process.kill();
    if (downMs > 0) await sleep(downMs);
    await this.#run();
  }

  async stop(): Promise<void> {
    await this.#process.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One redis-server on loopback, no persistence, LFU eviction. */
export class TestRedis {
  readonly dir: string;
  readonly port: number;
  readonly #process: ServiceProcess;

  private constructor(port: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'netlab-redis-'));
    this.port = port;
    this.#process = new ServiceProcess('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lfu',
    ]);
  }

  /** Starts redis-server and waits until it answers PING; on failure nothing is left behind. */
  static async start(): Promise<TestRedis> {
    const r = new TestRedis(await freePort());
    try {
      r.#process.start();
      await r.#process.ready(`redis-server on 127.0.0.1:${r.port} answering PING`, REDIS_READY_MS, () => ping(r.port));
    } catch (err) {
      await r.stop();
      throw err;
    }
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.#process.log;
  }

  async stop(): Promise<void> {
    await this.#process.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether a Redis on 127.0.0.1:`port` answers PING within a second. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.setTimeout(1_000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}
