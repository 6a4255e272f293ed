/**
 * The announcer in the BGP interop tests and benchmarks: its configuration files, the daemon
 * started inside its node, a client of its API. The topology (a router and three announcers,
 * optionally a route reflector), the probes of the router's FIB and the failures are
 * @netaccel/labs' (routerStarTopology, waitNextHops, nodeFailure, …). Configurations are written
 * to the lab's log folder, so they sit beside the processes' logs when a test fails.
 */
import { writeFileSync } from 'node:fs';
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
