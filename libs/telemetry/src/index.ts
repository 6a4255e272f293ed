// Logging
export { DEFAULT_REDACT_PATHS, LOG_LEVELS, REDACTED, childLogger, createLogger, resolveLoggerOptions, wantsPretty } from './logger.js';
export type { DestinationStream, LogLevel, Logger, LoggerOptions, ResolvedLoggerOptions } from './logger.js';
export { createLogCapture, parseNdjson } from './log-capture.js';
export type { LogCapture, LogRecord } from './log-capture.js';

// Metrics
export { createMetrics, resolveMetricsOptions } from './metrics.js';
export type { GaugeSpec, HistogramSpec, MetricSpec, Metrics, MetricsOptions, ResolvedMetricsOptions, SampledCounterSpec } from './metrics.js';
export { PROM_CLIENT_LINT_EXCEPTIONS, lintExposition, parseExposition } from './exposition.js';
export type { ExpositionFamily, ExpositionSample, LintProblem } from './exposition.js';
export { UNMATCHED_ROUTE } from './http-metrics.js';

// Telemetry server
export { buildTelemetryServer } from './server.js';
export type {
  CloseResult,
  ResolvedTelemetryServerOptions,
  StatusProvider,
  TelemetryServer,
  TelemetryServerOptions,
} from './server.js';
export { MAX_UNIX_PATH_BYTES, resolveListenOptions } from './listen-address.js';
export type { BoundAddress, ListenOptions, TcpListenOptions, UnixListenOptions } from './listen-address.js';
export { MAX_CHECK_TIMEOUT_MS, Readiness } from './readiness.js';
export type {
  CheckReport,
  ReadinessCheck,
  ReadinessCheckOptions,
  ReadinessOptions,
  ReadinessReport,
  ReadinessResult,
} from './readiness.js';
export { errorReply, httpStatusOfKind } from './http-errors.js';
export type { ErrorBody } from './http-errors.js';

// Shutdown
export { onShutdown } from './shutdown.js';
export type {
  ResolvedShutdownOptions,
  ShutdownController,
  ShutdownFn,
  ShutdownHandler,
  ShutdownOptions,
  SignalSource,
} from './shutdown.js';

// Errors
export { telemetryErrors } from './errors.js';
export type { TelemetryErrorCode } from './errors.js';

// Service manager (sd_notify)
export { monotonicUsec, notifyAddress, notifyMessage, serviceManager } from './service-manager.js';
export type { ServiceManager } from './service-manager.js';
export { notifyReceiver } from './notify-receiver.js';
export type { NotifyReceiver } from './notify-receiver.js';

// Native calls (koffi, loaded on first use)
export { lazyLibrary } from './native-library.js';
export type { LazyLibrary } from './native-library.js';
