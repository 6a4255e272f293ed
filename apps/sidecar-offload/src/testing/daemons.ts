/**
 * Real etcd (Debian's etcd-server) and Redis (redis-server) for tests: loopback only, free ports,
 * a temporary folder each, stopped and removed by `stop()`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket, createServer } from 'node:net';
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

export interface TestProcess {
  /** etcd: http://127.0.0.1:port; Redis: redis://127.0.0.1:port. */
  readonly url: string;
  /** host:port. */
  readonly address: string;
  log(): string;
  stop(): Promise<void>;
}

async function run(cmd: string, args: string[], dir: string, url: string, address: string, ready: () => Promise<boolean>): Promise<TestProcess> {
  let out = '';
  let proc: ChildProcess | undefined = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let exited = false;
  proc.once('exit', () => (exited = true));
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (p !== undefined && !exited) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 20_000;
  while (!(await ready().catch(() => false))) {
    if (exited || Date.now() > until) {
      await stop();
      throw new Error(`${cmd} did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, address, log: () => out, stop };
}

export async function startEtcd(): Promise<TestProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'nsc-etcd-'));
  const client = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  const args = [
    '--name', 'nsc', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `nsc=${peer}`, '--initial-cluster-state', 'new', '--log-level', 'warn', '--logger', 'zap',
  ]; // prettier-ignore
  return run('etcd', args, dir, client, client.slice('http://'.length), async () => {
    const r = await fetch(`${client}/health`);
    return r.ok && ((await r.json()) as { health?: string }).health === 'true';
  });
}

export async function startRedis(): Promise<TestProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'nsc-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const address = `127.0.0.1:${port}`;
  return run('redis-server', args, dir, `redis://${address}`, address, () =>
    new Promise((resolve) => {
      const c = new Socket();
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
      c.connect(port, '127.0.0.1');
    }),
  );
}
