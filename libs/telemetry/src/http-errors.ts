/**
 * JSON error answers of the telemetry server, one shape for every failure:
 *
 *   { "statusCode": 503, "code": "NA_ERR_…", "error": "Service Unavailable", "message": "…" }
 *
 * A NetaccelError's HTTP status follows from its kind; fastify's own errors (bad content type,
 * body too large, …) keep their status; anything else is a 500 whose message does not leak
 * internals.
 */
import { STATUS_CODES } from 'node:http';
import { isNetaccelError } from '@netaccel/errors';
import type { ErrorKind } from '@netaccel/errors';
import { telemetryErrors } from './errors.js';

export interface ErrorBody {
  readonly statusCode: number;
  readonly code: string;
  readonly error: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = Object.freeze({
  'invalid-argument': 400,
  'not-found': 404,
  'already-exists': 409,
  'failed-precondition': 400,
  'permission-denied': 403,
  'resource-exhausted': 429,
  unavailable: 503,
  'deadline-exceeded': 504,
  aborted: 409,
  internal: 500,
});

/** The HTTP status for an error kind. */
export function httpStatusOfKind(kind: ErrorKind): number {
  return STATUS_OF_KIND[kind];
}

/** The status code and JSON body answering `err` for `method url`. */
export function errorReply(err: unknown, method: string, url: string): ErrorBody {
  if (isNetaccelError(err)) {
    const statusCode = httpStatusOfKind(err.kind);
    const hasDetails = Object.keys(err.details).length > 0;
    return body(statusCode, err.code, err.message, hasDetails ? err.details : undefined);
  }
  const statusCode = clientStatusOf(err);
  if (statusCode !== undefined) {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'string' ? e.code : 'FST_ERR_BAD_REQUEST';
    return body(statusCode, code, typeof e.message === 'string' ? e.message : STATUS_CODES[statusCode]!);
  }
  const internal = telemetryErrors.NA_ERR_TELEMETRY_REQUEST_FAILED(method, url);
  return body(500, internal.code, internal.message);
}

/** The 4xx status fastify (or a route) put on an error, if any. */
function clientStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

function body(
  statusCode: number,
  code: string,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): ErrorBody {
  const error = STATUS_CODES[statusCode] ?? 'Error';
  return details === undefined ? { statusCode, code, error, message } : { statusCode, code, error, message, details };
}
