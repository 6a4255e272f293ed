/**
 * What the ebpf-loader end-to-end tests share: a home per test file (temporary object and state
 * directories, sockets, and a pin root of its own under /sys/fs/bpf, so tests never meet a real
 * loader or each other), the objects compiled into it, the daemon run as a real process inside a
 * netlab node (with the host's bpffs), a client, and UDP traffic scripts that count what they
 * sent and what arrived. `removeHome` deletes pins and folders; the lab deletes namespaces and
 * stops processes, also when a test fails.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { LoaderClient, createRpcClient, loaderV1 } from '@netaccel/rpc';
import type { LoaderService, RpcClient } from '@netaccel/rpc';

export const REPO = fileURLToPath(new URL('../../../..', import.meta.url));
export const MAIN = join(REPO, 'apps/ebpf-loader/src/main.ts');
export const SELFTEST = join(REPO, 'bpf/build/selftest/selftest.bpf.o');
const FIXTURE = join(REPO, 'test/loader/fixtures/loader-fixture.bpf.c');
const REJECT = join(REPO, 'libs/bpf/fixtures/verifier-reject.bpf.c');

export type Loader = RpcClient<typeof LoaderService>;

export interface LoaderHome {
  readonly root: string;
  readonly objectDir: string;
  readonly stateDir: string;
  readonly pinRoot: string;
  readonly socket: string;
  readonly telemetrySocket: string;
  readonly config: string;
  readonly stateFile: string;
}

/** Compiles the fixtures into `dir` and copies the selftest: selftest, loader-fixture, verifier-reject. */
export function compileObjects(dir: string): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync(SELFTEST, join(dir, 'selftest.bpf.o'));
  execFileSync('clang', [
    '-target', 'bpf', '-mcpu=v3', '-O2', '-g', '-Wall', '-Wextra', '-Werror', '-D__TARGET_ARCH_x86',
    '-I', join(REPO, 'bpf/include'), '-isystem', join(REPO, 'bpf/build'), '-c', FIXTURE, '-o', join(dir, 'loader-fixture.bpf.o'),
  ]);
  execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-Wall', '-Werror', '-c', REJECT, '-o', join(dir, 'verifier-reject.bpf.o')]);
}

/**
 * A home for one test file: `tag` keeps pin roots apart (`/sys/fs/bpf/netaccel-test-<pid>-<tag>`);
 * `rpcTransport` picks the gRPC server (default: the loader's, `http2`), or the environment's
 * NETACCEL_TEST_LOADER_RPC_TRANSPORT (the tests run again against grpc-js's server with it).
 */
export function makeHome(tag: string, opts: { socketGroup?: string; rpcTransport?: 'http2' | 'grpc-js' } = {}): LoaderHome {
  const transport = opts.rpcTransport ?? process.env.NETACCEL_TEST_LOADER_RPC_TRANSPORT;
  const root = mkdtempSync(join(tmpdir(), `netaccel-loader-${tag}-`));
  const home: LoaderHome = {
    root,
    objectDir: join(root, 'objects'),
    stateDir: join(root, 'state'),
    pinRoot: `/sys/fs/bpf/netaccel-test-${process.pid}-${tag}`,
    socket: join(root, 'loader.sock'),
    telemetrySocket: join(root, 'telemetry.sock'),
    config: join(root, 'loader.yaml'),
    stateFile: join(root, 'state', 'state.json'),
  };
  compileObjects(home.objectDir);
  writeFileSync(home.config, [
    'logLevel: info',
    `objectDir: ${home.objectDir}`,
    `pinRoot: ${home.pinRoot}`,
    `stateDir: ${home.stateDir}`,
    'rpc:',
    `  socket: ${home.socket}`,
    '  shutdownTimeout: 2s',
    ...(transport !== undefined ? [`  transport: ${transport}`] : []),
    ...(opts.socketGroup ? [`  socketGroup: ${opts.socketGroup}`] : []),
    'telemetry:',
    `  socket: ${home.telemetrySocket}`,
    '',
  ].join('\n'));
  return home;
}

export function removeHome(home: LoaderHome | undefined): void {
  if (!home) return;
  rmSync(home.pinRoot, { recursive: true, force: true });
  rmSync(home.root, { recursive: true, force: true });
}

/** Every path under the pin root (sorted), to compare before and after a failed request. */
export function pinTree(home: LoaderHome): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const p = join(dir, n);
      out.push(p);
      walk(p);
    }
  };
  walk(home.pinRoot);
  return out;
}

export function stateText(home: LoaderHome): string {
  try {
    return readFileSync(home.stateFile, 'utf8');
  } catch {
    return '';
  }
}

/** Starts the daemon in `node` of `lab` (host bpffs); resolves once it logged `loader ready`. */
export async function startLoader(lab: Lab, node: string, home: LoaderHome, name = 'loader'): Promise<LabProcess> {
  return lab.spawn(node, [process.execPath, '--import', 'tsx', MAIN, '--config', home.config], {
    name,
    sysfs: 'host',
    cwd: REPO,
    ready: { log: /"msg":"loader ready"/ },
    timeoutMs: 30_000,
  });
}

