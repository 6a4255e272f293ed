// @netaccel/protocol: wire codecs. Names are re-exported one by one, grouped by area.

// ============================================================================================
// Packet codecs (src/packet/, errors NA_ERR_PACKET_* in src/errors.ts)
// ============================================================================================

// --- errors -----------------------------------------------------------------------------------
export {
  NA_ERR_PACKET_BAD_ADDRESS,
  NA_ERR_PACKET_BAD_CHECKSUM,
  NA_ERR_PACKET_BAD_IHL,
  NA_ERR_PACKET_BAD_LENGTH,
  NA_ERR_PACKET_BAD_OPTION,
  NA_ERR_PACKET_BAD_PREFIX,
  NA_ERR_PACKET_BAD_VERSION,
  NA_ERR_PACKET_EXT_CHAIN_TOO_LONG,
  NA_ERR_PACKET_INVALID_OPTIONS,
  NA_ERR_PACKET_INVALID_SPEC,
  NA_ERR_PACKET_TOO_MANY_VLANS,
  NA_ERR_PACKET_TRUNCATED,
  packetErrors,
} from './errors.js';

// --- model ------------------------------------------------------------------------------------
export type {
  AhLayer,
  EthernetLayer,
  GueLayer,
  IcmpLayer,
  Ipv4Layer,
  Ipv6FragmentLayer,
  Ipv6Layer,
  Ipv6OptionsLayer,
  Ipv6RoutingLayer,
  Layer,
  LayerOf,
  LayerType,
  Packet,
  TcpLayer,
  UdpLayer,
  VlanLayer,
} from './packet/model.js';
export { ETHERTYPE, IP_PROTO, TCP_FLAGS, findLayer, stripDerived, stripLayer, updateLayer } from './packet/model.js';

// --- build and parse --------------------------------------------------------------------------
export { buildPacket } from './packet/build.js';
export type { ChecksumReport, LayerSpan, PacketAnalysis, ParseOptions } from './packet/parse.js';
export { PARSE_DEFAULTS, inspectPacket, parsePacket, resolveParseOptions, verifyChecksums } from './packet/parse.js';
export type { ChecksumCheck, ResolvedParseOptions } from './packet/codec.js';

// --- builders ---------------------------------------------------------------------------------
export type {
  EncapOptions,
  FlowSpec,
  GueEncapOptions,
  IcmpErrorSpec,
  L2Spec,
  TcpSpec,
  TcpSynSpec,
  UdpSpec,
} from './packet/builders.js';
export {
  DEFAULT_DST_MAC,
  DEFAULT_SRC_MAC,
  gueEncap,
  icmpFragNeeded,
  icmpv6PacketTooBig,
  ipipEncap,
  tcp,
  tcpSyn,
  udp,
} from './packet/builders.js';

// --- headers and options ----------------------------------------------------------------------
export { ETH_HEADER_LEN, VLAN_TAG_LEN, VLAN_TPIDS } from './packet/ethernet.js';
export { IPV4_HEADER_LEN } from './packet/ipv4.js';
export { IPV6_EXT_PROTOS, IPV6_HEADER_LEN, routingFinalDestination } from './packet/ipv6.js';
export type { TcpOptionValues } from './packet/tcp.js';
export { TCP_HEADER_LEN, TCP_OPTION, formatTcpFlags, tcpOptionValues, tcpOptions } from './packet/tcp.js';
export { UDP_HEADER_LEN } from './packet/udp.js';
export { ICMP, ICMPV6, ICMP_HEADER_LEN } from './packet/icmp.js';
export { GUE_DEFAULT_PORT, GUE_HEADER_LEN } from './packet/gue.js';
export type { TlvOption, TlvStyle } from './packet/wire.js';
export { decodeTlvOptions, encodeTlvOptions, fromHex, toHex } from './packet/wire.js';

// --- checksums --------------------------------------------------------------------------------
export {
  checksumAdjust,
  checksumAdjust16,
  checksumVerifies,
  foldSum,
  internetChecksum,
  onesComplementSum,
  pseudoHeaderSum,
  transportChecksum,
  udpChecksumAdjust,
} from './packet/checksum.js';

// --- IP addresses and prefixes (src/ip/; every package's one IP module) --------------------------
export type { IpFamily, ScopedIp } from './ip/address.js';
export {
  canonicalIp,
  formatIPv4,
  formatIPv6,
  formatIp,
  formatScopedIp,
  ipFamily,
  ipv4Bytes,
  ipv4FromNumber,
  ipv4ToNumber,
  ipv6Bytes,
  isIPv4,
  isIPv6,
  isLinkLocalIPv6,
  parseIPv4,
  parseIPv6,
  parseIp,
  parseScopedIp,
} from './ip/address.js';
export type { Prefix, PrefixOptions, PrefixProblem } from './ip/prefix.js';
export {
  formatPrefix,
  isPrefixProblem,
  netmask,
  netmaskLength,
  parsePrefix,
  prefixContains,
  prefixNetwork,
  tryParsePrefix,
} from './ip/prefix.js';

// --- MAC addresses ----------------------------------------------------------------------------
export { formatMac, isMac, parseMac } from './packet/mac.js';

// --- hashing ----------------------------------------------------------------------------------
export { jhash, jhash1word, jhash2, jhash3words } from './jhash.js';

// --- seeded pseudo-random numbers (mulberry32) ------------------------------------------------
export type { Random } from './random.js';
export { Rng, seededRandom } from './random.js';

// --- test output ------------------------------------------------------------------------------
export type { HexdumpOptions, PacketDiff, PacketDifference } from './packet/diff.js';
export { assertPacketsEqual, describeOffset, diffPackets, hexdump } from './packet/diff.js';

// ============================================================================================
// BGP codecs (src/bgp/, errors NA_ERR_BGP_* in src/bgp/errors.ts)
// ============================================================================================
// One namespace, so BGP names (Family, Nlri, open, update …) never clash with packet names:
//   import { bgp } from '@netaccel/protocol'; bgp.encodeMessage(bgp.keepalive());
export * as bgp from './bgp/index.js';
// Paxos/VR wire format v1 (src/paxos/, errors NA_ERR_PAXOSWIRE_*): import { paxos } from '@netaccel/protocol'.
export * as paxos from './paxos/index.js';
// NetCRAQ wire format v1 (src/craq/, errors NA_ERR_CRAQWIRE_*): import { craq } from '@netaccel/protocol'.
export * as craq from './craq/index.js';
