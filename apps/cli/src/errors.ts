/** Errors of the netaccel CLI (NA_ERR_CLI_*), documented in apps/cli/README.md. */
import { defineError } from '@netaccel/errors';

export const NA_ERR_CLI_USAGE = defineError('NA_ERR_CLI_USAGE', '%s', 'invalid-argument');
export const NA_ERR_CLI_DAEMON_DOWN = defineError(
  'NA_ERR_CLI_DAEMON_DOWN',
  '%s is not running: %s. Start it with: %s',
  'unavailable',
);

/** A socket path given by --socket or NETACCEL_<DAEMON>_SOCKET does not exist. */
export const NA_ERR_CLI_SOCKET_MISSING = defineError('NA_ERR_CLI_SOCKET_MISSING', 'no such socket: %s (%s); %s', 'not-found');

/** The path exists but is a directory or a file, not a Unix socket. */
export const NA_ERR_CLI_NOT_A_SOCKET = defineError('NA_ERR_CLI_NOT_A_SOCKET', '%s is %s, not a socket (%s); %s', 'invalid-argument');

/** A socket given by --socket or the environment exists but nobody listens on it. */
export const NA_ERR_CLI_NOT_LISTENING = defineError('NA_ERR_CLI_NOT_LISTENING', 'nobody is listening on %s (%s): the daemon that made it has exited; %s', 'unavailable');

/** The socket answers, but it is another daemon's. */
export const NA_ERR_CLI_WRONG_DAEMON = defineError('NA_ERR_CLI_WRONG_DAEMON', '%s serves %s, not %s (%s); %s', 'invalid-argument');

export const NA_ERR_CLI_DAEMON_DENIED = defineError(
  'NA_ERR_CLI_DAEMON_DENIED',
  '%s refused this user: permission denied on %s (owner %s, group %s, mode %s). Run as root or as a member of group %s',
  'permission-denied',
);

/** `netaccel lab env` (or another command that needs the kept lab) without one running. */
export const NA_ERR_CLI_NO_LAB = defineError('NA_ERR_CLI_NO_LAB', 'no lab is running (start one with: sudo netaccel lab --keep)', 'failed-precondition');

export const cliErrors = {
  NA_ERR_CLI_USAGE,
  NA_ERR_CLI_DAEMON_DOWN,
  NA_ERR_CLI_DAEMON_DENIED,
  NA_ERR_CLI_SOCKET_MISSING,
  NA_ERR_CLI_NOT_A_SOCKET,
  NA_ERR_CLI_NOT_LISTENING,
  NA_ERR_CLI_WRONG_DAEMON,
  NA_ERR_CLI_NO_LAB,
} as const;
