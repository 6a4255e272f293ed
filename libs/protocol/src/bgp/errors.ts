/**
 * Error registry of the BGP codecs. Every error a peer's bytes can cause is a
 * `BgpNotificationError`: it carries the NOTIFICATION (code, subcode, data) to send and the RFC
 * 7606 action that applies ('session-reset' errors are thrown; 'treat-as-withdraw' and
 * 'attribute-discard' ones are reported in the UPDATE decode result). Errors of local input (a
 * message to encode, builder options) are plain `NetaccelError`s and are never sent.
 */
import { NetaccelError, defineError } from '@netaccel/errors';
import type { ErrorDefinition, ErrorFactory, ErrorRegistry } from '@netaccel/errors';
import { format } from 'node:util';
import { HeaderSubcode, NotificationCode, OpenSubcode, RouteRefreshSubcode, UpdateSubcode } from './constants.js';

const PEER = 'invalid-argument';

// Message header errors (NOTIFICATION code 1, RFC 4271 §6.1)
export const NA_ERR_BGP_NOT_SYNCHRONIZED = defineError('NA_ERR_BGP_NOT_SYNCHRONIZED', '%s: marker is not sixteen octets of ones', PEER);
export const NA_ERR_BGP_BAD_MESSAGE_LENGTH = defineError('NA_ERR_BGP_BAD_MESSAGE_LENGTH', '%s: length %d is invalid, expected %s', PEER);
export const NA_ERR_BGP_BAD_MESSAGE_TYPE = defineError('NA_ERR_BGP_BAD_MESSAGE_TYPE', '%s: type %d is not %s', PEER);

// OPEN message errors (code 2, RFC 4271 §6.2, RFC 5492, RFC 7607)
export const NA_ERR_BGP_OPEN_MALFORMED = defineError('NA_ERR_BGP_OPEN_MALFORMED', '%s: %s', PEER);
export const NA_ERR_BGP_UNSUPPORTED_VERSION = defineError('NA_ERR_BGP_UNSUPPORTED_VERSION', '%s: version %d is not supported, expected 4', PEER);
export const NA_ERR_BGP_BAD_PEER_AS = defineError('NA_ERR_BGP_BAD_PEER_AS', '%s: AS %d is not acceptable: %s', PEER);
export const NA_ERR_BGP_BAD_BGP_IDENTIFIER = defineError('NA_ERR_BGP_BAD_BGP_IDENTIFIER', '%s: BGP identifier %s is not acceptable: %s', PEER);
export const NA_ERR_BGP_UNSUPPORTED_OPTIONAL_PARAMETER = defineError('NA_ERR_BGP_UNSUPPORTED_OPTIONAL_PARAMETER', '%s: optional parameter type %d is not supported', PEER);
export const NA_ERR_BGP_UNACCEPTABLE_HOLD_TIME = defineError('NA_ERR_BGP_UNACCEPTABLE_HOLD_TIME', '%s: hold time %d s is not acceptable, expected 0 or %d..65535', PEER);
export const NA_ERR_BGP_UNSUPPORTED_CAPABILITY = defineError('NA_ERR_BGP_UNSUPPORTED_CAPABILITY', '%s: the peer did not advertise required capabilities %s', PEER);

// UPDATE message errors (code 3, RFC 4271 §6.3 as revised by RFC 7606)
export const NA_ERR_BGP_ATTRIBUTE_NOT_ACCEPTED = defineError('NA_ERR_BGP_ATTRIBUTE_NOT_ACCEPTED', '%s: %s', PEER);
export const NA_ERR_BGP_MALFORMED_ATTRIBUTE_LIST = defineError('NA_ERR_BGP_MALFORMED_ATTRIBUTE_LIST', '%s: %s', PEER);
export const NA_ERR_BGP_UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE = defineError('NA_ERR_BGP_UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE', '%s: type %d is not recognized but is flagged well-known', PEER);
export const NA_ERR_BGP_MISSING_WELL_KNOWN_ATTRIBUTE = defineError('NA_ERR_BGP_MISSING_WELL_KNOWN_ATTRIBUTE', '%s: well-known attribute %s is missing', PEER);
export const NA_ERR_BGP_ATTRIBUTE_FLAGS = defineError('NA_ERR_BGP_ATTRIBUTE_FLAGS', '%s: flags 0x%s conflict with the %s attribute type', PEER);
export const NA_ERR_BGP_ATTRIBUTE_LENGTH = defineError('NA_ERR_BGP_ATTRIBUTE_LENGTH', '%s: length %d is invalid, expected %s', PEER);
export const NA_ERR_BGP_INVALID_ORIGIN = defineError('NA_ERR_BGP_INVALID_ORIGIN', '%s: value %d is not IGP (0), EGP (1) or INCOMPLETE (2)', PEER);
export const NA_ERR_BGP_INVALID_NEXT_HOP = defineError('NA_ERR_BGP_INVALID_NEXT_HOP', '%s: %s is not a usable next hop', PEER);
export const NA_ERR_BGP_OPTIONAL_ATTRIBUTE = defineError('NA_ERR_BGP_OPTIONAL_ATTRIBUTE', '%s: %s', PEER);
export const NA_ERR_BGP_INVALID_NETWORK_FIELD = defineError('NA_ERR_BGP_INVALID_NETWORK_FIELD', '%s: %s', PEER);
export const NA_ERR_BGP_MALFORMED_AS_PATH = defineError('NA_ERR_BGP_MALFORMED_AS_PATH', '%s: %s', PEER);

