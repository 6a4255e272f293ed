/** Errors of the netaccel CLI (NA_ERR_CLI_*), documented in apps/cli/README.md. */
import { defineError } from '@netaccel/errors';

export const NA_ERR_CLI_USAGE = defineError('NA_ERR_CLI_USAGE', '%s', 'invalid-argument');
export const NA_ERR_CLI_DAEMON_DOWN = defineError(
  'NA_ERR_CLI_DAEMON_DOWN',
  '%s is not running (tried %s). Start it with: %s',
  'unavailable',
);

export const NA_ERR_CLI_DAEMON_DENIED = defineError(
  'NA_ERR_CLI_DAEMON_DENIED',
  '%s refused this user: permission denied on %s (owner %s, group %s, mode %s). Run as root or as a member of group %s',
  'permission-denied',
);
export const NA_ERR_CLI_LAB_STEP = defineError('NA_ERR_CLI_LAB_STEP', 'lab step %s failed: %s; read %s', 'internal');
export const NA_ERR_CLI_LAB_BUSY = defineError(
  'NA_ERR_CLI_LAB_BUSY',
  'another lab is running (run %s, pid %s); wait for it to finish, or stop it and run: netaccel lab down',
  'failed-precondition',
);
export const NA_ERR_CLI_LAB_NOT_BUILT = defineError(
  'NA_ERR_CLI_LAB_NOT_BUILT',
  'the lab starts the built daemons, and %s is missing; build first: make setup',
  'failed-precondition',
);
export const NA_ERR_CLI_LAB_CHECK = defineError('NA_ERR_CLI_LAB_CHECK', 'the lab did not behave as it should: %s', 'internal');

export const cliErrors = {
  NA_ERR_CLI_USAGE,
  NA_ERR_CLI_DAEMON_DOWN,
  NA_ERR_CLI_DAEMON_DENIED,
  NA_ERR_CLI_LAB_STEP,
  NA_ERR_CLI_LAB_BUSY,
  NA_ERR_CLI_LAB_NOT_BUILT,
  NA_ERR_CLI_LAB_CHECK,
} as const;