export function connect(home: LoaderHome): Loader {
  return createRpcClient(LoaderClient, { address: home.socket, deadlineMs: 10_000 });
}

/** Metadata naming the caller, as the CLI sends it. */
export const AS_TEST = Object.freeze({ 'x-netaccel-user': 'loader-test(uid 0)' });

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** Sum of `packets` (first u64) over the per-CPU values of a selftest_counter entry. */
export function perCpuPackets(entry: loaderV1.MapEntry | undefined): bigint {
  return (entry?.perCpuValues ?? []).reduce((s, v) => s + v.readBigUInt64LE(0), 0n);
}

/** Loads `path` with globals and answers the object. */
export async function load(c: Loader, path: string, globals: Record<string, Buffer> = {}): Promise<loaderV1.ObjectInfo> {
  const r = await c.loadObject(loaderV1.LoadObjectRequest.create({ path, owner: 'loader-test', globals }), { metadata: AS_TEST });
  return r.object!;
}

export function ifacePoint(mode: loaderV1.AttachMode, name: string, priority = 0): loaderV1.AttachPoint {
  return loaderV1.AttachPoint.create({ mode, target: { $case: 'iface', value: loaderV1.Interface.create({ name }) }, priority });
}

/** The JSON log lines of a process's current run. */
export function logLines(proc: LabProcess): Record<string, unknown>[] {
  return proc.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * The JSON log lines of a process's current run once `ready(lines)` holds (polled every 20 ms, at
 * most `ms`). The loader writes an audit line after the answer it records (audit.ts: at the end of
 * that event-loop turn), so a test that reads the trail right after a call waits for it here.
 */
export async function logLinesWhen(proc: LabProcess, ready: (lines: Record<string, unknown>[]) => boolean, what: string, ms = 5000): Promise<Record<string, unknown>[]> {
  const until = Date.now() + ms;
  for (;;) {
    const lines = logLines(proc);
    if (ready(lines)) return lines;
    if (Date.now() > until) throw new Error(`log of ${proc.name}: ${what} not seen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A UDP sink: counts distinct sequence numbers arriving on `passPort` and datagrams on `dropPort`;
 * on SIGTERM prints `{"pass":…,"drop":…}` and exits.
 */
export function sinkScript(passPort: number, dropPort: number): string {
  return `
const dgram = require('node:dgram');
const seen = new Set(); let drop = 0; let dup = 0;
const a = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
a.on('message', (m) => { const s = m.readUInt32BE(0); if (seen.has(s)) dup++; else seen.add(s); });
a.bind(${passPort}, '0.0.0.0');
const b = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
b.on('message', () => { drop++; });
b.bind(${dropPort}, '0.0.0.0');
process.on('SIGTERM', () => { console.log(JSON.stringify({ pass: seen.size, dup, drop })); process.exit(0); });
`;
}

/**
 * A steady UDP stream: every `intervalMs`, one datagram (with a sequence number) to `passPort`
 * and one to `dropPort` of `dst`; prints `sending` when started and, on SIGTERM, what was sent.
 */
export function senderScript(dst: string, passPort: number, dropPort: number, intervalMs = 1): string {
  return `
const s = require('node:dgram').createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
let seq = 0, sentPass = 0, sentDrop = 0, errors = 0;
const timer = setInterval(() => {
  const b = Buffer.alloc(16); b.writeUInt32BE(seq++, 0);
  s.send(b, ${passPort}, ${JSON.stringify(dst)}, (e) => { if (e) errors++; else sentPass++; });
  s.send(b, ${dropPort}, ${JSON.stringify(dst)}, (e) => { if (e) errors++; else sentDrop++; });
}, ${intervalMs});
process.on('SIGTERM', () => { clearInterval(timer); setTimeout(() => { console.log(JSON.stringify({ sentPass, sentDrop, errors })); process.exit(0); }, 200); });
console.log('sending');
`;
}

/** The last JSON line a stopped helper printed. */
export function lastJson<T>(proc: LabProcess): T {
  const line = proc.output().trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (!line) throw new Error(`${proc.name} printed no JSON; output: ${proc.output().slice(-500)}`);
  return JSON.parse(line) as T;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** GET `path` from the loader's telemetry server on its Unix socket: status code and body. */
export function telemetryGet(home: LoaderHome, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: home.telemetrySocket, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one Prometheus sample (`name{labels}`), or undefined. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Sends `count` datagrams (sequence numbered) to each of `ports` of `dst` and exits when all went out. */
export function burstScript(dst: string, ports: readonly number[], count: number): string {
  return `
const s = require('node:dgram').createSocket('udp4'); let n = 0;
for (let i = 0; i < ${count}; i++) for (const p of ${JSON.stringify(ports)}) {
  const b = Buffer.alloc(16); b.writeUInt32BE(i, 0);
  s.send(b, p, ${JSON.stringify(dst)}, (e) => { if (e) { console.error(e.message); process.exit(1); } if (++n === ${count * ports.length}) s.close(); });
}
`;
}
