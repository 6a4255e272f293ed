/**
 * The one mapping between netaccel error kinds and gRPC status codes, both ways, and the
 * conversions built on it: a thrown error into the status a server sends, and a failed call's
 * status into the typed RpcError a client throws.
 *
 * On the wire a failed call carries: the status code (from the error's kind), the error's
 * message as the status details, its NA_ERR code in the `netaccel-error-code` metadata and, when
 * small enough, its structured details as JSON in `netaccel-error-details-bin`.
 */
import { Metadata, status as Status } from '@grpc/grpc-js';
import type { ServiceError, StatusObject } from '@grpc/grpc-js';
import { NetaccelError, isNetaccelError } from '@netaccel/errors';
import type { ErrorKind, NetaccelErrorOptions } from '@netaccel/errors';
import { NA_ERR_RPC_INTERNAL } from './errors.js';

/** Metadata key of the NA_ERR code of a failed call. */
export const ERROR_CODE_METADATA = 'netaccel-error-code';
/** Metadata key of the JSON of a failed call's details (binary header: any UTF-8 is fine). */
export const ERROR_DETAILS_METADATA = 'netaccel-error-details-bin';
/** Details larger than this (bytes of JSON) are not sent; the daemon's log has them. */
const MAX_DETAILS_BYTES = 4096;

/** THE table: the gRPC status code of each error kind. */
export const STATUS_OF_KIND: Readonly<Record<ErrorKind, Status>> = Object.freeze({
  'invalid-argument': Status.INVALID_ARGUMENT,
  'not-found': Status.NOT_FOUND,
  'already-exists': Status.ALREADY_EXISTS,
  'failed-precondition': Status.FAILED_PRECONDITION,
  'permission-denied': Status.PERMISSION_DENIED,
  'resource-exhausted': Status.RESOURCE_EXHAUSTED,
  unavailable: Status.UNAVAILABLE,
  'deadline-exceeded': Status.DEADLINE_EXCEEDED,
  aborted: Status.ABORTED,
  internal: Status.INTERNAL,
});

/** Kinds of the status codes no kind maps to (a non-netaccel server may send them). */
const EXTRA_KINDS: ReadonlyMap<Status, ErrorKind> = new Map<Status, ErrorKind>([
  [Status.CANCELLED, 'aborted'],
  [Status.UNKNOWN, 'internal'],
  [Status.OUT_OF_RANGE, 'invalid-argument'],
  [Status.UNIMPLEMENTED, 'failed-precondition'],
  [Status.UNAUTHENTICATED, 'permission-denied'],
  [Status.DATA_LOSS, 'internal'],
]);

/** The reverse of STATUS_OF_KIND (it is one-to-one), plus the statuses no kind produces. */
const KIND_OF_STATUS: ReadonlyMap<Status, ErrorKind> = new Map<Status, ErrorKind>([
  ...(Object.entries(STATUS_OF_KIND) as [ErrorKind, Status][]).map(([kind, code]): [Status, ErrorKind] => [code, kind]),
  ...EXTRA_KINDS,
]);

export function statusOfKind(kind: ErrorKind): Status {
  return STATUS_OF_KIND[kind];
}

export function kindOfStatus(code: Status): ErrorKind {
  return KIND_OF_STATUS.get(code) ?? 'internal';
}

/** "NOT_FOUND" for 5. */
export function statusName(code: Status): string {
  return Status[code] ?? `STATUS_${code}`;
}

/** Where a call went: for messages, logs and metrics. */
export interface CallSite {
  /** Fully qualified service name, `netaccel.loader.v1.Loader`. */
  readonly service: string;
  /** Method name as in the .proto, `LoadObject`. */
  readonly method: string;
}

/** "Loader.LoadObject": the short form used in messages. */
export function callName(site: CallSite): string {
  const short = site.service.slice(site.service.lastIndexOf('.') + 1);
  return `${short}.${site.method}`;
}

/** Splits a grpc-js method path, "/netaccel.loader.v1.Loader/LoadObject". */
export function splitPath(path: string): CallSite {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (m === null) return { service: path, method: '' };
  return { service: m[1]!, method: m[2]! };
}

