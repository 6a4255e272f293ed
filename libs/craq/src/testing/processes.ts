/**
 * Real etcd (Debian's etcd-server) and Redis (redis-server) for tests, each on free loopback
 * ports with its own temporary folder; `stop()` kills the process and removes the folder. Tests
 * register `stop()` with `onTestFinished` / `afterAll` so nothing is left running.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A TCP port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not up within ${timeoutMs} ms: ${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

class Child {
  #proc: ChildProcess | undefined;
  #log = '';

  get log(): string {
    return this.#log;
  }

  start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.#proc = p;
    const keep = (d: Buffer): void => {
      this.#log = (this.#log + d.toString()).slice(-20_000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    p.on('error', (err) => keep(Buffer.from(`spawn ${cmd}: ${err.message}\n`)));
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

/** One etcd member on loopback. */
export class TestEtcd {
  readonly dir: string;
  readonly clientUrl: string;
  readonly #peerUrl: string;
  readonly #child = new Child();

  private constructor(clientPort: number, peerPort: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'ncc-etcd-'));
    this.clientUrl = `http://127.0.0.1:${clientPort}`;
    this.#peerUrl = `http://127.0.0.1:${peerPort}`;
  }

  static async start(): Promise<TestEtcd> {
    const e = new TestEtcd(await freePort(), await freePort());
    try {
      e.#child.start('etcd', [
        '--name', 'ncc', '--data-dir', join(e.dir, 'data'),
        '--listen-client-urls', e.clientUrl, '--advertise-client-urls', e.clientUrl,
        '--listen-peer-urls', e.#peerUrl, '--initial-advertise-peer-urls', e.#peerUrl,
        '--initial-cluster', `ncc=${e.#peerUrl}`, '--initial-cluster-state', 'new',
        '--log-level', 'warn', '--logger', 'zap',
      ], { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'arm64' ? 'arm64' : '' });
      await until('etcd', 20_000, async () => {
        const r = await fetch(`${e.clientUrl}/health`);
        return r.ok && ((await r.json()) as { health?: string }).health === 'true';
      }, () => e.#child.log);
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
    return this.#child.log;
  }

  async stop(): Promise<void> {
    await this.#child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One redis-server on loopback, no persistence. */
export class TestRedis {
  readonly dir: string;
  readonly port: number;
  readonly #child = new Child();

  private constructor(port: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'ncc-redis-'));
    this.port = port;
  }

  static async start(): Promise<TestRedis> {
    const r = new TestRedis(await freePort());
    try {
      r.#child.start('redis-server', ['--port', String(r.port), '--bind', '127.0.0.1', '--dir', r.dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lfu']);
      await until('redis-server', 10_000, () => ping(r.port), () => r.#child.log);
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
    return this.#child.log;
  }

  async stop(): Promise<void> {
    await this.#child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}
