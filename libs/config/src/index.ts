// @netaccel/config: typed configuration from a YAML file and NETACCEL_<APP>_<FIELD> overrides.

// Defining an app's configuration
export type { ConfigDefinition, ConfigOf, ConfigSpec, DeepPartial, DeepReadonly } from './define.js';
export { defineConfig } from './define.js';

// Fields for network daemons
export type { CidrOptions, FilePathOptions, LogLevel, PortOptions, RangeOptions } from './fields.js';
export {
  LOG_LEVELS,
  MAX_UNIX_SOCKET_PATH_BYTES,
  byteSize,
  cidr,
  duration,
  filePath,
  holdTime,
  ipAddress,
  ipv4,
  ipv6,
  listenAddress,
  logLevel,
  port,
  unixSocketPath,
} from './fields.js';
export { REDACTED, secret } from './secret.js';

// Loading
export type { LoadConfigOptions, ParseConfigOptions } from './load.js';
export { loadConfig, parseConfig } from './load.js';
export type { Env } from './env.js';
export { envPrefix, envVariableFor, fieldEnvName } from './env.js';

// The running configuration
export type { ConfigListener, ConfigStoreOptions, ConfigWatcher, ReloadOptions, ReloadResult, WatchOptions } from './store.js';
export { ConfigStore } from './store.js';

// Logging
export { redact } from './redact.js';

// Problems
export type { ConfigIssue, IssueSource } from './format-issues.js';
export { formatPath, issueLine } from './format-issues.js';
export type { YamlSyntaxError } from './yaml-source.js';
export {
  NA_ERR_CONFIG_DEFINITION,
  NA_ERR_CONFIG_ENV,
  NA_ERR_CONFIG_FILE_NOT_FOUND,
  NA_ERR_CONFIG_INVALID,
  NA_ERR_CONFIG_PARSE,
  NA_ERR_CONFIG_READ,
  NA_ERR_CONFIG_WATCH,
  configErrors,
} from './errors.js';

// Units and addresses, for code that handles the same values outside a configuration
export { formatByteSize, formatDuration, parseByteSize, parseDuration } from './units.js';
export type { ListenAddress } from './net-addr.js';
export { parseListenAddress } from './net-addr.js';
