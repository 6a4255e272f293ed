/**
 * The error registry of @netaccel/config. Every code is documented in the package README (a test
 * checks it). Messages of the content errors (INVALID, ENV) are the problem lines themselves, one
 * per line, each starting with the path of the bad field or the name of the bad variable.
 */
import { defineError } from '@netaccel/errors';

/** The configuration does not match the schema; `details.issues` lists every problem. */
export const NA_ERR_CONFIG_INVALID = defineError('NA_ERR_CONFIG_INVALID', '%s', 'invalid-argument');

/**
 * One or more `NETACCEL_<APP>_*` variables name no field or cannot be parsed. `details.issues`
 * lists those problems and any schema problems of the rest of the configuration.
 */
export const NA_ERR_CONFIG_ENV = defineError('NA_ERR_CONFIG_ENV', '%s', 'invalid-argument');

/** The file is not valid YAML; `details.errors` has line and column of each syntax error. */
export const NA_ERR_CONFIG_PARSE = defineError('NA_ERR_CONFIG_PARSE', 'cannot parse %s: %s', 'invalid-argument');

/** The configuration file does not exist. */
export const NA_ERR_CONFIG_FILE_NOT_FOUND = defineError(
  'NA_ERR_CONFIG_FILE_NOT_FOUND',
  'configuration file %s does not exist',
  'not-found',
);

/** The configuration file exists but cannot be read (permissions, a directory, I/O error). */
export const NA_ERR_CONFIG_READ = defineError('NA_ERR_CONFIG_READ', 'cannot read configuration file %s: %s', 'failed-precondition');

/** A `defineConfig` call is wrong (bad app name, non-strict object, a default naming no field): a bug. */
export const NA_ERR_CONFIG_DEFINITION = defineError('NA_ERR_CONFIG_DEFINITION', 'configuration of %s is defined wrongly: %s', 'internal');

/** A store cannot watch its file (no file configured, or the folder cannot be watched). */
export const NA_ERR_CONFIG_WATCH = defineError('NA_ERR_CONFIG_WATCH', 'cannot watch configuration of %s: %s', 'failed-precondition');

export const configErrors = {
  NA_ERR_CONFIG_INVALID,
  NA_ERR_CONFIG_ENV,
  NA_ERR_CONFIG_PARSE,
  NA_ERR_CONFIG_FILE_NOT_FOUND,
  NA_ERR_CONFIG_READ,
  NA_ERR_CONFIG_DEFINITION,
  NA_ERR_CONFIG_WATCH,
} as const;
