/**
 * The error registry of `@netaccel/telemetry`. Every error the package throws or logs is made
 * here, with a stable code documented in the package README (checked by `errors.test.ts`).
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

export const telemetryErrors = Object.freeze({
  /** An option of a logger, metrics registry, server or shutdown helper is malformed. */
  NA_ERR_TELEMETRY_OPTIONS_INVALID: defineError('NA_ERR_TELEMETRY_OPTIONS_INVALID', '%s: %s', 'invalid-argument'),
  /** `listen` is neither a valid `{ host, port }` nor a valid `{ path }`. */
  NA_ERR_TELEMETRY_LISTEN_ADDRESS_INVALID: defineError(
    'NA_ERR_TELEMETRY_LISTEN_ADDRESS_INVALID',
    '%s: %s',
    'invalid-argument',
  ),
  NA_ERR_TELEMETRY_LISTEN_ADDRESS_IN_USE: defineError(
    'NA_ERR_TELEMETRY_LISTEN_ADDRESS_IN_USE',
    'cannot listen on %s: address already in use',
    'unavailable',
  ),
  NA_ERR_TELEMETRY_LISTEN_PERMISSION_DENIED: defineError(
    'NA_ERR_TELEMETRY_LISTEN_PERMISSION_DENIED',
    'cannot listen on %s: permission denied',
    'permission-denied',
  ),
  NA_ERR_TELEMETRY_LISTEN_FAILED: defineError('NA_ERR_TELEMETRY_LISTEN_FAILED', 'cannot listen on %s: %s', 'unavailable'),
  NA_ERR_TELEMETRY_ALREADY_LISTENING: defineError(
    'NA_ERR_TELEMETRY_ALREADY_LISTENING',
    'the telemetry server is already listening on %s',
    'failed-precondition',
  ),
  NA_ERR_TELEMETRY_SERVER_CLOSED: defineError(
    'NA_ERR_TELEMETRY_SERVER_CLOSED',
    'the telemetry server is closed; build a new one',
    'failed-precondition',
  ),
  NA_ERR_TELEMETRY_CLOSE_TIMEOUT: defineError(
    'NA_ERR_TELEMETRY_CLOSE_TIMEOUT',
    'in-flight requests did not finish within %d ms; their connections were cut',
    'deadline-exceeded',
  ),
  NA_ERR_TELEMETRY_METRIC_DUPLICATE: defineError(
    'NA_ERR_TELEMETRY_METRIC_DUPLICATE',
    'metric %s is already registered',
    'already-exists',
  ),
  NA_ERR_TELEMETRY_READINESS_CHECK_DUPLICATE: defineError(
    'NA_ERR_TELEMETRY_READINESS_CHECK_DUPLICATE',
    'readiness check %s is already registered',
    'already-exists',
  ),
  NA_ERR_TELEMETRY_READINESS_CHECK_TIMEOUT: defineError(
    'NA_ERR_TELEMETRY_READINESS_CHECK_TIMEOUT',
    'readiness check %s did not answer within %d ms',
    'deadline-exceeded',
  ),
  NA_ERR_TELEMETRY_STATUS_FAILED: defineError('NA_ERR_TELEMETRY_STATUS_FAILED', 'status provider failed: %s', 'internal'),
  NA_ERR_TELEMETRY_STATUS_TIMEOUT: defineError(
    'NA_ERR_TELEMETRY_STATUS_TIMEOUT',
    'status provider did not answer within %d ms',
    'deadline-exceeded',
  ),
  NA_ERR_TELEMETRY_ROUTE_NOT_FOUND: defineError('NA_ERR_TELEMETRY_ROUTE_NOT_FOUND', 'route %s %s not found', 'not-found'),
  NA_ERR_TELEMETRY_REQUEST_FAILED: defineError(
    'NA_ERR_TELEMETRY_REQUEST_FAILED',
    'internal error while handling %s %s',
    'internal',
  ),
  NA_ERR_TELEMETRY_SHUTDOWN_HANDLER_FAILED: defineError(
    'NA_ERR_TELEMETRY_SHUTDOWN_HANDLER_FAILED',
    'shutdown handler %s failed: %s',
    'internal',
  ),
  NA_ERR_TELEMETRY_SHUTDOWN_TIMEOUT: defineError(
    'NA_ERR_TELEMETRY_SHUTDOWN_TIMEOUT',
    'shutdown did not finish within %d ms',
    'deadline-exceeded',
  ),
  /** A message to the service manager (`$NOTIFY_SOCKET`, sd_notify(3)) could not be sent or is malformed. */
  NA_ERR_TELEMETRY_NOTIFY_FAILED: defineError('NA_ERR_TELEMETRY_NOTIFY_FAILED', 'cannot notify the service manager (%s): %s', 'unavailable'),
  /** A receiver of service-manager messages (notifyReceiver, for tests) could not be bound. */
  NA_ERR_TELEMETRY_NOTIFY_LISTEN: defineError('NA_ERR_TELEMETRY_NOTIFY_LISTEN', 'cannot receive service-manager messages on %s: %s', 'unavailable'),
} satisfies ErrorRegistry);

export type TelemetryErrorCode = keyof typeof telemetryErrors;
