/**
 * The xlb end-to-end suite, run once per forwarding mode: a client, the balancer node running
 * the real lb-controller process (its configuration and services files, XDP on its interface)
 * and five backends serving HTTP that answer their name, all on one switched segment:
 *
 *   client 10.10.0.2 ─┐
 *   lb     10.10.0.1 ─┤ sw (bridge br0)   VIP 198.51.100.10:80 (client route via the lb)
 *   b1..b5 10.10.0.11..15 ─┘
 *
 * L2 DSR: the VIP on the backends' loopback with arp_ignore/arp_announce. IPIP/GUE: also the
 * VIP on loopback, and xlb_decap on the backends' tc ingress. NAT: the backends are untouched
 * (no VIP, no program, no sysctl). The segment and the veth quirks are @netaccel/labs' (its
 * veth.ts says why): the switch's port facing the lb gets a trivial XDP_PASS program (XDP_TX on a
 * veth needs NAPI on the peer), and the senders (client, backends) hand complete checksums.
 *
 * The load generator and the backends run on CPU 0. The balancer's connection table is per CPU
 * and relies on RSS keeping all packets of a flow on one CPU; a veth has no RSS and runs XDP on
 * the CPU that sent the packet, and a TCP endpoint sends from more than one CPU (the
 * application's, and softirq context for ACKs triggered by packets received on another CPU).
 * Unpinned, a flow's packets reach the balancer on both CPUs; after a table change a packet
 * that misses its entry on "its other" CPU is rescheduled to the new backend, which resets the
 * connection (seen: 1-5 of 24 long-lived connections reset when a backend was added). Pinning
 * every endpoint to one CPU gives each flow one CPU, as RSS does on a NIC.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, LabProcess, LabSpec, NodeSpec } from '@netaccel/netlab';
import { createLab, waitFor } from '@netaccel/netlab';
import { ARP_HIDDEN, NO_RP_FILTER, completeChecksums, switchedSegment } from '@netaccel/labs';
import { BalancerClient, balancerV1, createRpcClient } from '@netaccel/rpc';
import { groups, runCliCaptured } from '@netaccel/app-cli/testing';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const CONTROLLER = join(ROOT, 'apps', 'lb-controller', 'src', 'main.ts');
const FIX = join(ROOT, 'test', 'xlb', 'fixtures');
export const VIP = '198.51.100.10';
export const LB_ADDR = '10.10.0.1';
export const BACKENDS = ['b1', 'b2', 'b3', 'b4', 'b5'] as const;
export const backendAddr = (i: number) => `10.10.0.${11 + i}`;
export type Mode = 'l2dsr' | 'ipip' | 'gue' | 'nat';
const HEALTH = { intervalMs: 200, fall: 3 };
/**
 * NAT uses the balancer's own address as its source, so its ports must not overlap the kernel's
 * ephemeral ports (32768-60999), which the controller's health checks use towards the same
 * backends: a shared 4-tuple would mix a health check with a client's flow.
 */
const NAT_PORTS = { nat_port_min: 1024, nat_port_max: 32767 };

export function topology(mode: Mode): LabSpec {
  const dsr = mode !== 'nat';
  const nodes: Record<string, NodeSpec> = {
    sw: {},
    client: { routes: [{ to: `${VIP}/32`, via: LB_ADDR }] },
    lb: {},
  };
  for (const b of BACKENDS) nodes[b] = dsr ? { addrs: { lo: `${VIP}/32` }, sysctls: { ...ARP_HIDDEN, ...NO_RP_FILTER } } : {};
  const segment = switchedSegment({
    members: [
      { node: 'client', addr: '10.10.0.2/24', port: 'pc' },
      { node: 'lb', addr: `${LB_ADDR}/24` },
      ...BACKENDS.map((b, i) => ({ node: b, addr: `${backendAddr(i)}/24` })),
    ],
  });
  return { name: `xlb-${mode}`, nodes, ...segment };
}

