#!/usr/bin/env node
/**
 * sidecar-offload: `netaccel-sidecar-offload --config /etc/netaccel/sidecar-offload.yaml`, on the
 * daemon host (@netaccel/daemon). SIGHUP reloads the configuration (a bad one is refused whole
 * and the running state stays); SIGINT / SIGTERM shut down gracefully (GOAWAY to every client,
 * calls in flight finish up to sidecar.drainTimeout). Under systemd (`Type=notify`) it says
 * READY=1 once its listeners and socket serve, RELOADING=1 … READY=1 around a reload and
 * STOPPING=1 when it shuts down.
 */
import { runDaemon } from '@netaccel/daemon';
import { sidecarOffload } from './daemon.js';

await runDaemon(sidecarOffload());
