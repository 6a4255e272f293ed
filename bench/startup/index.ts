/**
 * Start-up benchmark: each balancer daemon's start → ready, the goal being 0.5 s (issue 12: a
 * restarted balancer back in the router's ECMP set within 2 s), with two daemons of the same trade
 * started the same way in the same rounds as anchors: BIRD 2 and gobgpd.
 *
 * Each round starts, in turn: BIRD (ready: its control socket exists), gobgpd (ready: its gRPC API
 * accepts a connection), ebpf-loader (ready: its `ebpf-loader running` line, the moment it says
 * READY=1 to systemd), bgp-announcer and lb-controller (the same, through the running loader: it
 * loads xlb.bpf.o, programs two VIPs of four backends and serves). Each is stopped (SIGTERM) once
 * ready, except the loader, which the controller needs; it is stopped at the round's end. The
 * loader's pins and the controller's adoption record stay from round to round, so rounds after
 * the first are restarts that adopt what is pinned, as a balancer's restart does (the first round,
 * a cold start that loads and verifies the object, is one sample of the median like the others).
 * The daemons run from their built dist/main.js (one bundled file each: libs/daemon/bundle.mjs).
 *
 * Run: node --import tsx bench/run.ts startup (root: the loader loads BPF). STARTUP_ROUNDS (default 7);
 * STARTUP_OBJECT_DIR: the loader's object folder (default the checkout's bpf/build).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark, BenchContext } from '../lib/harness.js';
import { stats } from '../lib/harness.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const PIN_ROOT = '/sys/fs/bpf/netaccel-bench-startup';
const GOAL_MS = 500;
const GOAL = `ready within ${GOAL_MS} ms (goal, stated)`;
const DAEMONS = ['ebpf-loader', 'bgp-announcer', 'lb-controller'] as const;
type Daemon = (typeof DAEMONS)[number];
const ANCHORS = ['bird', 'gobgpd'] as const;
const GOBGP_API_PORT = 50_951;
const TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Started {
  readonly proc: ChildProcess;
  readonly ms: number;
  output(): string;
}

/** Spawns `argv` and waits until `ready(output)` holds; answers the time from spawn to ready. */
async function startUntil(argv: readonly string[], ready: (out: string) => boolean | Promise<boolean>, what: string): Promise<Started> {
  let out = '';
  const t0 = performance.now();
  const proc = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-50_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  for (;;) {
    if (await ready(out)) return { proc, ms: performance.now() - t0, output: () => out };
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${what} exited before it was ready:\n${out.slice(-2000)}`);
    if (performance.now() - t0 > TIMEOUT_MS) {
      proc.kill('SIGKILL');
      throw new Error(`${what} not ready after ${TIMEOUT_MS} ms:\n${out.slice(-2000)}`);
    }
    await sleep(2);
  }
}

async function stop(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((r) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('exit', () => {
      clearTimeout(t);
      r();
    });
    p.kill('SIGTERM');
  });
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((r) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      r(true);
    });
    s.once('error', () => r(false));
  });

/** The configuration files of one run, in a temporary folder. */
function files(dir: string): Record<Daemon | 'bird' | 'gobgpd' | 'services', string> & { sockets: Record<Daemon, string>; birdCtl: string } {
  const sockets = { 'ebpf-loader': join(dir, 'loader.sock'), 'bgp-announcer': join(dir, 'announcer.sock'), 'lb-controller': join(dir, 'controller.sock') };
  const f = {
    'ebpf-loader': join(dir, 'ebpf-loader.yaml'),
    'bgp-announcer': join(dir, 'bgp-announcer.yaml'),
    'lb-controller': join(dir, 'lb-controller.yaml'),
    services: join(dir, 'services.yaml'),
    bird: join(dir, 'bird.conf'),
    gobgpd: join(dir, 'gobgpd.toml'),
    birdCtl: join(dir, 'bird.ctl'),
    sockets,
  };
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  writeFileSync(f['ebpf-loader'], json({ logLevel: 'info', objectDir: process.env.STARTUP_OBJECT_DIR || join(ROOT, 'bpf', 'build'), pinRoot: PIN_ROOT, stateDir: join(dir, 'loader-state'), rpc: { socket: sockets['ebpf-loader'] }, telemetry: { listen: '127.0.0.1:0' }, stats: { runTime: false } }));
  // one configured peer (nobody listens there: the session's state does not gate readiness)
  const peers = [{ address: '127.0.0.2', remoteAs: 65000, localAddress: '127.0.0.1' }];
  writeFileSync(f['bgp-announcer'], json({ logLevel: 'info', bgp: { localAs: 65001, routerId: '10.255.0.2', listen: [], connectRetry: '1s', peers, announce: [] }, grpc: { socket: sockets['bgp-announcer'] }, telemetry: { listen: '127.0.0.1:0' } }));
  writeFileSync(
    f['lb-controller'],
    json({
      logLevel: 'info',
      dataPlane: { via: 'loader', loaderSocket: sockets['ebpf-loader'], object: 'xlb/xlb.bpf.o', localMac: '02:00:00:00:01:00', adoptionFile: join(dir, 'lb-controller.adoption.json') },
      source: { kind: 'file', file: f.services },
      announcer: { enabled: false, socket: sockets['bgp-announcer'], nextHop: '' },
      grpc: { socket: sockets['lb-controller'] },
      telemetry: { listen: '127.0.0.1:0' },
    }),
  );
  const svc = (vip: string, first: number) => `  - { vip: ${vip}, port: 80, mode: l2dsr, healthCheck: { type: none }, backends: [${[0, 1, 2, 3].map((j) => `{ address: 10.1.0.${first + j}, mac: "02:00:00:00:10:${(first + j).toString(16).padStart(2, '0')}" }`).join(', ')}] }`;
  writeFileSync(f.services, `services:\n${svc('10.0.0.1', 1)}\n${svc('10.0.0.2', 11)}\n`);
  writeFileSync(f.bird, `log stderr all;\nrouter id 10.255.0.3;\nprotocol device { scan time 10; }\nprotocol bgp up { local 127.0.0.1 as 65001; neighbor 127.0.0.2 as 65000; ipv4 { import none; export none; }; }\n`);
  writeFileSync(f.gobgpd, `[global.config]\n  as = 65001\n  router-id = "10.255.0.4"\n  port = -1\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "127.0.0.2"\n    peer-as = 65000\n`);
  return f;
}

const running = (name: Daemon) => (out: string) => out.includes(`"msg":"${name} running"`);
const mainOf = (name: Daemon) => join(ROOT, 'apps', name, 'dist', 'main.js');

async function measure(ctx: BenchContext, rounds: number): Promise<void> {
  for (const d of DAEMONS) if (!existsSync(mainOf(d))) throw new Error(`${mainOf(d)} is missing: build the apps first (npm run build -w @netaccel/app-${d})`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
  const f = files(dir);
  const samples = new Map<string, number[]>([...DAEMONS, ...ANCHORS].map((n) => [n, []]));
  let loader: Started | undefined;
  try {
    for (let round = 0; round < rounds; round++) {
      rmSync(f.birdCtl, { force: true });
      const bird = await startUntil(['bird', '-f', '-c', f.bird, '-s', f.birdCtl], () => existsSync(f.birdCtl), 'bird');
      samples.get('bird')!.push(bird.ms);
      await stop(bird.proc);
      const gobgpd = await startUntil(['gobgpd', '-f', f.gobgpd, '--api-hosts', `127.0.0.1:${GOBGP_API_PORT}`, '--pprof-disable', '-l', 'warn'], () => accepts(GOBGP_API_PORT), 'gobgpd');
      samples.get('gobgpd')!.push(gobgpd.ms);
      await stop(gobgpd.proc);
      for (const d of DAEMONS) {
        const s = await startUntil([process.execPath, mainOf(d), '--config', f[d]], running(d), d);
        samples.get(d)!.push(s.ms);
        if (d === 'ebpf-loader') loader = s;
        else await stop(s.proc);
      }
      await stop(loader?.proc);
      loader = undefined;
    }
  } finally {
    await stop(loader?.proc);
    rmSync(PIN_ROOT, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [subject, xs] of samples) {
    const s = stats(xs);
    ctx.figure(subject, 'start_to_ready_median', s.median, 'ms');
    ctx.figure(subject, 'start_to_ready_max', s.max, 'ms');
  }
  ctx.figure(GOAL, 'start_to_ready_median', GOAL_MS, 'ms');
  for (const d of DAEMONS) {
    ctx.compare('start_to_ready_median', d, GOAL, '<= 1');
    ctx.compare('start_to_ready_median', d, 'gobgpd', '<= 2');
    ctx.compare('start_to_ready_median', d, 'bird', '<= 20');
  }
}

const bench: Benchmark = {
  name: 'startup',
  description: "each balancer daemon's start -> ready (ebpf-loader, bgp-announcer, lb-controller restarting against pinned maps) against BIRD's and gobgpd's, interleaved rounds",
  needsRoot: true,
  async run(ctx) {
    const raw = process.env.STARTUP_ROUNDS;
    const rounds = raw === undefined || raw === '' ? 7 : Number(raw);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) throw new Error(`STARTUP_ROUNDS: expected an integer 1..100, got ${JSON.stringify(raw)}`);
    await measure(ctx, rounds);
  },
};

export default bench;