/** The error a server sends for `err`, and the NA_ERR code it carries. */
export interface ServerFailure {
  readonly error: Partial<StatusObject> & { code: Status; details: string; metadata: Metadata };
  readonly naCode: string;
  /** True when `err` was not a NetaccelError: a bug, to be logged with its stack. */
  readonly unexpected: boolean;
}

/** Maps a thrown value to the status a server answers with. */
export function toServerFailure(err: unknown, site: CallSite): ServerFailure {
  const metadata = new Metadata();
  if (isNetaccelError(err)) {
    metadata.set(ERROR_CODE_METADATA, err.code);
    const details = detailsJson(err.details);
    if (details !== undefined) metadata.set(ERROR_DETAILS_METADATA, details);
    return { error: { code: statusOfKind(err.kind), details: err.message, metadata }, naCode: err.code, unexpected: false };
  }
  const generic = NA_ERR_RPC_INTERNAL(callName(site));
  metadata.set(ERROR_CODE_METADATA, generic.code);
  return { error: { code: Status.INTERNAL, details: generic.message, metadata }, naCode: generic.code, unexpected: true };
}

function detailsJson(details: Readonly<Record<string, unknown>>): Buffer | undefined {
  if (Object.keys(details).length === 0) return undefined;
  let json: string;
  try {
    json = JSON.stringify(details, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  } catch {
    return undefined; // circular: the log has them
  }
  const buf = Buffer.from(json, 'utf8');
  return buf.length <= MAX_DETAILS_BYTES ? buf : undefined;
}

/** What an RpcError knows about the call besides code, kind and message. */
export interface RpcErrorInfo extends CallSite {
  /** The gRPC status code of the failed call. */
  readonly grpcCode: Status;
  /** Where the client tried: the socket path or host:port. */
  readonly target: string;
  /** True when the NA_ERR code came from the server (the handler's error), false when the client made it up. */
  readonly remote: boolean;
}

/**
 * A failed call, as a client sees it. `code` is the server's NA_ERR code when it sent one (so
 * `NA_ERR_LOADER_MAP_NOT_FOUND.is(err)` works across the wire), otherwise one of the
 * NA_ERR_RPC_* codes. Thrown by a handler, it maps back to the same status and code.
 */
export class RpcError extends NetaccelError {
  readonly grpcCode: Status;
  readonly service: string;
  readonly method: string;
  readonly target: string;
  readonly remote: boolean;

  constructor(code: string, kind: ErrorKind, message: string, info: RpcErrorInfo, opts: NetaccelErrorOptions = {}) {
    super({ code, kind, template: message }, message, opts);
    this.name = 'RpcError';
    this.grpcCode = info.grpcCode;
    this.service = info.service;
    this.method = info.method;
    this.target = info.target;
    this.remote = info.remote;
  }

  /** The gRPC status name, "NOT_FOUND". */
  get grpcCodeName(): string {
    return statusName(this.grpcCode);
  }

  /** An RpcError with the code, kind, message and details of a locally made NetaccelError. */
  static fromLocal(err: NetaccelError, info: Omit<RpcErrorInfo, 'remote'>, cause?: unknown): RpcError {
    return new RpcError(err.code, err.kind, err.message, { ...info, remote: false }, { cause, details: err.details });
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), grpcCode: this.grpcCodeName, service: this.service, method: this.method, target: this.target, remote: this.remote };
  }
}

export function isRpcError(err: unknown): err is RpcError {
  return err instanceof RpcError;
}

const NA_CODE_RE = /^NA_ERR_[A-Z0-9]+(_[A-Z0-9]+)+$/;

/** The NA_ERR code and details a server put in the metadata of a failed call, if any. */
export function remoteErrorOf(err: ServiceError): { code: string; details: Record<string, unknown> } | undefined {
  const md = err.metadata as Metadata | undefined;
  if (md === undefined || typeof md.get !== 'function') return undefined;
  const code = md.get(ERROR_CODE_METADATA)[0];
  if (typeof code !== 'string' || !NA_CODE_RE.test(code)) return undefined;
  let details: Record<string, unknown> = {};
  const raw = md.get(ERROR_DETAILS_METADATA)[0];
  if (Buffer.isBuffer(raw)) {
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) details = parsed as Record<string, unknown>;
    } catch {
      // malformed details are dropped; code and message still stand
    }
  }
  return { code, details };
}

/** True for what grpc-js hands a failed call's callback. */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}
