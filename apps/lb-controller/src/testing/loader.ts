/**
 * The real ebpf-loader daemon (apps/ebpf-loader/src/main.ts) as a child process for tests and
 * benchmarks: its own pin root under /sys/fs/bpf, state folder and socket; `stop()` unloads what
 * `owner` loaded, ends the daemon and removes its pins and files. Root only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoaderClient, createRpcClient, loaderV1 } from '@netaccel/rpc';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..');

export class TestLoader {
  readonly dir = mkdtempSync(join(tmpdir(), 'lb-loader-'));
  readonly socket = join(this.dir, 'loader.sock');
  readonly pinRoot = `/sys/fs/bpf/netaccel-lbtest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  #proc: ChildProcess | undefined;
  #log = '';

  static async start(): Promise<TestLoader> {
    const l = new TestLoader();
    try {
      await l.#spawn();
    } catch (err) {
      await l.stop([]);
      throw err;
    }
    return l;
  }

  get log(): string {
    return this.#log;
  }

  async #spawn(): Promise<void> {
    const config = { pinRoot: this.pinRoot, stateDir: join(this.dir, 'state'), objectDir: join(ROOT, 'bpf', 'build'), rpc: { socket: this.socket }, telemetry: { listen: '127.0.0.1:0' }, stats: { runTime: false } };
    writeFileSync(join(this.dir, 'loader.yaml'), JSON.stringify(config));
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'apps', 'ebpf-loader', 'src', 'main.ts'), '--config', join(this.dir, 'loader.yaml')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = p;
    const keep = (d: Buffer) => {
      this.#log = (this.#log + d.toString()).slice(-20_000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    const end = Date.now() + 30_000;
    while (!existsSync(this.socket)) {
      if (Date.now() > end || p.exitCode !== null) throw new Error(`ebpf-loader did not start:\n${this.#log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Unloads the objects of `owners`, stops the daemon, removes pins and files. */
  async stop(owners: readonly string[]): Promise<void> {
    if (this.#proc && this.#proc.exitCode === null && existsSync(this.socket)) {
      const c = createRpcClient(LoaderClient, { address: this.socket, deadlineMs: 10_000 });
      try {
        for (const owner of owners) {
          const objs = await c.listObjects(loaderV1.ListObjectsRequest.create({ owner }));
          for (const o of objs.objects) await c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId: o.id, force: true }));
        }
      } catch {
        // the pins are removed below anyway
      } finally {
        c.close();
      }
    }
    const p = this.#proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => p.kill('SIGKILL'), 5000);
        p.once('exit', () => {
          clearTimeout(t);
          r();
        });
        p.kill('SIGTERM');
      });
    }
    rmSync(this.pinRoot, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
