/**
 * A sidecar started in-process from YAML for tests and benchmarks, with its metrics registry and
 * its log lines captured (the access log among them).
 */
import { parseConfig } from '@netaccel/config';
import { createLogCapture, createLogger, createMetrics } from '@netaccel/telemetry';
import type { LogCapture, Metrics } from '@netaccel/telemetry';
import { sidecarConfig } from '../config.js';
import type { HeatStore } from '../etcd-heat.js';
import { SidecarProxy } from '../sidecar.js';

export interface TestSidecar {
  readonly proxy: SidecarProxy;
  readonly metrics: Metrics;
  readonly logs: LogCapture;
  /** "127.0.0.1:port" of a listener (the first by default). */
  address(listener?: string): string;
  close(drainMs?: number): Promise<void>;
}

export async function startTestSidecar(yaml: string, opts: { heatStore?: HeatStore; accessLog?: boolean } = {}): Promise<TestSidecar> {
  const config = parseConfig(sidecarConfig, { env: {}, yaml });
  const logs = createLogCapture();
  const log = createLogger({ name: 'sidecar-test', level: 'info', destination: logs.stream });
  const metrics = createMetrics({ app: 'sidecar-offload' });
  const proxy = await SidecarProxy.start({ config, metrics, log, ...(opts.heatStore === undefined ? {} : { heatStore: opts.heatStore }) });
  return {
    proxy,
    metrics,
    logs,
    address: (name) => {
      const l = name === undefined ? proxy.listeners[0] : proxy.listener(name);
      if (l === undefined) throw new Error(`no listener ${name ?? '(first)'}`);
      return `127.0.0.1:${l.port}`;
    },
    close: (drainMs) => proxy.close(drainMs ?? 1000),
  };
}
