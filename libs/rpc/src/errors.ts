/**
 * Error registry of @netaccel/rpc. Every code is documented in the package README (a test
 * checks it). Errors of the other packages travel over gRPC unchanged: their kind picks the
 * status code (status.ts) and their NA_ERR code rides in the `netaccel-error-code` metadata.
 */
import { defineError } from '@netaccel/errors';

// --- configuration: addresses, TLS, options ------------------------------------------------

/** An address that is neither a Unix socket path nor host:port; names the field and the input. */
export const NA_ERR_RPC_BAD_ADDRESS = defineError('NA_ERR_RPC_BAD_ADDRESS', '%s: %s, got %j', 'invalid-argument');

/** An option of createRpcServer / createRpcClient that is malformed; starts with its path. */
export const NA_ERR_RPC_INVALID_OPTIONS = defineError('NA_ERR_RPC_INVALID_OPTIONS', '%s: %s', 'invalid-argument');

/** A TLS file (ca, cert, key) that cannot be read. */
export const NA_ERR_RPC_TLS_FILE = defineError('NA_ERR_RPC_TLS_FILE', 'tls.%s: cannot read %s: %s', 'invalid-argument');

/** A TCP address without TLS, unless allowInsecureTcp says so. */
export const NA_ERR_RPC_TLS_REQUIRED = defineError(
  'NA_ERR_RPC_TLS_REQUIRED',
  'address %s is TCP: configure tls (ca, cert, key) or set allowInsecureTcp (tests on loopback only)',
  'invalid-argument',
);

/** socketGroup names a group that /etc/group does not have. */
export const NA_ERR_RPC_UNKNOWN_GROUP = defineError('NA_ERR_RPC_UNKNOWN_GROUP', 'socketGroup: no group named %j in %s', 'invalid-argument');

// --- binding and shutting down -----------------------------------------------------------------

/** A live server already listens on the Unix socket. */
export const NA_ERR_RPC_SOCKET_IN_USE = defineError(
  'NA_ERR_RPC_SOCKET_IN_USE',
  'another server is listening on %s; stop it first (is the daemon already running?)',
  'already-exists',
);

/** The socket path exists and is not a socket (or cannot be probed); it is never removed. */
export const NA_ERR_RPC_SOCKET_PATH_TAKEN = defineError('NA_ERR_RPC_SOCKET_PATH_TAKEN', '%s: %s; refusing to replace it', 'failed-precondition');

/** The socket's mode or group (or its directory) could not be set. */
export const NA_ERR_RPC_SOCKET_PERMISSIONS = defineError('NA_ERR_RPC_SOCKET_PERMISSIONS', 'cannot %s %s: %s', 'permission-denied');

/** grpc-js could not listen on the address. */
export const NA_ERR_RPC_BIND_FAILED = defineError('NA_ERR_RPC_BIND_FAILED', 'cannot listen on %s: %s', 'unavailable');

/** A server-streaming call ended because the server is shutting down. */
export const NA_ERR_RPC_SHUTTING_DOWN = defineError('NA_ERR_RPC_SHUTTING_DOWN', 'the server is shutting down; %s ended', 'unavailable');

// --- calls ---------------------------------------------------------------------------------------

/** A handler threw something that is not a NetaccelError: a bug. The client sees only this. */
export const NA_ERR_RPC_INTERNAL = defineError('NA_ERR_RPC_INTERNAL', 'internal error in %s; the daemon logged the details', 'internal');

/** The client cannot reach the daemon: nothing listens on the socket / port, or TLS failed. */
export const NA_ERR_RPC_UNAVAILABLE = defineError(
  'NA_ERR_RPC_UNAVAILABLE',
  '%s: cannot reach %s (is the daemon running?): %s',
  'unavailable',
);

/** The call's deadline passed before an answer came. */
export const NA_ERR_RPC_DEADLINE_EXCEEDED = defineError('NA_ERR_RPC_DEADLINE_EXCEEDED', '%s: deadline of %d ms exceeded; %s', 'deadline-exceeded');

/** The caller cancelled the call (AbortSignal). */
export const NA_ERR_RPC_CANCELLED = defineError('NA_ERR_RPC_CANCELLED', '%s: cancelled by the caller', 'aborted');

/** The server answered a status without a netaccel error code (not a netaccel server, or UNIMPLEMENTED). */
export const NA_ERR_RPC_CALL_FAILED = defineError('NA_ERR_RPC_CALL_FAILED', '%s: %s from %s: %s', 'internal');

/** A server stream produced items faster than the client read them, beyond the buffer limit. */
export const NA_ERR_RPC_STREAM_OVERFLOW = defineError(
  'NA_ERR_RPC_STREAM_OVERFLOW',
  'stream buffer overflow: more than %d items waiting for a slow reader',
  'resource-exhausted',
);

/** The health service was asked about a service the server does not serve. */
export const NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE = defineError(
  'NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE',
  'health: unknown service %j (known: %s)',
  'not-found',
);

/** The registry, for checkRegistry / undocumentedCodes. */
export const rpcErrors = Object.freeze({
  NA_ERR_RPC_BAD_ADDRESS,
  NA_ERR_RPC_INVALID_OPTIONS,
  NA_ERR_RPC_TLS_FILE,
  NA_ERR_RPC_TLS_REQUIRED,
  NA_ERR_RPC_UNKNOWN_GROUP,
  NA_ERR_RPC_SOCKET_IN_USE,
  NA_ERR_RPC_SOCKET_PATH_TAKEN,
  NA_ERR_RPC_SOCKET_PERMISSIONS,
  NA_ERR_RPC_BIND_FAILED,
  NA_ERR_RPC_SHUTTING_DOWN,
  NA_ERR_RPC_INTERNAL,
  NA_ERR_RPC_UNAVAILABLE,
  NA_ERR_RPC_DEADLINE_EXCEEDED,
  NA_ERR_RPC_CANCELLED,
  NA_ERR_RPC_CALL_FAILED,
  NA_ERR_RPC_STREAM_OVERFLOW,
  NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE,
});
