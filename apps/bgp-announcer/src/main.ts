#!/usr/bin/env node
/**
 * bgp-announcer: `netaccel-bgp-announcer --config /etc/netaccel/bgp-announcer.yaml`, on the daemon
 * host (@netaccel/daemon). SIGHUP reloads the configuration (a bad one is refused whole and the
 * running state stays); SIGINT / SIGTERM shut down (Cease to every peer); SIGUSR2 shuts down for a
 * graceful restart (connections closed without NOTIFICATION, so that peers keep the routes, RFC
 * 4724). Under systemd (`Type=notify`) it says READY=1 once its socket serves, RELOADING=1 …
 * READY=1 around a reload and STOPPING=1 when it shuts down.
 */
import { runDaemon } from '@netaccel/daemon';
import { bgpAnnouncer } from './daemon.js';

await runDaemon(bgpAnnouncer());
