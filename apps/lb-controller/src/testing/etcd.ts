/**
 * A real etcd (Debian's etcd-server) for tests: loopback only, a temporary data folder, free
 * ports; `restart()` keeps data and ports; `stop()` ends it and removes the folder.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

async function healthy(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok && ((await r.json()) as { health?: string }).health === 'true') return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`etcd at ${url} not healthy within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class TestEtcd {
  readonly dir: string;
  readonly clientUrl: string;
  readonly #peerUrl: string;
  #proc: ChildProcess | undefined;
  #log = '';

  private constructor(clientPort: number, peerPort: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'lb-etcd-'));
    this.clientUrl = `http://127.0.0.1:${clientPort}`;
    this.#peerUrl = `http://127.0.0.1:${peerPort}`;
  }

  static async start(): Promise<TestEtcd> {
    const e = new TestEtcd(await freePort(), await freePort());
    try {
      await e.#spawn();
    } catch (err) {
      await e.stop();
      throw err;
    }
    return e;
  }

  get log(): string {
    return this.#log;
  }

  async #spawn(): Promise<void> {
    const args = [
      '--name', 'test', '--data-dir', join(this.dir, 'data'),
      '--listen-client-urls', this.clientUrl, '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', this.#peerUrl, '--initial-advertise-peer-urls', this.#peerUrl,
      '--initial-cluster', `test=${this.#peerUrl}`, '--initial-cluster-state', 'new',
      '--log-level', 'warn', '--logger', 'zap',
    ];
    const p = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'arm64' ? 'arm64' : '' } });
    this.#proc = p;
    const keep = (d: Buffer) => {
      this.#log = (this.#log + d.toString()).slice(-20_000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    await healthy(this.clientUrl, 15_000);
  }

  async #kill(): Promise<void> {
    const p = this.#proc;
    this.#proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  /** Kills etcd and starts it again on the same data and ports after `downMs`. */
  async restart(downMs = 0): Promise<void> {
    await this.#kill();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.#spawn();
  }

  async stop(): Promise<void> {
    await this.#kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
