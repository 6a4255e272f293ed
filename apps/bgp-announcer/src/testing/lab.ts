/**
 * The announcer in the BGP interop tests and benchmarks: its configuration files, the daemon
 * started inside its node, a client of its API. The topology (a router and three announcers,
 * optionally a route reflector), the probes of the router's FIB and the failures are
 * @netaccel/labs' (routerStarTopology, waitNextHops, nodeFailure, …). Configurations are written
 * to the lab's log folder, so they sit beside the processes' logs when a test fails.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LbName } from '@netaccel/labs';
import { LB_AS, lbAddr } from '@netaccel/labs';
import type { Lab, LabProcess } from '@netaccel/netlab';
import type { AnnouncerService, RpcClient } from '@netaccel/rpc';
import { AnnouncerClient, createRpcClient } from '@netaccel/rpc';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..');
export const MAIN = join(ROOT, 'apps', 'bgp-announcer', 'src', 'main.ts');

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

/** The daemon as installed: the launcher of the bundle (`npm run build -w @netaccel/app-bgp-announcer`). */
export const BUNDLED_MAIN = join(ROOT, 'apps', 'bgp-announcer', 'dist', 'main.js');

/** Newest modification time (ms) of the files under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/** Refuses a bundle older than the app's sources: a benchmark would measure old code. */
export function checkBundle(): void {
  const bundle = join(ROOT, 'apps', 'bgp-announcer', 'dist', 'main.cjs');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build -w @netaccel/app-bgp-announcer`);
  if (statSync(bundle).mtimeMs < newestMtime(join(ROOT, 'apps', 'bgp-announcer', 'src'))) {
    throw new Error(`${bundle} is older than apps/bgp-announcer/src: run npm run build -w @netaccel/app-bgp-announcer`);
  }
}

export interface StartOptions {
  /**
   * Run the bundle as installed (dist/main.js, the systemd unit's command) instead of the
   * sources through tsx: what benchmarks measure (memory, start time). Default false: tests run
   * the sources, no build needed.
   */
  readonly bundled?: boolean;
}

/** Starts the daemon in `lb` (a real node process) and waits until it runs. */
export async function startAnnouncer(lab: Lab, lb: LbName, file: string, name: string = lb, opts: StartOptions = {}): Promise<LabProcess> {
  if (opts.bundled === true) checkBundle();
  const argv = opts.bundled === true ? [process.execPath, BUNDLED_MAIN, '--config', file] : [process.execPath, '--import', 'tsx', MAIN, '--config', file];
  return lab.spawn(lb, argv, {
    name,
    cwd: ROOT,
    ready: { log: /"msg":"bgp-announcer running"/ },
    timeoutMs: 30_000,
  });
}

export function announcerClient(socket: string): RpcClient<typeof AnnouncerService> {
  return createRpcClient(AnnouncerClient, { address: socket, deadlineMs: 10_000 });
}
