#!/usr/bin/env node
/**
 * lb-controller: `netaccel-lb-controller --config /etc/netaccel/lb-controller.yaml`, on the daemon
 * host (@netaccel/daemon). SIGINT / SIGTERM: withdraw the VIPs, stop serving; the data plane keeps
 * forwarding (with the loader, its programs and maps stay pinned). The services come from the
 * configured source (whose own changes it follows). Under systemd (`Type=notify`) it says READY=1
 * once the first tables are written and its socket serves, STOPPING=1 when it shuts down. SIGHUP
 * re-reads its own configuration: it takes it at start only, so a changed one is refused.
 */
import { runDaemon } from '@netaccel/daemon';
import { lbController } from './daemon.js';

await runDaemon(lbController());
