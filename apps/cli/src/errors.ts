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

export const cliErrors = {
  NA_ERR_CLI_USAGE,
  NA_ERR_CLI_DAEMON_DOWN,
  NA_ERR_CLI_DAEMON_DENIED,
} as const;