// ROUTE-REFRESH message errors (code 7, RFC 7313)
export const NA_ERR_BGP_ROUTE_REFRESH_LENGTH = defineError('NA_ERR_BGP_ROUTE_REFRESH_LENGTH', '%s: length %d is invalid for subtype %d, expected 23', PEER);

// Local errors: never sent to a peer
export const NA_ERR_BGP_INVALID_MESSAGE = defineError('NA_ERR_BGP_INVALID_MESSAGE', '%s', 'invalid-argument');
export const NA_ERR_BGP_MESSAGE_TOO_LARGE = defineError('NA_ERR_BGP_MESSAGE_TOO_LARGE', '%s: %d octets exceed the largest message the session allows, %d', 'invalid-argument');
export const NA_ERR_BGP_INVALID_OPTIONS = defineError('NA_ERR_BGP_INVALID_OPTIONS', '%s', 'invalid-argument');

/** Every code of this package's BGP codecs, for `checkRegistry` and `undocumentedCodes`. */
export const bgpErrors = {
  NA_ERR_BGP_NOT_SYNCHRONIZED,
  NA_ERR_BGP_BAD_MESSAGE_LENGTH,
  NA_ERR_BGP_BAD_MESSAGE_TYPE,
  NA_ERR_BGP_OPEN_MALFORMED,
  NA_ERR_BGP_UNSUPPORTED_VERSION,
  NA_ERR_BGP_BAD_PEER_AS,
  NA_ERR_BGP_BAD_BGP_IDENTIFIER,
  NA_ERR_BGP_UNSUPPORTED_OPTIONAL_PARAMETER,
  NA_ERR_BGP_UNACCEPTABLE_HOLD_TIME,
  NA_ERR_BGP_UNSUPPORTED_CAPABILITY,
  NA_ERR_BGP_ATTRIBUTE_NOT_ACCEPTED,
  NA_ERR_BGP_MALFORMED_ATTRIBUTE_LIST,
  NA_ERR_BGP_UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
  NA_ERR_BGP_MISSING_WELL_KNOWN_ATTRIBUTE,
  NA_ERR_BGP_ATTRIBUTE_FLAGS,
  NA_ERR_BGP_ATTRIBUTE_LENGTH,
  NA_ERR_BGP_INVALID_ORIGIN,
  NA_ERR_BGP_INVALID_NEXT_HOP,
  NA_ERR_BGP_OPTIONAL_ATTRIBUTE,
  NA_ERR_BGP_INVALID_NETWORK_FIELD,
  NA_ERR_BGP_MALFORMED_AS_PATH,
  NA_ERR_BGP_ROUTE_REFRESH_LENGTH,
  NA_ERR_BGP_INVALID_MESSAGE,
  NA_ERR_BGP_MESSAGE_TOO_LARGE,
  NA_ERR_BGP_INVALID_OPTIONS,
} as const satisfies ErrorRegistry;

const { MessageHeader, Open, Update, RouteRefresh } = NotificationCode;

