// @netaccel/daemon: the host every netaccel daemon runs on.

// The host
export { DaemonHost } from './host.js';
export type { CloseHook, DaemonApp, DaemonHostOptions, GrpcOptions, ReloadHook, ReloadOutcome, TelemetryOptions } from './host.js';

// A daemon's main.ts
export { runDaemon } from './run.js';
export type { DaemonSpec, RunOptions, RunningDaemon } from './run.js';

// The version
export { packageOf, packageVersion } from './version.js';

// Errors
export {
  NA_ERR_DAEMON_CLOSED,
  NA_ERR_DAEMON_CLOSE_FAILED,
  NA_ERR_DAEMON_OPTIONS_INVALID,
  NA_ERR_DAEMON_RELOAD_UNSUPPORTED,
  NA_ERR_DAEMON_VERSION,
  daemonErrors,
} from './errors.js';
