// craq-scheduler with membership.via: paxos as PROCESSES (testing/scheduler-runner.ts, every
// timer on): three schedulers, a real etcd, one chain of three user-space REFERENCE nodes served
// to them from this process (testing/remote-nodes.ts; NOT the XDP node). The active scheduler's
// replica is cut off by a real partition — an nft table (`pxl_<pid>`) dropping the UDP of its
// replica's port on loopback, both ways, while its process still reaches etcd and the nodes —
// and must stop acting before another takes over; then the new active scheduler is killed with
// SIGKILL and the third (or the healed one) takes over. Keys stay placed, writes through the
// chain go on and reach etcd, and the runners' own reports show no two schedulers active at once.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';
import { Etcd3 } from 'etcd3';
import { CraqClient, PlacementView, grpcPlacementSource, placedMarkerKey } from '@netaccel/craq';
import { ReferenceNode, TestEtcd } from '@netaccel/craq/testing';
import { CraqClient as CraqRpcClient, craqV1, createRpcClient } from '@netaccel/rpc';
import { freeUdpPorts, until } from './testing/paxos-group.js';
import { serveNodes } from './testing/remote-nodes.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
const TABLE = `pxl_${process.pid}`;

/** nft tables of earlier runs of this test whose process is gone. */
function cleanStaleTables(): void {
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  for (const m of tables.matchAll(/^table inet (pxl_(\d+))$/gm)) {
    let alive = true;
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      alive = false;
    }
    if (!alive || Number(m[2]) === process.pid) execFileSync('nft', ['delete', 'table', 'inet', m[1]!]);
  }
}

/** Drops every UDP datagram from or to `port` on this host (both directions of one replica). */
function partition(port: number): void {
  const rules = `table inet ${TABLE} {\n chain out { type filter hook output priority 0; policy accept; udp sport ${port} drop; udp dport ${port} drop; }\n}\n`;
  execFileSync('nft', ['-f', '-'], { input: rules });
}

function heal(): void {
  try {
    execFileSync('nft', ['delete', 'table', 'inet', TABLE], { stdio: 'ignore' });
  } catch {
    // not there
  }
}

interface Line {
  readonly at: number;
  readonly ready?: boolean;
  readonly active?: boolean;
  readonly since?: number;
  readonly view?: number;
  readonly placed?: number;
  readonly epoch?: string;
}

class Runner {
  readonly lines: Line[] = [];
  stderr = '';
  exitedAt: number | undefined;
  readonly child: ChildProcess;

