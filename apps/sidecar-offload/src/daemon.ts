/**
 * sidecar-offload on the daemon host (@netaccel/daemon): the proxy's clusters and listeners
 * (with the etcd key counter and the kernel path), the Sidecar gRPC service and the telemetry
 * server, started in that order and stopped in the reverse one (the listeners drain: GOAWAY, calls
 * in flight finish up to sidecar.drainTimeout). SIGHUP applies a new configuration's policies,
 * routes and clusters without touching connections; a configuration the schema refuses is
 * refused whole and the running one stays.
 */
import { packageVersion } from '@netaccel/daemon';
import type { DaemonApp, DaemonHost, DaemonSpec } from '@netaccel/daemon';
import type { RpcServer } from '@netaccel/rpc';
import { SidecarService, rpcService } from '@netaccel/rpc';
import type { TelemetryServer } from '@netaccel/telemetry';
import { childLogger } from '@netaccel/telemetry';
import { sidecarConfig } from './config.js';
import type { HeatStore } from './etcd-heat.js';
import { DirectKernelPath } from './kernel.js';
import { LoaderKernelPath } from './kernel-loader.js';
import type { KernelPath } from './offload.js';
import { sidecarHandlers } from './service.js';
import { SidecarProxy } from './sidecar.js';

/** The version of this app: its package.json's. */
export const VERSION = packageVersion(import.meta.url);

export interface SidecarDaemonOptions {
  readonly kernel?: KernelPath;
  readonly heatStore?: HeatStore;
}

/** sidecar-offload for runDaemon: `await runDaemon(sidecarOffload())`. */
export function sidecarOffload(opts: SidecarDaemonOptions = {}): DaemonSpec<typeof sidecarConfig, SidecarDaemon> {
  return {
    name: 'sidecar-offload',
    version: VERSION,
    config: sidecarConfig,
    start: (host) => SidecarDaemon.start(host, opts),
    running: (d) => ({ listeners: d.proxy.listeners.length }),
  };
}

export class SidecarDaemon implements DaemonApp {
  private rpc: RpcServer | undefined;
  private telemetry: TelemetryServer | undefined;

  private constructor(readonly proxy: SidecarProxy) {}

  get telemetryServer(): TelemetryServer | undefined {
    return this.telemetry;
  }

  static async start(host: DaemonHost<typeof sidecarConfig>, opts: SidecarDaemonOptions = {}): Promise<SidecarDaemon> {
    const k = host.config.kernel;
    const klog = childLogger(host.log, 'kernel');
    // through ebpf-loader (it owns every BPF object of the host), or in this process
    const kernel = opts.kernel ?? (!k.enabled ? undefined : k.via === 'loader' ? await LoaderKernelPath.open(k, host.metrics, klog) : DirectKernelPath.open(k, host.metrics, klog));
    // the proxy owns the kernel path from here: it closes it on shutdown and when its start fails
    const proxy = await SidecarProxy.start({ config: host.config, metrics: host.metrics, log: host.log, ...opts, ...(kernel === undefined ? {} : { kernel }) });
    host.onClose('proxy', () => proxy.close());
    const d = new SidecarDaemon(proxy);
    d.rpc = await host.serveGrpc({ address: host.config.grpc.socket, shutdownTimeoutMs: 2000, services: [rpcService(SidecarService, sidecarHandlers(proxy))] });
    ({ server: d.telemetry } = await host.serveTelemetry({
      listen: host.config.telemetry.listen,
      readiness: {
        listeners: () => (proxy.listeners.length === host.config.sidecar.listeners.length ? true : { ready: false, message: 'listeners not bound' }),
        grpc: () => (d.rpc !== undefined && d.rpc.health.getStatus(SidecarService) === 'SERVING' ? true : { ready: false, message: 'gRPC not serving' }),
      },
      status: () => ({
        kernelPath: proxy.kernel.loaded ? 'loaded' : 'not loaded',
        listeners: proxy.listeners.map((l) => ({ name: l.name, direction: l.settings.direction, address: l.address, connections: l.connectionCount, activeCalls: l.activeCalls })),
        clusters: [...proxy.clusters.values()].map((k) => ({ name: k.name, endpoints: k.members.map((e) => ({ address: e.address, healthy: e.healthy(Date.now()), active: e.active })) })),
        etcdHeat: proxy.heat === undefined ? null : { pendingKeys: proxy.heat.pendingKeys },
      }),
    }));
    host.onReload((next) => proxy.reconfigure(next));
    return d;
  }

  /** The service manager's status line. */
  status(): string {
    const calls = this.proxy.listeners.reduce((n, l) => n + l.activeCalls, 0);
    return `${this.proxy.listeners.length} listeners, ${calls} calls in flight`;
  }
}
