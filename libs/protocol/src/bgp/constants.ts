/**
 * Numbers of the BGP-4 wire format: message types and header (RFC 4271 §4.1), path attribute type
 * codes and flags (§4.3, RFC 4760, 4456, 6793, 8092), capability codes (RFC 5492 and the RFC of
 * each capability), NOTIFICATION codes and subcodes (§4.5 and the IANA registry) and the address
 * families this codec carries.
 */

export const MARKER_LENGTH = 16; // octets of 0xff
export const HEADER_LENGTH = 19; // marker + length + type
export const MAX_MESSAGE_LENGTH = 4096; // octets, RFC 4271
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535; // octets, RFC 8654
export const BGP_VERSION = 4;
/** The 2-octet stand-in for a 4-octet AS number (RFC 6793). */
export const AS_TRANS = 23456;

export const MessageType = {
  Open: 1,
  Update: 2,
  Notification: 3,
  Keepalive: 4,
  RouteRefresh: 5,
} as const;

/** Smallest valid length of each message type, header included (RFC 4271 §4, RFC 2918). */
export const MIN_MESSAGE_LENGTH: Readonly<Record<number, number>> = {
  [MessageType.Open]: 29,
  [MessageType.Update]: 23,
  [MessageType.Notification]: 21,
  [MessageType.Keepalive]: 19,
  [MessageType.RouteRefresh]: 23,
};

export const AttrType = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  OriginatorId: 9,
  ClusterList: 10,
  MpReachNlri: 14,
  MpUnreachNlri: 15,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunities: 32,
} as const;

export const AttrFlag = {
  Optional: 0x80,
  Transitive: 0x40,
  Partial: 0x20,
  ExtendedLength: 0x10,
} as const;

export const CapabilityCode = {
  Multiprotocol: 1, // RFC 4760
  RouteRefresh: 2, // RFC 2918
  ExtendedMessage: 6, // RFC 8654
  GracefulRestart: 64, // RFC 4724
  FourOctetAs: 65, // RFC 6793
  AddPath: 69, // RFC 7911
  EnhancedRouteRefresh: 70, // RFC 7313
} as const;

/** Optional parameter types of the OPEN message (RFC 5492, RFC 9072). */
export const OptionalParameter = { Capabilities: 2, ExtendedLength: 255 } as const;

export const NotificationCode = {
  MessageHeader: 1,
  Open: 2,
  Update: 3,
  HoldTimerExpired: 4,
  Fsm: 5,
  Cease: 6,
  RouteRefresh: 7, // RFC 7313
} as const;

export const HeaderSubcode = { ConnectionNotSynchronized: 1, BadMessageLength: 2, BadMessageType: 3 } as const;

export const OpenSubcode = {
  Unspecific: 0,
  UnsupportedVersion: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
  RoleMismatch: 11, // RFC 9234
} as const;

export const UpdateSubcode = {
  Unspecific: 0,
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOrigin: 6,
  InvalidNextHop: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

export const CeaseSubcode = {
  MaximumPrefixes: 1,
  AdministrativeShutdown: 2, // RFC 8203 / 9003 shutdown communication
  PeerDeconfigured: 3,
  AdministrativeReset: 4, // RFC 8203 / 9003 shutdown communication
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9, // RFC 8538
  BfdDown: 10, // RFC 9384
} as const;

export const RouteRefreshSubcode = { InvalidMessageLength: 1 } as const;

/** Subcodes in use per NOTIFICATION code (IANA "BGP Error Subcodes", deprecated ones left out). */
const SUBCODES: ReadonlyMap<number, ReadonlySet<number>> = new Map([
  [NotificationCode.MessageHeader, new Set([1, 2, 3])],
  [NotificationCode.Open, new Set([0, 1, 2, 3, 4, 6, 7, 11])],
  [NotificationCode.Update, new Set([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11])],
  [NotificationCode.HoldTimerExpired, new Set([0])],
  [NotificationCode.Fsm, new Set([0, 1, 2, 3])],
  [NotificationCode.Cease, new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])],
  [NotificationCode.RouteRefresh, new Set([0, 1])],
]);

/** True when (code, subcode) is a NOTIFICATION that BGP defines. */
export function isKnownNotification(code: number, subcode: number): boolean {
  return SUBCODES.get(code)?.has(subcode) ?? false;
}

/** The address families this codec carries in NLRI. */
export type Family = 'ipv4-unicast' | 'ipv6-unicast';
export const FAMILIES: readonly Family[] = Object.freeze(['ipv4-unicast', 'ipv6-unicast'] as Family[]);

export const Afi = { Ipv4: 1, Ipv6: 2 } as const;
export const Safi = { Unicast: 1 } as const;

export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

/** The family of an AFI/SAFI pair, or undefined when the codec does not carry it. */
export function familyOf(afi: number, safi: number): Family | undefined {
  if (safi !== Safi.Unicast) return undefined;
  if (afi === Afi.Ipv4) return 'ipv4-unicast';
  if (afi === Afi.Ipv6) return 'ipv6-unicast';
  return undefined;
}

export function afiSafiOf(family: Family): AfiSafi {
  return family === 'ipv4-unicast' ? { afi: Afi.Ipv4, safi: Safi.Unicast } : { afi: Afi.Ipv6, safi: Safi.Unicast };
}

/** Longest prefix of a family, in bits. */
export function maxPrefixBits(family: Family): number {
  return family === 'ipv4-unicast' ? 32 : 128;
}