  constructor(readonly index: number, readonly socket: string, config: string, nodes: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'testing', 'scheduler-runner.ts'), config, nodes], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (l.startsWith('{')) this.lines.push(JSON.parse(l) as Line);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      this.stderr = (this.stderr + c).slice(-20000);
    });
    this.child.on('exit', () => {
      this.exitedAt = Date.now();
    });
  }

  get ready(): boolean {
    return this.lines.some((l) => l.ready === true);
  }

  get active(): boolean {
    return this.exitedAt === undefined && this.lines.filter((l) => l.active !== undefined).at(-1)?.active === true;
  }

  /** Its active periods: from after `since` of the line that saw it active to `at` of the one that saw it stop (or its exit). */
  periods(now: number): [number, number][] {
    const out: [number, number][] = [];
    let start: number | undefined;
    for (const l of this.lines) {
      if (l.active === true) start = l.since!;
      else if (l.active === false && start !== undefined) {
        out.push([start, l.at]);
        start = undefined;
      }
    }
    if (start !== undefined) out.push([start, this.exitedAt ?? now]);
    return out;
  }

  async stop(): Promise<void> {
    if (this.exitedAt !== undefined) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

test('scheduler processes: the partitioned active one stops before another acts, kill -9 of the next, the chain goes on; never two active', async (t) => {
  cleanStaleTables();
  const dir = mkdtempSync(join(tmpdir(), 'pxl-'));
  const etcd = await TestEtcd.start();
  const real = new Etcd3({ hosts: etcd.clientUrl });
  const nodes: ReferenceNode[] = [];
  const runners: Runner[] = [];
  const clients: CraqClient[] = [];
  const served: { server?: Awaited<ReturnType<typeof serveNodes>> } = {};
  t.onTestFinished(async () => {
    heal();
    for (const c of clients) {
      await c.close().catch(() => undefined);
      c.view.close();
    }
    await Promise.all(runners.map((r) => r.stop()));
    await new Promise<void>((r) => (served.server === undefined ? r() : served.server.close(() => r())));
    for (const n of nodes) await n.close();
    real.close();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const name of ['n1', 'n2', 'n3']) nodes.push(await ReferenceNode.start({ name }));
  const nodesSocket = join(dir, 'nodes.sock');
  served.server = await serveNodes(nodes, nodesSocket);
  await real.put('/pxl/a').value('a0');
  await real.put('/pxl/b').value('b0');
  const ports = await freeUdpPorts(3);
  const replicas = ports.map((p) => `{ address: 127.0.0.1, port: ${p} }`).join(', ');
  for (let i = 0; i < 3; i++) {
    const socket = join(dir, `s${i}.sock`);
    const yaml = [
      'logLevel: info',
      `etcd: { endpoints: ['${etcd.clientUrl}'], metricsUrl: '', prefixes: ['/pxl/'] }`,
      "redis: { url: '' }",
      'chain:',
      // the nodes live in this (busy) process: a detector that tolerates a stall of about 1 s
      '  probeInterval: 200ms',
      '  probeTimeout: 150ms',
      '  probeMultiplier: 5',
      '  nodes:',
      ...nodes.map((n) => `    - { name: ${n.name}, address: ${n.endpoint.address}, port: ${n.endpoint.port} }`),
      `membership: { via: paxos, paxos: { self: ${i}, replicas: [${replicas}], key: /pxl/chain, heartbeat: 20ms, viewChangeTimeout: 500ms, timeout: 2s, lease: 600ms, clockDrift: 0.1 } }`,
      'dataPlane: { via: reference }',
      "telemetry: { listen: '127.0.0.1:0' }",
      `grpc: { socket: ${socket} }`,
    ].join('\n');
    const file = join(dir, `s${i}.yaml`);
    writeFileSync(file, yaml);
    runners.push(new Runner(i, socket, file, nodesSocket));
  }
  const why = (): string => runners.map((r) => `runner ${r.index}: ${JSON.stringify(r.lines.slice(-3))} ${r.stderr.slice(-3000)}`).join('\n');
  const actives = (): Runner[] => runners.filter((r) => r.active);
  await until(`three runners started and one active\n${why()}`, () => runners.every((r) => r.ready) && actives().length === 1, 60_000);

  const clientOf = async (r: Runner): Promise<CraqClient> => {
    const c = new CraqClient({ view: new PlacementView(grpcPlacementSource({ address: `unix://${r.socket}` })), etcd: real, timeoutMs: 200, attempts: 12, backoffMs: 20, readFrom: 'round-robin' });
    clients.push(c);
    await c.view.refresh();
    return c;
  };
  /** Pins at the active scheduler; a pin in flight when a loaded machine's stall let the lease lapse fails (NA_ERR_CRAQD_NOT_ACTIVE) and is asked again. */
  const pin = async (key: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const r = actives()[0] ?? runners[0]!;
      const api = createRpcClient(CraqRpcClient, { address: `unix://${r.socket}`, deadlineMs: 5000 });
      try {
        await api.pin(craqV1.PinRequest.create({ key }));
        return;
      } catch (err) {
        if (attempt >= 20) throw new Error(`pin ${key} at runner ${r.index}: ${(err as Error).message}\n${why()}`);
        await new Promise((res) => setTimeout(res, 250));
      } finally {
        api.close();
      }
    }
  };
  await pin('/pxl/a');
  await pin('/pxl/b');
  await until('one active scheduler after the pins', () => actives().length === 1, 20_000);
  const a = actives()[0]!;
  const ca = await clientOf(a);
  await ca.put('/pxl/a', 'a1');
  assert.equal(ca.lastServedBy.via, 'chain', why());
  await until('a1 written back to etcd', async () => (await real.get('/pxl/a').string()) === 'a1');

  // a real partition of the active scheduler's replica: its process still reaches etcd and the nodes
  partition(ports[a.index]!);
  await until(`another scheduler took over from the partitioned one\n${why()}`, () => actives().length === 1 && actives()[0] !== a, 20_000);
  const b = actives()[0]!;
  assert.equal(a.active, false, 'the partitioned scheduler stopped acting');
  const cb = await clientOf(b);
  assert.equal((await cb.get('/pxl/a'))?.toString(), 'a1', 'the key is still placed and holds its last value');
  assert.equal(cb.lastServedBy.via, 'chain', why());
  await cb.put('/pxl/b', 'b1');
  assert.equal(cb.lastServedBy.via, 'chain');
  await until('b1 written back by the new active scheduler', async () => (await real.get('/pxl/b').string()) === 'b1');
  heal();

  // kill -9 the new active scheduler: one of the other two takes over
  b.child.kill('SIGKILL');
  await until(`a third takeover after kill -9\n${why()}`, () => b.exitedAt !== undefined && actives().length === 1, 20_000);
  const c = actives()[0]!;
  assert.notEqual(c, b);
  const cc = await clientOf(c);
  assert.equal((await cc.get('/pxl/b'))?.toString(), 'b1');
  assert.equal(cc.lastServedBy.via, 'chain', `still placed after the kill\n${why()}`);
  await cc.put('/pxl/a', 'a2');
  await until('a2 written back after the kill', async () => (await real.get('/pxl/a').string()) === 'a2');
  assert.notEqual(await real.get(placedMarkerKey('/pxl/a')).string(), null, 'the marker stays while the key is placed');
  for (const n of nodes) assert.equal((await n.keys()).length, 2, `${n.name} holds each key once`);

  // the runners' own reports: no two active periods overlap
  const now = Date.now();
  const periods = runners.flatMap((r) => r.periods(now).map(([s, e]) => ({ r: r.index, s, e })));
  assert.ok(periods.length >= 3, `three active periods at least: ${JSON.stringify(periods)}`);
  for (const x of periods) {
    for (const y of periods) {
      if (x.r === y.r) continue;
      assert.ok(x.e <= y.s || y.e <= x.s, `runners ${x.r} and ${y.r} active at once: ${JSON.stringify([x, y])}`);
    }
  }
});
