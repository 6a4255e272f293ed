#!/usr/bin/env node
/**
 * ebpf-loader: `netaccel-ebpf-loader --config /etc/netaccel/ebpf-loader.yaml`. SIGINT / SIGTERM
 * stop the servers; programs stay loaded and attached (so does a crash), and the next start adopts
 * them. Under systemd (`Type=notify`) it says READY=1 once its socket serves.
 */
import { parseArgs } from 'node:util';
import { loadConfig, redact } from '@netaccel/config';
import { createLogger, onShutdown, serviceManager } from '@netaccel/telemetry';
import { loaderConfig } from './config.js';
import { startDaemon } from './daemon.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const config = await loadConfig(loaderConfig, values.config === undefined ? {} : { file: values.config });
const log = createLogger({ name: 'ebpf-loader', level: config.logLevel });
log.info({ config: redact(config) }, 'configuration loaded');
try {
  const daemon = await startDaemon(config, { log });
  const sm = serviceManager(process.env, log);
  onShutdown(log, [
    { name: 'ebpf-loader', run: () => daemon.stop() },
    { name: 'service-manager', run: () => sm.notify({ STOPPING: '1' }) },
  ]);
  // Type=notify: ready once the socket serves (its mode set) and earlier objects are adopted.
  sm.notify({ READY: '1', STATUS: `serving ${config.rpc.socket}` });
} catch (err) {
  log.fatal({ err }, 'ebpf-loader cannot start');
  process.exitCode = 1;
}
