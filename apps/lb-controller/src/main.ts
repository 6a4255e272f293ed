#!/usr/bin/env node
/**
 * lb-controller: `netaccel-lb-controller --config /etc/netaccel/lb-controller.yaml`.
 * SIGINT / SIGTERM: withdraw the VIPs, stop serving; the data plane keeps forwarding (with the
 * loader, its programs and maps stay pinned). The services come from the configured source.
 * Under systemd (`Type=notify`) it says READY=1 once the first tables are written and its
 * socket serves, STOPPING=1 when it shuts down.
 */
import { parseArgs } from 'node:util';
import { loadConfig, redact } from '@netaccel/config';
import { createLogger, onShutdown, serviceManager } from '@netaccel/telemetry';
import { lbControllerConfig } from './config.js';
import { Daemon } from './daemon.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const config = await loadConfig(lbControllerConfig, values.config === undefined ? {} : { file: values.config });
const log = createLogger({ name: 'lb-controller', level: config.logLevel });
log.info({ config: redact(config) }, 'configuration loaded');
const daemon = await Daemon.start(config, { log });
const sm = serviceManager(process.env, log);
onShutdown(log, [
  { name: 'lb-controller', run: () => daemon.stop() },
  { name: 'service-manager', run: () => sm.notify({ STOPPING: '1' }) },
]);
log.info({ services: daemon.reconciler.services.size, grpc: config.grpc.socket }, 'lb-controller running');
// Type=notify: ready once the tables are written and the socket serves.
sm.notify({ READY: '1', STATUS: `${daemon.reconciler.services.size} services; ${daemon.dataPlane.describe}; serving ${config.grpc.socket}` });
