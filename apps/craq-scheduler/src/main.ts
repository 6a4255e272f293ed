#!/usr/bin/env node
/**
 * craq-scheduler: `netaccel-craq-scheduler --config /etc/netaccel/craq-scheduler.yaml`, on the
 * daemon host (@netaccel/daemon). SIGHUP reloads the configuration (refused whole when bad);
 * SIGINT / SIGTERM shut down (pending write-backs flushed to etcd first).
 */
import { runDaemon } from '@netaccel/daemon';
import { craqScheduler } from './daemon.js';

await runDaemon(craqScheduler());
