// BGP-4 codecs of @netaccel/protocol (RFC 4271 and extensions). The package index re-exports
// these names; see README.md in this folder.

// Messages and session
export type { BgpMessage, Decoded, KeepaliveMessage, ReceivedMessage } from './message.js';
export { decodeMessage, encodeMessage, keepalive } from './message.js';
export type { Directions, SessionContext, SessionContextOptions } from './context.js';
export { DEFAULT_CONTEXT, addPathOn, createContext, maxMessageLength } from './context.js';
export type { GracefulRestartState, NegotiateOptions, NegotiatedSession } from './negotiate.js';
export { advertisedFamilies, negotiate } from './negotiate.js';
export type { FramerOptions } from './framer.js';
export { BgpFramer } from './framer.js';

// OPEN and capabilities
export type { AddPathMode, OpenMessage, OpenOptions } from './open.js';
export { decodeOpen, open, openAsn } from './open.js';
export type { AddPathFamily, Capability, CapabilityType, GracefulRestartFamily } from './capabilities.js';
export { capabilityCode } from './capabilities.js';

// UPDATE
export type { UpdateDecodeResult, UpdateMessage } from './update.js';
export { decodeUpdate, endOfRib, isEndOfRib } from './update.js';
export type { Announcement, RouteAttributes, UpdateInput, Withdrawal } from './update-builder.js';
export { update } from './update-builder.js';
export type { PackedAttributes } from './update-packer.js';
export { UpdatePacker } from './update-packer.js';
export type { LargeCommunity, Origin, PathAttributes, UnknownAttribute } from './attributes.js';
export { attributeName, forwardable } from './attributes.js';
export type { Aggregator, As4Fields, AsPath, AsPathSegment, AsPathSegmentType } from './as-path.js';
export { asPathLength, asSequence, reconcileAs4, reconcileAsPath } from './as-path.js';
export type { MpReach, MpUnreach } from './multiprotocol.js';
export type { Nlri } from './nlri.js';

// NOTIFICATION, ROUTE-REFRESH
export type { NotificationMessage } from './notification.js';
export { MAX_SHUTDOWN_COMMUNICATION, cease, notification, notificationFor, shutdownCommunication } from './notification.js';
export type { RouteRefreshMessage } from './route-refresh.js';
export { RouteRefreshSubtype, routeRefresh } from './route-refresh.js';

// Wire constants
export type { AfiSafi, Family } from './constants.js';
export {
  AS_TRANS,
  Afi,
  AttrFlag,
  AttrType,
  CapabilityCode,
  CeaseSubcode,
  FAMILIES,
  HeaderSubcode,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  NotificationCode,
  OpenSubcode,
  RouteRefreshSubcode,
  Safi,
  UpdateSubcode,
  afiSafiOf,
  familyOf,
  isKnownNotification,
} from './constants.js';

// Errors
export type { BgpErrorOptions, ErrorAction, NotificationFields } from './errors.js';
export {
  BgpNotificationError,
  NA_ERR_BGP_ATTRIBUTE_FLAGS,
  NA_ERR_BGP_ATTRIBUTE_LENGTH,
  NA_ERR_BGP_ATTRIBUTE_NOT_ACCEPTED,
  NA_ERR_BGP_BAD_BGP_IDENTIFIER,
  NA_ERR_BGP_BAD_MESSAGE_LENGTH,
  NA_ERR_BGP_BAD_MESSAGE_TYPE,
  NA_ERR_BGP_BAD_PEER_AS,
  NA_ERR_BGP_INVALID_MESSAGE,
  NA_ERR_BGP_INVALID_NETWORK_FIELD,
  NA_ERR_BGP_INVALID_NEXT_HOP,
  NA_ERR_BGP_INVALID_OPTIONS,
  NA_ERR_BGP_INVALID_ORIGIN,
  NA_ERR_BGP_MALFORMED_AS_PATH,
  NA_ERR_BGP_MALFORMED_ATTRIBUTE_LIST,
  NA_ERR_BGP_MESSAGE_TOO_LARGE,
  NA_ERR_BGP_MISSING_WELL_KNOWN_ATTRIBUTE,
  NA_ERR_BGP_NOT_SYNCHRONIZED,
  NA_ERR_BGP_OPEN_MALFORMED,
  NA_ERR_BGP_OPTIONAL_ATTRIBUTE,
  NA_ERR_BGP_ROUTE_REFRESH_LENGTH,
  NA_ERR_BGP_UNACCEPTABLE_HOLD_TIME,
  NA_ERR_BGP_UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
  NA_ERR_BGP_UNSUPPORTED_CAPABILITY,
  NA_ERR_BGP_UNSUPPORTED_OPTIONAL_PARAMETER,
  NA_ERR_BGP_UNSUPPORTED_VERSION,
  NOTIFICATION_OF,
  bgpErrors,
  isBgpNotificationError,
} from './errors.js';
