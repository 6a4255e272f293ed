#!/usr/bin/env node
/**
 * ebpf-loader: `netaccel-ebpf-loader --config /etc/netaccel/ebpf-loader.yaml`, on the daemon host
 * (@netaccel/daemon). SIGINT / SIGTERM stop the servers; programs stay loaded and attached (so
 * does a crash), and the next start adopts them. Under systemd (`Type=notify`) it says READY=1
 * once its socket serves, STOPPING=1 when it shuts down. SIGHUP re-reads the configuration: the
 * loader takes it at start only, so a changed one is refused (restart to apply it).
 */
import { runDaemon } from '@netaccel/daemon';
import { ebpfLoader } from './daemon.js';

await runDaemon(ebpfLoader());
