/**
 * A real ebpf-loader daemon for tests and benchmarks that load programs through it
 * (`LoaderDataPlane`): apps/ebpf-loader/src/main.ts started by path as a child process (a library
 * never imports an app; apps talk to the loader over gRPC anyway), with its own pin root
 * (`/sys/fs/bpf/<prefix><pid>-…`), state folder and socket, its objects from bpf/build. `stop()`
 * unloads what the given owners loaded (forced: detached), ends the daemon and removes its pins
 * and files; pin roots of earlier runs with the same prefix whose process is gone are removed at
 * start. Root only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoaderClient, createRpcClient, loaderV1 } from '@netaccel/rpc';

/** The repository: this file is libs/dataplane/{src,dist}/testing/. */
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..');
const BPFFS = '/sys/fs/bpf';

export interface TestLoaderOptions {
  /** Prefix of the pin root and the temporary folder, the caller's own (default `natl-`). */
  readonly prefix?: string;
  /** Loader configuration fields set on top of the test's own (pin root, state, objects, socket, telemetry). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** ms the daemon may take to say it is ready (default 30 s). */
  readonly startTimeoutMs?: number;
}

/** Pin roots of earlier runs with `prefix` whose process is gone. */
function removeStalePins(prefix: string): void {
  for (const name of readdirSync(BPFFS)) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)-/.exec(name.slice(prefix.length))?.[1];
    if (pid === undefined || existsSync(`/proc/${pid}`)) continue;
    rmSync(join(BPFFS, name), { recursive: true, force: true });
  }
}

export class TestLoader {
  readonly dir: string;
  readonly socket: string;
  readonly pinRoot: string;
  #proc: ChildProcess | undefined;
  #log = '';

  private constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}loader-`));
    this.socket = join(this.dir, 'loader.sock');
    this.pinRoot = join(BPFFS, `${prefix}${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  }

  static async start(opts: TestLoaderOptions = {}): Promise<TestLoader> {
    const prefix = opts.prefix ?? 'natl-';
    removeStalePins(prefix);
    const l = new TestLoader(prefix);
    try {
      await l.#spawn(opts);
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

  async #spawn(opts: TestLoaderOptions): Promise<void> {
    const config = {
      pinRoot: this.pinRoot,
      stateDir: join(this.dir, 'state'),
      objectDir: join(ROOT, 'bpf', 'build'),
      rpc: { socket: this.socket },
      telemetry: { listen: '127.0.0.1:0' },
      stats: { runTime: false },
      ...opts.config,
    };
    writeFileSync(join(this.dir, 'loader.yaml'), JSON.stringify(config));
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'apps', 'ebpf-loader', 'src', 'main.ts'), '--config', join(this.dir, 'loader.yaml')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = p;
    const keep = (d: Buffer) => {
      this.#log = (this.#log + d.toString()).slice(-20_000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    const end = Date.now() + (opts.startTimeoutMs ?? 30_000);
    // ready: serving on its socket, and said so
    while (!(existsSync(this.socket) && this.#log.includes('"msg":"loader ready"'))) {
      if (Date.now() > end || p.exitCode !== null) throw new Error(`ebpf-loader did not start:\n${this.#log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Unloads the objects of `owners` (forced: detaches them): the next load starts from fresh maps. */
  async unload(owners: readonly string[]): Promise<void> {
    const c = createRpcClient(LoaderClient, { address: this.socket, deadlineMs: 10_000 });
    try {
      for (const owner of owners) {
        const objs = await c.listObjects(loaderV1.ListObjectsRequest.create({ owner }));
        for (const o of objs.objects) await c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId: o.id, force: true }));
      }
    } finally {
      c.close();
    }
  }

  /** Unloads the objects of `owners` (forced: detaches them), stops the daemon, removes pins and files. */
  async stop(owners: readonly string[] = []): Promise<void> {
    if (owners.length > 0 && this.#proc && this.#proc.exitCode === null && existsSync(this.socket)) {
      try {
        await this.unload(owners);
      } catch {
        // the pins are removed below anyway
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