async function macOf(lab: Lab, node: string, ifname: string): Promise<string> {
  const links = (await lab.links(node)) as unknown as { ifname: string; address: string }[];
  return links.find((l) => l.ifname === ifname)!.address;
}

export function servicesYaml(mode: Mode, backends: { address: string; mac: string }[]): string {
  const bs = backends.map((b) => `{ address: ${b.address}, mac: "${b.mac}" }`).join(', ');
  return `services:\n  - name: web\n    vip: ${VIP}\n    port: 80\n    mode: ${mode}\n    healthCheck: { type: http, path: /, interval: ${HEALTH.intervalMs}ms, timeout: 150ms, rise: 2, fall: ${HEALTH.fall} }\n    backends: [${bs}]\n`;
}

export interface Env {
  lab: Lab;
  controller: LabProcess;
  servicesFile: string;
  socket: string;
  macs: string[];
  backends: Map<string, LabProcess>;
}

export async function client(lab: Lab, args: string[], timeoutMs = 120_000): Promise<Record<string, unknown>> {
  // pinned to CPU 0: see the header (the data plane's connection table is per CPU)
  const r = await lab.exec('client', ['taskset', '-c', '0', process.execPath, '--import', 'tsx', join(FIX, 'client.ts'), ...args], { cwd: ROOT, timeoutMs });
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

export async function listBackends(socket: string): Promise<balancerV1.Backend[]> {
  const c = createRpcClient(BalancerClient, { address: socket, deadlineMs: 3000 });
  try {
    return (await c.listBackends(balancerV1.ListBackendsRequest.create())).backends;
  } finally {
    c.close();
  }
}

/** Runs `netaccel lb …` (the CLI's code, in this process) against the controller's socket. */
export async function netaccel(args: string[], socket: string): Promise<{ code: number; out: string; err: string }> {
  return runCliCaptured(['lb', ...args, '--socket', socket], groups);
}

/** Where the loader of a `via: 'loader'` run pins (removed after the lab is down). */
export const loaderPinRoot = (mode: Mode) => `/sys/fs/bpf/netaccel-xlbe2e-${process.pid}-${mode}`;

/** Starts ebpf-loader (the real daemon) in the balancer node; answers its socket. */
async function startLoader(lab: Lab, mode: Mode): Promise<string> {
  const socket = join(lab.logDir, 'ebpf-loader.sock');
  const file = join(lab.logDir, 'ebpf-loader.yaml');
  const config = { pinRoot: loaderPinRoot(mode), stateDir: join(lab.logDir, 'loader-state'), objectDir: join(ROOT, 'bpf', 'build'), rpc: { socket }, telemetry: { listen: '127.0.0.1:0' }, stats: { runTime: false } };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  await lab.spawn('lb', [process.execPath, '--import', 'tsx', join(ROOT, 'apps', 'ebpf-loader', 'src', 'main.ts'), '--config', file], {
    name: 'ebpf-loader',
    cwd: ROOT,
    sysfs: 'host',
    ready: { file: socket },
    timeoutMs: 30_000,
  });
  return socket;
}

export async function setUp(lab: Lab, mode: Mode, via: 'loader' | 'direct' = 'direct'): Promise<Env> {
  const sysfs = 'host' as const;
  await completeChecksums(lab, ['client', ...BACKENDS]);
  await lab.exec('sw', [process.execPath, '--import', 'tsx', join(FIX, 'attach.ts'), 'xdp-pass', 'plb'], { cwd: ROOT, sysfs });
  const macs: string[] = [];
  for (const [i, b] of BACKENDS.entries()) {
    macs.push(await macOf(lab, b, 'eth0'));
    if (mode === 'ipip' || mode === 'gue') {
      await lab.exec(b, [process.execPath, '--import', 'tsx', join(FIX, 'attach.ts'), 'decap', 'eth0', backendAddr(i)], { cwd: ROOT, sysfs });
    }
  }
  const backends = new Map<string, LabProcess>();
  for (const b of BACKENDS) {
    backends.set(b, await lab.spawn(b, ['taskset', '-c', '0', process.execPath, '--import', 'tsx', join(FIX, 'backend.ts'), b, '80'], { name: `http-${b}`, cwd: ROOT, ready: { tcp: '0.0.0.0:80' }, timeoutMs: 30_000 }));
  }
  const servicesFile = join(lab.logDir, 'services.yaml');
  writeFileSync(servicesFile, servicesYaml(mode, [0, 1, 2, 3].map((i) => ({ address: backendAddr(i), mac: macs[i]! }))));
  const socket = join(lab.logDir, 'lb-controller.sock');
  const configFile = join(lab.logDir, 'lb-controller.yaml');
  const where =
    via === 'loader'
      ? { via: 'loader', loaderSocket: await startLoader(lab, mode), object: 'xlb/xlb.bpf.o' }
      : { via: 'direct', object: join(ROOT, 'bpf', 'build', 'xlb', 'xlb.bpf.o') };
  const config = {
    logLevel: 'debug',
    dataPlane: { ...where, interface: 'eth0', xdpMode: 'native', ...(mode === 'nat' ? { natSourceV4: LB_ADDR, globals: NAT_PORTS } : {}) },
    source: { kind: 'file', file: servicesFile },
    grpc: { socket },
    telemetry: { listen: '127.0.0.1:0' },
  };
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const controller = await lab.spawn('lb', [process.execPath, '--import', 'tsx', CONTROLLER, '--config', configFile], {
    name: 'lb-controller',
    cwd: ROOT,
    sysfs,
    ready: { log: /"msg":"lb-controller running"/ },
    timeoutMs: 30_000,
  });
  await waitFor(async () => (await listBackends(socket)).filter((b) => b.health === balancerV1.BackendHealth.BACKEND_HEALTH_HEALTHY).length === 4, { timeoutMs: 15_000, what: 'four healthy backends' });
  return { lab, controller, servicesFile, socket, macs, backends };
}

/**
 * Registers the mode's tests: spread, adding a backend under long-lived flows, a failure, the
 * CLI. `via: 'loader'` programs the data plane through the real ebpf-loader daemon (started in
 * the balancer node), the production path; `direct` has the controller load it itself.
 */
export function modeSuite(mode: Mode, via: 'loader' | 'direct' = 'direct'): void {
  const lab = createLab(topology(mode));
  let env: Env;
  beforeAll(async () => {
    await lab.up();
    env = await setUp(lab, mode, via);
  });
  afterAll(async () => {
    try {
      await lab.down();
    } finally {
      // the loader never detaches or unpins on exit (by design); its interface is gone with the
      // namespace, the pins are removed here
      if (via === 'loader') rmSync(loaderPinRoot(mode), { recursive: true, force: true });
    }
  });
  const url = `http://${VIP}/`;

  test(`${mode}: 4,000 connections are spread over the 4 backends within ±15%`, async () => {
    const r = (await client(lab, ['spread', url, '4000', '32'])) as { counts: Record<string, number>; errors: Record<string, number>; ms: number };
    assert.deepEqual(r.errors, {});
    assert.deepEqual(Object.keys(r.counts).sort(), ['b1', 'b2', 'b3', 'b4']);
    for (const [b, n] of Object.entries(r.counts)) assert.ok(Math.abs(n - 1000) <= 150, `${b}: ${n} of 4000 (${JSON.stringify(r.counts)})`);
  });

  test(`${mode}: adding a backend leaves long-lived connections on their backends`, async () => {
    const running = client(lab, ['longlived', url, '24', '4000']);
    await new Promise((r) => setTimeout(r, 1200));
    writeFileSync(env.servicesFile, servicesYaml(mode, [0, 1, 2, 3, 4].map((i) => ({ address: backendAddr(i), mac: env.macs[i]! }))));
    await waitFor(async () => (await listBackends(env.socket)).some((b) => b.address === backendAddr(4) && b.health === balancerV1.BackendHealth.BACKEND_HEALTH_HEALTHY), { timeoutMs: 10_000, what: 'b5 healthy' });
    const r = (await running) as { requests: number; errors: string[]; closes: string[]; sockets: number; moved: number };
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.closes, [], 'no connection ended early');
    assert.equal(r.sockets, 24, 'no connection was re-opened');
    assert.equal(r.moved, 0, 'no connection changed backend');
    assert.ok(r.requests > 24 * 20, String(r.requests));
    // new connections now reach b5 as well
    const spread = (await client(lab, ['spread', url, '1000', '32'])) as { counts: Record<string, number>; errors: Record<string, number> };
    assert.deepEqual(spread.errors, {});
    assert.ok((spread.counts.b5 ?? 0) > 100, JSON.stringify(spread.counts));
  });

  test(`${mode}: a killed backend is out of rotation within interval × fall; then no new connection fails`, async () => {
    const t0 = performance.now();
    await env.backends.get('b2')!.stop();
    // ListBackends answers once the controller's pass after the health change has switched the table
    await waitFor(async () => (await listBackends(env.socket)).some((b) => b.address === backendAddr(1) && b.health === balancerV1.BackendHealth.BACKEND_HEALTH_UNHEALTHY), {
      timeoutMs: 10_000,
      intervalMs: 10,
      what: 'b2 out of rotation',
    });
    const outMs = performance.now() - t0;
    // interval × fall, plus one interval of phase and the check and pass times
    assert.ok(outMs <= HEALTH.intervalMs * (HEALTH.fall + 1) + 500, `out after ${outMs.toFixed(0)} ms`);
    console.log(`${mode}: killed backend out of rotation after ${outMs.toFixed(0)} ms (interval ${HEALTH.intervalMs} ms x fall ${HEALTH.fall})`);
    const r = (await client(lab, ['spread', url, '1000', '32'])) as { counts: Record<string, number>; errors: Record<string, number> };
    assert.deepEqual(r.errors, {});
    assert.equal(r.counts.b2, undefined);
    assert.deepEqual(Object.keys(r.counts).sort(), ['b1', 'b3', 'b4', 'b5']);
  });

  test(`${mode}: netaccel lb services | backends | stats | drain against the controller`, async () => {
    const services = await netaccel(['services'], env.socket);
    assert.equal(services.code, 0, services.err);
    assert.match(services.out, new RegExp(`198\\.51\\.100\\.10:80/tcp\\s+web\\s+${mode}\\s+65537\\s+4/5`));
    const backends = await netaccel(['backends'], env.socket);
    assert.match(backends.out, /10\.10\.0\.12\s+80\s+1\s+unhealthy\s+no\s+HTTP ECONNREFUSED/);
    assert.match(backends.out, /10\.10\.0\.15\s+80\s+1\s+healthy\s+no/);
    const stats = (await netaccel(['stats', '--json'], env.socket)).out;
    const vip = (JSON.parse(stats) as { vips: { counters: { newFlows: string }; backends: { address: string; counters: { newFlows: string } }[] }[] }).vips[0]!;
    assert.ok(Number(vip.counters.newFlows) >= 6000, vip.counters.newFlows);
    assert.ok(Number(vip.backends.find((b) => b.address === backendAddr(0))!.counters.newFlows) > 1000);
    const drained = await netaccel(['drain', backendAddr(0)], env.socket);
    assert.match(drained.out, /draining 10\.10\.0\.11: 1 backend changed/);
    const r = (await client(lab, ['spread', url, '400', '16'])) as { counts: Record<string, number>; errors: Record<string, number> };
    assert.deepEqual(r.errors, {});
    assert.equal(r.counts.b1, undefined, 'a draining backend takes no new flows');
    assert.equal((await netaccel(['drain', backendAddr(0), '--cancel'], env.socket)).code, 0);
    const bad = await netaccel(['drain', 'nonsense'], env.socket);
    assert.equal(bad.code, 2);
  });
}
