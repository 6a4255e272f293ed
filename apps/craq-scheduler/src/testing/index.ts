// @netaccel/app-craq-scheduler/testing: the configuration definition (packaging and docker tests
// read it) and an in-process scheduler over user-space reference nodes for the CLI's and
// end-to-end tests (not the XDP data plane).
export { craqSchedulerConfig } from '../config.js';
export type { CraqSchedulerConfig } from '../config.js';
export { startTestScheduler } from './harness.js';
// the daemon itself, for end-to-end tests that start it over real data planes (via loader)
export { CraqDaemon } from '../daemon.js';
export type { TestScheduler, TestSchedulerOptions } from './harness.js';
