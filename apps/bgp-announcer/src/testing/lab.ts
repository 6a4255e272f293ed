/**
 * Shared pieces of the BGP interop tests and benchmarks: the topology (a router and three
 * announcers, optionally a route reflector), announcer configuration files, BIRD / FRR / GoBGP
 * configurations, and probes of the router's FIB. Configurations are written to the lab's log
 * folder, so they sit beside the processes' logs when a test fails.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, LabProcess, LabSpec, LinkSpec, NodeSpec, RouteInfo } from '@netaccel/netlab';
import { createLab, waitFor } from '@netaccel/netlab';
import type { AnnouncerService, RpcClient } from '@netaccel/rpc';
import { AnnouncerClient, createRpcClient } from '@netaccel/rpc';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..');
export const MAIN = join(ROOT, 'apps', 'bgp-announcer', 'src', 'main.ts');
export const ROUTER_AS = 65000;
export const LB_AS = 65001;
export const RR_AS = 65000;
export const LBS = ['lb1', 'lb2', 'lb3'] as const;
export type LbName = (typeof LBS)[number];

/** Index 1..3 of an announcer. */
export function lbIndex(lb: LbName): number {
  return LBS.indexOf(lb) + 1;
}
export function lbAddr(lb: LbName, family: 4 | 6 = 4): string {
  return family === 4 ? `10.1.${lbIndex(lb)}.2` : `fd10:${lbIndex(lb)}::2`;
}
export function routerAddr(lb: LbName, family: 4 | 6 = 4): string {
  return family === 4 ? `10.1.${lbIndex(lb)}.1` : `fd10:${lbIndex(lb)}::1`;
}

/**
 * router ── lb1, lb2, lb3 (10.1.i.0/24, fd10:i::/64), and with `rr` a route reflector on
 * 10.1.9.0/24 that every announcer reaches through the router.
 */
export function topology(name: string, opts: { rr?: boolean } = {}): LabSpec {
  const nodes: Record<string, NodeSpec> = {
    router: { forwarding: true, sysctls: { 'net.ipv4.fib_multipath_hash_policy': 1, 'net.ipv6.fib_multipath_hash_policy': 1 } },
  };
  const links: LinkSpec[] = LBS.map((lb) => {
    const i = lbIndex(lb);
    nodes[lb] = opts.rr === true ? { routes: [{ to: '10.1.9.0/24', via: `10.1.${i}.1` }] } : {};
    return { a: `router:eth${i}`, b: `${lb}:eth0`, aAddr: [`10.1.${i}.1/24`, `fd10:${i}::1/64`], bAddr: [`10.1.${i}.2/24`, `fd10:${i}::2/64`] };
  });
  if (opts.rr === true) {
    nodes.rr = { routes: [{ to: '10.1.0.0/16', via: '10.1.9.1' }] };
    links.push({ a: 'router:eth9', b: 'rr:eth0', aAddr: '10.1.9.1/24', bAddr: '10.1.9.2/24' });
  }
  return { name, nodes, links };
}

export function newLab(name: string, opts: { rr?: boolean } = {}): Lab {
  return createLab(topology(name, opts), { killGraceMs: 1000, readyTimeoutMs: 20_000 });
}

// --- announcers ------------------------------------------------------------------------------

export interface PeerYaml {
  address: string;
  remoteAs: number;
  [k: string]: unknown;
}

export interface AnnouncerOptions {
  peers: PeerYaml[];
  announce?: { prefix: string; [k: string]: unknown }[];
  holdTime?: number;
  gracefulRestart?: { enabled: boolean; restartTime: number };
  updateRate?: number;
  extra?: Record<string, unknown>;
  localAs?: number;
}

