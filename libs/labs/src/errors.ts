/**
 * Error registry of @netaccel/labs (NA_ERR_LAB_*). Every code is documented in the package
 * README (a test checks it). A failed step names its number, its title, the cause and the logs to
 * read; a failed check names the claim that did not hold.
 */
import { defineError } from '@netaccel/errors';

/** A scenario step failed: its number and title, the cause, the log files to read. */
export const NA_ERR_LAB_STEP = defineError('NA_ERR_LAB_STEP', 'lab step %s failed: %s; read %s', 'internal');

export const NA_ERR_LAB_BUSY = defineError(
  'NA_ERR_LAB_BUSY',
  'another lab is running (run %s, pid %s); wait for it to finish, or stop it and run: netaccel lab down',
  'failed-precondition',
);

export const NA_ERR_LAB_NOT_BUILT = defineError(
  'NA_ERR_LAB_NOT_BUILT',
  'the lab starts the built daemons, and %s is missing; build first: make setup',
  'failed-precondition',
);

/** What a scenario claims to show did not happen (a route, a spread, a failover, a removal). */
export const NA_ERR_LAB_CHECK = defineError('NA_ERR_LAB_CHECK', 'the lab did not behave as it should: %s', 'internal');

/** A veth pair for a test could not be made or removed; names the `ip` command and its error. */
export const NA_ERR_LAB_VETH_FAILED = defineError('NA_ERR_LAB_VETH_FAILED', '%s failed: %s', 'internal');

/** A lab asked for a number of balancers it cannot build (1 to 4). */
export const NA_ERR_LAB_BALANCERS = defineError('NA_ERR_LAB_BALANCERS', 'balancers: expected a whole number from 1 to %s, got %s', 'invalid-argument');

export const labsErrors = {
  NA_ERR_LAB_STEP,
  NA_ERR_LAB_BUSY,
  NA_ERR_LAB_NOT_BUILT,
  NA_ERR_LAB_CHECK,
  NA_ERR_LAB_VETH_FAILED,
  NA_ERR_LAB_BALANCERS,
} as const;
