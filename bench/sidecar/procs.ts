/**
 * The processes of the sidecar benchmark, each on loopback with free ports and a temporary
 * folder: the echo upstream, NGINX (Debian's, `grpc_pass` to the upstream, one worker like our
 * single-threaded proxy, upstream keepalive, no limit of calls per connection) and sidecar-offload (its built daemon, access log
 * on as in production, output discarded).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@netaccel/netlab';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

export interface Proc {
  readonly port: number;
  readonly pid?: number;
  /** The daemon's Prometheus text (sidecar-offload only). */
  metrics?(): Promise<string>;
  stop(): Promise<void>;
}

function ownCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the fields after the command (which may hold spaces) in parentheses: state is field 3, utime 14, stime 15
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * CPU time (user + system, s) a process and its live children (NGINX's worker) used so far, from
 * /proc/<pid>/stat (clock ticks of 1/100 s) and /proc/<pid>/task/<pid>/children.
 */
export function cpuSeconds(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter((c) => c !== '');
  return children.reduce((a, c) => a + ownCpu(Number(c)), ownCpu(pid));
}

export async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

async function waitPort(port: number, what: string, log: () => string): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`${what} did not listen on ${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startEcho(): Promise<Proc> {
  const p = spawn(process.execPath, ['--import', 'tsx', join(here, 'echo-server.ts')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n')) resolve((JSON.parse(line!) as { port: number }).port);
    });
    p.once('exit', (code) => reject(new Error(`echo server exited (${code})`)));
  });
  return { port, pid: p.pid, stop: () => stopProc(p) };
}

export async function startNginx(upstreamPort: number): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'nsc-bench-nginx-'));
  const port = await freePort();
  const conf = `
worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  http2_max_concurrent_streams 1000;
  # not the default 1000 calls per connection (then GOAWAY): the load clients keep one connection
  keepalive_requests 100000000;
  upstream echo { server 127.0.0.1:${upstreamPort}; keepalive 64; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:${port} http2;
    location / { grpc_pass grpc://echo; }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  let log = '';
  const p = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  try {
    await waitPort(port, 'nginx', () => log);
  } catch (err) {
    await stopProc(p);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    pid: p.pid,
    stop: async () => {
      await stopProc(p);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `kernel`: the daemon's kernel path on (direct, sockops on that cgroup), splicing the listener's
 * connections; `object` another sidecar.bpf.o than the built one (empty: the built one).
 */
export async function startSidecar(upstreamPort: number, kernel?: { cgroup: string; object?: string }): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'nsc-bench-sidecar-'));
  const port = await freePort();
  const telemetry = await freePort();
  writeFileSync(
    join(dir, 'sidecar.yaml'),
    `
logLevel: info
sidecar:
  listeners:
    - { name: bench, direction: outbound, listen: '127.0.0.1:${port}', routes: [{ prefix: /, cluster: echo }] }
  clusters:
    - { name: echo, endpoints: ['127.0.0.1:${upstreamPort}'] }
  accessLog: true
telemetry: { listen: '127.0.0.1:${telemetry}' }
grpc: { socket: ${join(dir, 'sidecar.sock')} }
${kernel === undefined ? '' : `kernel: { enabled: true, via: direct, cgroup: '${kernel.cgroup}', object: '${kernel.object ?? ''}' }`}
`,
  );
  let log = '';
  // SIDECAR_BENCH_DAEMON_NODE_ARGS: extra node options for the daemons (e.g. --cpu-prof --cpu-prof-dir=<dir> to profile them)
  const nodeArgs = (process.env.SIDECAR_BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const p = spawn(process.execPath, [...nodeArgs, join(root, 'apps', 'sidecar-offload', 'dist', 'main.js'), '--config', join(dir, 'sidecar.yaml')], { cwd: root, stdio: ['ignore', kernel === undefined ? 'ignore' : 'pipe', 'pipe'] });
  p.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-5000)));
  p.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-5000)));
  try {
    await waitPort(port, 'sidecar-offload', () => log);
    if (kernel !== undefined && !log.includes('kernel path loaded')) {
      // the line comes with the listener's; give the daemon a moment, then insist
      await new Promise((r) => setTimeout(r, 500));
      if (!log.includes('kernel path loaded')) throw new Error(`sidecar-offload did not load its kernel path: ${log}`);
    }
  } catch (err) {
    await stopProc(p);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    pid: p.pid,
    metrics: async () => (await fetch(`http://127.0.0.1:${telemetry}/metrics`)).text(),
    stop: async () => {
      await stopProc(p);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