export function announcerConfig(lab: Lab, lb: LbName, o: AnnouncerOptions): { file: string; socket: string; config: Record<string, unknown> } {
  const socket = join(lab.logDir, `${lb}.sock`);
  const config = {
    logLevel: 'debug',
    bgp: {
      localAs: o.localAs ?? LB_AS,
      routerId: lbAddr(lb),
      holdTime: o.holdTime ?? 3,
      connectRetry: '1s',
      idleHold: '200ms',
      peers: o.peers,
      announce: o.announce ?? [],
      ...(o.gracefulRestart === undefined ? {} : { gracefulRestart: o.gracefulRestart }),
      ...(o.updateRate === undefined ? {} : { updateRate: o.updateRate }),
      ...(o.extra ?? {}),
    },
    telemetry: { listen: '127.0.0.1:9179' },
    grpc: { socket },
  };
  const file = join(lab.logDir, `${lb}.yaml`);
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`); // JSON is YAML 1.2
  return { file, socket, config };
}

/** Starts the daemon in `lb` (a real node process) and waits until it runs. */
export async function startAnnouncer(lab: Lab, lb: LbName, file: string, name: string = lb): Promise<LabProcess> {
  return lab.spawn(lb, [process.execPath, '--import', 'tsx', MAIN, '--config', file], {
    name,
    cwd: ROOT,
    ready: { log: /"msg":"bgp-announcer running"/ },
    timeoutMs: 30_000,
  });
}

export function announcerClient(socket: string): RpcClient<typeof AnnouncerService> {
  return createRpcClient(AnnouncerClient, { address: socket, deadlineMs: 10_000 });
}

// --- the router's FIB ------------------------------------------------------------------------

export function gateways(r: RouteInfo | undefined): string[] {
  if (r === undefined) return [];
  const g = r.nexthops !== undefined ? r.nexthops.map((n) => n.gateway ?? '') : r.gateway === undefined ? [] : [r.gateway];
  return g.filter((x) => x !== '').sort();
}

/** The next hops of `dst` in a node's main table ([] when there is no route). */
export async function fibNextHops(lab: Lab, node: string, dst: string, family: 4 | 6 = 4): Promise<string[]> {
  const routes = await lab.routes(node, { family });
  return gateways(routes.find((r) => r.dst === dst));
}

/** Waits until `dst` has exactly `want` as next hops in the node's FIB. */
export async function waitNextHops(lab: Lab, node: string, dst: string, want: string[], opts: { family?: 4 | 6; timeoutMs?: number } = {}): Promise<void> {
  const sorted = [...want].sort();
  await waitFor(
    async () => {
      const got = await fibNextHops(lab, node, dst, opts.family ?? 4);
      return JSON.stringify(got) === JSON.stringify(sorted) ? true : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 15_000, intervalMs: 50, what: `${node} FIB: ${dst} via ${sorted.join(', ') || '(none)'}` },
  );
}

/** Routes of a node's FIB installed by a protocol (`bird`, `bgp`, …). */
export async function countRoutes(lab: Lab, node: string, protocol: string, family: 4 | 6 = 4): Promise<number> {
  const r = await lab.exec(node, ['ip', `-${family}`, 'route', 'show', 'proto', protocol], { timeoutMs: 20_000 });
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

export function prefixes(n: number): string[] {
  // 10,000 /32s in 100.64.0.0/10 (shared address space: never routed outside the lab)
  return Array.from({ length: n }, (_, i) => `100.${64 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}/32`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Makes a node fall silent as if it had died with its kernel: nftables drops everything it
 * would send or receive, so no FIN, RST, KEEPALIVE or BFD packet reaches the router.
 */
export async function silence(lab: Lab, node: string): Promise<void> {
  const rules = ['table inet netaccel_silence {', ' chain in { type filter hook input priority -300; policy drop; }', ' chain out { type filter hook output priority -300; policy drop; }', '}', ''].join('\n');
  await lab.exec(node, ['nft', '-f', '-'], { input: rules });
}

/** Kills the announcer of a node the way a node failure does: silence, then kill -9. Answers the time of death. */
export async function nodeFailure(lab: Lab, node: string, proc: LabProcess): Promise<number> {
  await silence(lab, node);
  const t0 = performance.now();
  proc.kill('SIGKILL');
  return t0;
}

/** Polls the FIB every 20 ms until `gone` is no longer a next hop of `dst`; answers ms since `t0`. */
export async function timeUntilGone(lab: Lab, dst: string, gone: string, t0: number, timeoutMs = 10_000): Promise<number> {
  let ms = 0;
  await waitFor(
    async () => {
      const hops = await fibNextHops(lab, 'router', dst);
      if (hops.includes(gone)) return undefined;
      ms = performance.now() - t0;
      return true;
    },
    { timeoutMs, intervalMs: 20, what: `${gone} gone from the router's FIB for ${dst}` },
  );
  return ms;
}
