/**
 * The ebpf-loader daemon on the host (@netaccel/daemon): the state directory is locked (one
 * loader per state), the loader opens and adopts what is pinned, then the telemetry server
 * (/healthz, /readyz, /metrics, /v1/status) and the Loader gRPC service on its Unix socket (0660,
 * optional group) start. Shutdown stops both servers and closes descriptors, in reverse order; it
 * never detaches or unpins anything, and neither does a crash: the next start adopts the same pins.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { packageVersion } from '@netaccel/daemon';
import type { DaemonApp, DaemonHost, DaemonSpec } from '@netaccel/daemon';
import type { RpcServer } from '@netaccel/rpc';
import type { BoundAddress, TelemetryServer } from '@netaccel/telemetry';
import { Audit } from './audit.js';
import { defaultObjectDir, loaderConfig } from './config.js';
import type { LoaderConfig } from './config.js';
import { NA_ERR_LOADER_STATE } from './errors.js';
import { Loader } from './loader.js';
import { registerLoaderMetrics } from './metrics.js';
import { loaderService } from './service.js';
import { attachPointOf } from './views.js';

/** The version of this app: its package.json's. */
export const VERSION = packageVersion(import.meta.url);

export interface LoaderDaemon extends DaemonApp {
  readonly loader: Loader;
  readonly rpc: RpcServer;
  readonly telemetry: TelemetryServer;
  readonly telemetryAddress: BoundAddress;
}

/** ebpf-loader for runDaemon: `await runDaemon(ebpfLoader())`. */
export function ebpfLoader(): DaemonSpec<typeof loaderConfig, LoaderDaemon> {
  return {
    name: 'ebpf-loader',
    version: VERSION,
    config: loaderConfig,
    start: startLoader,
    running: (d) => ({ objects: d.loader.reg.objects.size, attachments: d.loader.reg.attachments.size }),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ebpf-loader');
  } catch {
    return false;
  }
}

/** Takes `<stateDir>/loader.pid`; a file left by a loader that died is taken over. */
function lockStateDir(stateDir: string): () => void {
  mkdirSync(stateDir, { recursive: true, mode: 0o750 });
  const file = join(stateDir, 'loader.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o640);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
        } catch {
          // gone already
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw NA_ERR_LOADER_STATE.with({ cause: err }, file, `cannot be created: ${(err as Error).message}`);
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw NA_ERR_LOADER_STATE.with({ details: { pid } }, file, `another loader (pid ${pid}) owns this state directory`);
      }
      rmSync(file, { force: true }); // left by a loader that is gone
    }
  }
  throw NA_ERR_LOADER_STATE(file, 'cannot be taken');
}

function statusOf(loader: Loader, config: LoaderConfig, objectDir: string): Record<string, unknown> {
  const reg = loader.reg;
  return {
    objectDir,
    pinRoot: config.pinRoot,
    stateFile: reg.store.file,
    statsEnabled: loader.statsEnabled,
    objects: [...reg.objects.values()].map((o) => ({ id: o.record.id, path: o.record.path, sha256: o.record.sha256, owner: o.record.owner, programs: o.record.programs.map((p) => p.name) })),
    attachments: [...reg.attachments.values()].map((a) => {
      const p = attachPointOf(a);
      return { linkId: a.linkId, mode: a.mode, programId: a.programId, target: p.target?.value, priority: a.priority, pinPath: a.pinPath };
    }),
    startup: loader.report,
  };
}

/** Starts the loader's parts on the host, each with its close hook (see the file's comment). */
export async function startLoader(host: DaemonHost<typeof loaderConfig>): Promise<LoaderDaemon> {
  const config = host.config;
  const log = host.log;
  const objectDir = config.objectDir ?? defaultObjectDir();
  host.onClose('stopped', () => log.info({}, 'loader stopped; programs stay attached')); // the last to run
  host.onClose('state lock', lockStateDir(config.stateDir));
  const loader = Loader.open({ objectDir, pinRoot: config.pinRoot, stateDir: config.stateDir, statsRunTime: config.stats.runTime, log: host.logger('loader') });
  host.onClose('loader', () => loader.close());
  const onCall = registerLoaderMetrics(host.metrics, loader);
  // the audit trail: its lines written at the end of each event-loop turn, after that turn's
  // answers (audit.ts: what a crash can lose)
  const audit = new Audit(log, { endOfTurn: true });
  host.onClose('audit trail', () => audit.close());
  // the socket first: the clients (lb-controller restarting beside it) wait for it, not for /metrics
  const rpc = await host.serveGrpc({
    address: config.rpc.socket,
    socketGroup: config.rpc.socketGroup,
    shutdownTimeoutMs: config.rpc.shutdownTimeout,
    transport: config.rpc.transport,
    onCall,
    services: [loaderService(loader, audit)],
  });
  const { server: telemetry, address: telemetryAddress } = await host.serveTelemetry({
    listen: config.telemetry.socket !== undefined ? { path: config.telemetry.socket } : { host: config.telemetry.listen.host, port: config.telemetry.listen.port },
    status: () => statusOf(loader, config, objectDir),
    readiness: { 'pins-adopted': () => true },
  });
  log.info(
    { socket: config.rpc.socket, telemetry: telemetryAddress, objectDir, pinRoot: config.pinRoot, objects: loader.reg.objects.size, attachments: loader.reg.attachments.size },
    'loader ready',
  );
  // Type=notify: ready once the socket serves (its mode set) and earlier objects are adopted.
  return { loader, rpc, telemetry, telemetryAddress, status: () => `serving ${config.rpc.socket}` };
}
