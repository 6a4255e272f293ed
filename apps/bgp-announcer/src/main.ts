#!/usr/bin/env node
/**
 * bgp-announcer: `netaccel-bgp-announcer --config /etc/netaccel/bgp-announcer.yaml`.
 * SIGHUP reloads the configuration (a bad one is refused and the running state stays);
 * SIGINT / SIGTERM shut down (Cease to every peer); SIGUSR2 shuts down for a graceful restart
 * (connections closed without NOTIFICATION, so that peers keep the routes, RFC 4724).
 */
import { parseArgs } from 'node:util';
import { ConfigStore, redact } from '@netaccel/config';
import { createLogger, onShutdown } from '@netaccel/telemetry';
import { bgpAnnouncerConfig } from './config.js';
import { Daemon } from './daemon.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const store = await ConfigStore.open(bgpAnnouncerConfig, values.config === undefined ? {} : { file: values.config });
const log = createLogger({ name: 'bgp-announcer', level: store.current.logLevel });
log.info({ config: redact(store.current) }, 'configuration loaded');
const daemon = await Daemon.start(store.current, { log });
let graceful = false;
store.subscribe((next) => daemon.reconfigure(next));
process.on('SIGHUP', () => {
  daemon.beforeReload();
  store.reload().then(
    // The changed paths, not the configurations: those can hold 10,000 routes and secrets.
    (r) => log.info({ component: 'config', changed: r.changed.length, paths: r.changed.slice(0, 20) }, 'configuration reloaded'),
    (err: unknown) => {
      daemon.reloadRefused();
      log.warn({ component: 'config', err }, 'configuration reload refused; the running configuration stays');
    },
  );
});
const shutdown = onShutdown(log, [{ name: 'bgp-announcer', run: () => daemon.stop({ graceful }) }]);
process.on('SIGUSR2', () => {
  graceful = true;
  void shutdown.shutdown('graceful restart');
});
log.info({ peers: daemon.speaker.peers.size }, 'bgp-announcer running');