/** NOTIFICATION (code, subcode) of each peer error; local errors have none. */
export const NOTIFICATION_OF: ReadonlyMap<string, readonly [number, number]> = new Map<string, readonly [number, number]>([
  [NA_ERR_BGP_NOT_SYNCHRONIZED.code, [MessageHeader, HeaderSubcode.ConnectionNotSynchronized]],
  [NA_ERR_BGP_BAD_MESSAGE_LENGTH.code, [MessageHeader, HeaderSubcode.BadMessageLength]],
  [NA_ERR_BGP_BAD_MESSAGE_TYPE.code, [MessageHeader, HeaderSubcode.BadMessageType]],
  [NA_ERR_BGP_OPEN_MALFORMED.code, [Open, OpenSubcode.Unspecific]],
  [NA_ERR_BGP_UNSUPPORTED_VERSION.code, [Open, OpenSubcode.UnsupportedVersion]],
  [NA_ERR_BGP_BAD_PEER_AS.code, [Open, OpenSubcode.BadPeerAs]],
  [NA_ERR_BGP_BAD_BGP_IDENTIFIER.code, [Open, OpenSubcode.BadBgpIdentifier]],
  [NA_ERR_BGP_UNSUPPORTED_OPTIONAL_PARAMETER.code, [Open, OpenSubcode.UnsupportedOptionalParameter]],
  [NA_ERR_BGP_UNACCEPTABLE_HOLD_TIME.code, [Open, OpenSubcode.UnacceptableHoldTime]],
  [NA_ERR_BGP_UNSUPPORTED_CAPABILITY.code, [Open, OpenSubcode.UnsupportedCapability]],
  [NA_ERR_BGP_ATTRIBUTE_NOT_ACCEPTED.code, [Update, UpdateSubcode.Unspecific]],
  [NA_ERR_BGP_MALFORMED_ATTRIBUTE_LIST.code, [Update, UpdateSubcode.MalformedAttributeList]],
  [NA_ERR_BGP_UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE.code, [Update, UpdateSubcode.UnrecognizedWellKnownAttribute]],
  [NA_ERR_BGP_MISSING_WELL_KNOWN_ATTRIBUTE.code, [Update, UpdateSubcode.MissingWellKnownAttribute]],
  [NA_ERR_BGP_ATTRIBUTE_FLAGS.code, [Update, UpdateSubcode.AttributeFlagsError]],
  [NA_ERR_BGP_ATTRIBUTE_LENGTH.code, [Update, UpdateSubcode.AttributeLengthError]],
  [NA_ERR_BGP_INVALID_ORIGIN.code, [Update, UpdateSubcode.InvalidOrigin]],
  [NA_ERR_BGP_INVALID_NEXT_HOP.code, [Update, UpdateSubcode.InvalidNextHop]],
  [NA_ERR_BGP_OPTIONAL_ATTRIBUTE.code, [Update, UpdateSubcode.OptionalAttributeError]],
  [NA_ERR_BGP_INVALID_NETWORK_FIELD.code, [Update, UpdateSubcode.InvalidNetworkField]],
  [NA_ERR_BGP_MALFORMED_AS_PATH.code, [Update, UpdateSubcode.MalformedAsPath]],
  [NA_ERR_BGP_ROUTE_REFRESH_LENGTH.code, [RouteRefresh, RouteRefreshSubcode.InvalidMessageLength]],
]);

/** What RFC 4271 / RFC 7606 prescribe for an error (strongest first). */
export type ErrorAction = 'session-reset' | 'treat-as-withdraw' | 'attribute-discard';

/** The fields of the NOTIFICATION message an error maps to. */
export interface NotificationFields {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

/** An error in a peer's message, ready to be sent back as a NOTIFICATION. */
export class BgpNotificationError extends NetaccelError {
  readonly notification: NotificationFields;
  readonly action: ErrorAction;
  /** The path attribute type code the error is about, when there is one. */
  readonly attributeType: number | undefined;

  constructor(def: ErrorDefinition, message: string, notification: NotificationFields, action: ErrorAction, attributeType?: number) {
    super(def, message, {
      details: { code: notification.code, subcode: notification.subcode, data: notification.data.toString('hex'), action, attributeType },
    });
    this.name = 'BgpNotificationError';
    this.notification = Object.freeze({ ...notification });
    this.action = action;
    this.attributeType = attributeType;
  }
}

export function isBgpNotificationError(err: unknown): err is BgpNotificationError {
  return err instanceof BgpNotificationError;
}

export interface BgpErrorOptions {
  /** The NOTIFICATION's data field (default empty). */
  readonly data?: Uint8Array;
  readonly action?: ErrorAction;
  readonly attributeType?: number;
}

const EMPTY = Buffer.alloc(0);

/** Builds the `BgpNotificationError` of a peer error of the registry. */
export function bgpError(factory: ErrorFactory, opts: BgpErrorOptions, ...args: unknown[]): BgpNotificationError {
  const pair = NOTIFICATION_OF.get(factory.code);
  if (pair === undefined) throw new TypeError(`bgpError: ${factory.code} is not a peer error with a NOTIFICATION`);
  const data = opts.data === undefined ? EMPTY : Buffer.from(opts.data);
  const message = args.length > 0 ? format(factory.template, ...args) : factory.template;
  return new BgpNotificationError(factory, message, { code: pair[0], subcode: pair[1], data }, opts.action ?? 'session-reset', opts.attributeType);
}
