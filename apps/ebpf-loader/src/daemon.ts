/**
 * The ebpf-loader daemon: the state directory is locked (one loader per state), the loader opens
 * and adopts what is pinned, then the telemetry server (/healthz, /readyz, /metrics, /v1/status)
 * and the Loader gRPC service on its Unix socket (0660, optional group) start. `stop()` shuts both
 * servers down and closes descriptors; it never detaches or unpins anything, and neither does a
 * crash: the next start adopts the same pins.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createRpcServer } from '@netaccel/rpc';
import type { RpcServer } from '@netaccel/rpc';
import { buildTelemetryServer, childLogger, createMetrics } from '@netaccel/telemetry';
import type { BoundAddress, Logger, TelemetryServer } from '@netaccel/telemetry';
import { Audit } from './audit.js';
import { defaultObjectDir } from './config.js';
import type { LoaderConfig } from './config.js';
import { NA_ERR_LOADER_STATE } from './errors.js';
import { Loader } from './loader.js';
import { registerLoaderMetrics } from './metrics.js';
import { loaderService } from './service.js';
import { attachPointOf } from './views.js';

export const VERSION = '0.1.0';

export interface LoaderDaemon {
  readonly loader: Loader;
  readonly rpc: RpcServer;
  readonly telemetry: TelemetryServer;
  readonly telemetryAddress: BoundAddress;
  stop(): Promise<void>;
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
    app: 'ebpf-loader',
    version: VERSION,
    pid: process.pid,
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

export async function startDaemon(config: LoaderConfig, opts: { log: Logger }): Promise<LoaderDaemon> {
  const log = opts.log;
  const objectDir = config.objectDir ?? defaultObjectDir();
  const unlock = lockStateDir(config.stateDir);
  const cleanups: (() => Promise<unknown> | void)[] = [unlock];
  const undo = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const loader = Loader.open({ objectDir, pinRoot: config.pinRoot, stateDir: config.stateDir, statsRunTime: config.stats.runTime, log: childLogger(log, 'loader') });
    cleanups.push(() => loader.close());
    const metrics = createMetrics({ app: 'ebpf-loader', version: VERSION });
    const onCall = registerLoaderMetrics(metrics, loader);
    const telemetry = buildTelemetryServer({
      log,
      metrics,
      listen: config.telemetry.socket !== undefined ? { path: config.telemetry.socket } : { host: config.telemetry.listen.host, port: config.telemetry.listen.port },
      status: () => statusOf(loader, config, objectDir),
      readiness: { 'pins-adopted': () => true },
    });
    const telemetryAddress = await telemetry.listen();
    cleanups.push(() => telemetry.close());
    const rpc = await createRpcServer({
      log,
      address: config.rpc.socket,
      socketGroup: config.rpc.socketGroup,
      shutdownTimeoutMs: config.rpc.shutdownTimeout,
      onCall,
      services: [loaderService(loader, new Audit(log))],
    });
    log.info(
      { socket: config.rpc.socket, telemetry: telemetryAddress, objectDir, pinRoot: config.pinRoot, objects: loader.reg.objects.size, attachments: loader.reg.attachments.size },
      'loader ready',
    );
    let stopped = false;
    return {
      loader, rpc, telemetry, telemetryAddress,
      async stop() {
        if (stopped) return;
        stopped = true;
        await rpc.shutdown({ timeoutMs: config.rpc.shutdownTimeout });
        await undo();
        log.info({}, 'loader stopped; programs stay attached');
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}
