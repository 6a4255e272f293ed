#!/usr/bin/env node
/**
 * bgp-announcer: `netaccel-bgp-announcer --config /etc/netaccel/bgp-announcer.yaml`.
 * SIGHUP reloads the configuration (a bad one is refused and the running state stays);
 * SIGINT / SIGTERM shut down (Cease to every peer); SIGUSR2 shuts down for a graceful restart
 * (connections closed without NOTIFICATION, so that peers keep the routes, RFC 4724). Under
 * systemd (`Type=notify`) it says READY=1 once its socket serves, RELOADING=1 … READY=1 around a
 * reload and STOPPING=1 when it shuts down.
 */
import { parseArgs } from 'node:util';
import { ConfigStore, redact } from '@netaccel/config';
import { createLogger, monotonicUsec, onShutdown, serviceManager } from '@netaccel/telemetry';
import { bgpAnnouncerConfig } from './config.js';
import { Daemon } from './daemon.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const store = await ConfigStore.open(bgpAnnouncerConfig, values.config === undefined ? {} : { file: values.config });
const log = createLogger({ name: 'bgp-announcer', level: store.current.logLevel });
log.info({ config: redact(store.current) }, 'configuration loaded');
const daemon = await Daemon.start(store.current, { log });
const sm = serviceManager(process.env, log);
const status = (): string => `${daemon.speaker.peers.size} peers`;
let graceful = false;
store.subscribe((next) => daemon.reconfigure(next));
process.on('SIGHUP', () => {
  daemon.beforeReload();
  sm.notify({ RELOADING: '1', MONOTONIC_USEC: monotonicUsec(), STATUS: 'reloading the configuration' });
  store.reload().then(
    // The changed paths, not the configurations: those can hold 10,000 routes and secrets.
    (r) => {
      log.info({ component: 'config', changed: r.changed.length, paths: r.changed.slice(0, 20) }, 'configuration reloaded');
      sm.notify({ READY: '1', STATUS: status() });
    },
    (err: unknown) => {
      daemon.reloadRefused();
      log.warn({ component: 'config', err }, 'configuration reload refused; the running configuration stays');
      sm.notify({ READY: '1', STATUS: `${status()}; the last reload was refused (see the journal)` });
    },
  );
});
const shutdown = onShutdown(log, [
  { name: 'bgp-announcer', run: () => daemon.stop({ graceful }) },
  { name: 'service-manager', run: () => sm.notify({ STOPPING: '1' }) },
]);
process.on('SIGUSR2', () => {
  graceful = true;
  void shutdown.shutdown('graceful restart');
});
log.info({ peers: daemon.speaker.peers.size }, 'bgp-announcer running');
sm.notify({ READY: '1', STATUS: status() }); // Type=notify: ready once its socket serves
