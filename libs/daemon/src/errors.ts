/**
 * The error registry of `@netaccel/daemon`. Every code is documented in the package README
 * (checked by `errors.test.ts`).
 */
import { defineError } from '@netaccel/errors';

/** A daemon without a reload hook was asked to take a changed configuration: refused, it runs on. */
export const NA_ERR_DAEMON_RELOAD_UNSUPPORTED = defineError(
  'NA_ERR_DAEMON_RELOAD_UNSUPPORTED',
  '%s takes its configuration at start only; restart it to apply the change of %s',
  'failed-precondition',
);

/** Something was registered on (or started through) a host that is closing or closed. */
export const NA_ERR_DAEMON_CLOSED = defineError('NA_ERR_DAEMON_CLOSED', 'the %s host is closed: %s', 'failed-precondition');

/** One or more close hooks failed; each is logged, `details.hooks` names them. */
export const NA_ERR_DAEMON_CLOSE_FAILED = defineError('NA_ERR_DAEMON_CLOSE_FAILED', '%s did not close cleanly: %s failed', 'internal');

/** An option of the host or a command-line argument of a daemon is malformed. */
export const NA_ERR_DAEMON_OPTIONS_INVALID = defineError('NA_ERR_DAEMON_OPTIONS_INVALID', '%s: %s', 'invalid-argument');

/** The version of a daemon cannot be read from its package.json. */
export const NA_ERR_DAEMON_VERSION = defineError('NA_ERR_DAEMON_VERSION', 'cannot read the version of %s: %s', 'internal');

export const daemonErrors = {
  NA_ERR_DAEMON_RELOAD_UNSUPPORTED,
  NA_ERR_DAEMON_CLOSED,
  NA_ERR_DAEMON_CLOSE_FAILED,
  NA_ERR_DAEMON_OPTIONS_INVALID,
  NA_ERR_DAEMON_VERSION,
} as const;
