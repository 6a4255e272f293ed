/**
 * A real ebpf-loader daemon for the kernel path's tests with `kernel.via: loader`: started as a
 * child process (apps/ebpf-loader/src/main.ts by path: apps talk over gRPC, never by import) with
 * its own pin root (`/sys/fs/bpf/svl-<pid>-…`), state folder and socket, its objects from
 * bpf/build. `stop()` unloads what sidecar-offload loaded, ends the daemon and removes its pins
 * and files. Root only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoaderClient, createRpcClient, loaderV1 } from '@netaccel/rpc';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..');
const PIN_PREFIX = 'svl-';

/** Pin roots of earlier runs whose process is gone. */
function removeStalePins(): void {
  for (const name of readdirSync('/sys/fs/bpf')) {
    const pid = /^svl-(\d+)-/.exec(name)?.[1];
    if (pid === undefined || existsSync(`/proc/${pid}`)) continue;
    rmSync(join('/sys/fs/bpf', name), { recursive: true, force: true });
  }
}

export class SidecarTestLoader {
  readonly dir = mkdtempSync(join(tmpdir(), 'svl-loader-'));
  readonly socket = join(this.dir, 'loader.sock');
  readonly pinRoot = `/sys/fs/bpf/${PIN_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  #proc: ChildProcess | undefined;
  #log = '';

  static async start(): Promise<SidecarTestLoader> {
    removeStalePins();
    const l = new SidecarTestLoader();
    try {
      await l.#spawn();
    } catch (err) {
      await l.stop();
      throw err;
    }
    return l;
  }

  /** The daemon's last output (for a failure's message). */
  get log(): string {
    return this.#log;
  }

  async #spawn(): Promise<void> {
    const config = { pinRoot: this.pinRoot, stateDir: join(this.dir, 'state'), objectDir: join(ROOT, 'bpf', 'build'), rpc: { socket: this.socket }, telemetry: { listen: '127.0.0.1:0' } };
    writeFileSync(join(this.dir, 'loader.yaml'), JSON.stringify(config));
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'apps', 'ebpf-loader', 'src', 'main.ts'), '--config', join(this.dir, 'loader.yaml')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = p;
    const keep = (d: Buffer) => {
      this.#log = (this.#log + d.toString()).slice(-20_000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    const end = Date.now() + 30_000;
    while (!this.#log.includes('"msg":"loader ready"')) {
      if (Date.now() > end || p.exitCode !== null) throw new Error(`ebpf-loader did not start:\n${this.#log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Unloads sidecar-offload's objects (forced: detaches them), stops the daemon, removes pins and files. */
  async stop(): Promise<void> {
    if (this.#proc && this.#proc.exitCode === null && existsSync(this.socket)) {
      const c = createRpcClient(LoaderClient, { address: this.socket, deadlineMs: 10_000 });
      try {
        const objs = await c.listObjects(loaderV1.ListObjectsRequest.create({ owner: 'sidecar-offload' }));
        for (const o of objs.objects) await c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId: o.id, force: true }));
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
