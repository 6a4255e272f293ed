/**
 * The packet model: a packet is a list of header layers, outermost first, then the payload and
 * an optional trailer (bytes after the innermost length-delimited datagram, e.g. Ethernet
 * padding). Encapsulation is just more layers:
 *
 *   [eth, vlan, ipv4, tcp]                      TCP in a VLAN
 *   [eth, ipv4 (outer), ipv4 (inner), tcp]      IPIP
 *   [eth, ipv6, udp, gue, ipv4, tcp]            GUE over IPv6 carrying IPv4
 *
 * Fields marked "derived" (lengths, checksums, next-header types) are computed by buildPacket
 * when left out, and written as given when present, so tests can craft bad packets.
 * parsePacket fills every field, so buildPacket(parsePacket(b)) reproduces b exactly.
 * Addresses are text: IPv4 dotted quad, IPv6 (canonical per RFC 5952 when parsed), MAC `aa:bb:…`.
 */

export interface EthernetLayer {
  type: 'eth';
  dst: string;
  src: string;
  /** Derived from the next layer (a vlan's tpid, 0x0800, 0x86dd). */
  etherType?: number;
}

/** An 802.1Q / 802.1ad tag. */
export interface VlanLayer {
  type: 'vlan';
  vid: number; // 12 bits
  pcp?: number; // 3 bits, default 0
  dei?: boolean; // default false
  /** The TPID announcing this tag, written into the previous layer's type: 0x8100 (default), 0x88a8 (S-tag). */
  tpid?: number;
  /** Derived from the next layer. */
  etherType?: number;
}

export interface Ipv4Layer {
  type: 'ipv4';
  src: string;
  dst: string;
  tos?: number; // DSCP << 2 | ECN, default 0
  id?: number; // default 0
  reservedFlag?: boolean; // default false
  df?: boolean; // default false
  mf?: boolean; // default false
  fragOffset?: number; // in 8-byte units, default 0
  ttl?: number; // default 64
  /** Derived from the next layer (6, 17, 1, 4, 41 …). */
  protocol?: number;
  /** Derived: header length in 32-bit words. */
  ihl?: number;
  /** Derived: header + everything after it (not the trailer). */
  totalLength?: number;
  /** Derived. */
  checksum?: number;
  /** Raw option bytes; padded with zeros (EOL) to a multiple of 4. See encodeTlvOptions. */
  options?: Uint8Array;
}

export interface Ipv6Layer {
  type: 'ipv6';
  src: string;
  dst: string;
  trafficClass?: number; // default 0
  flowLabel?: number; // 20 bits, default 0
  hopLimit?: number; // default 64
  /** Derived from the next layer; 59 (no next header) when nothing follows. */
  nextHeader?: number;
  /** Derived: everything after the fixed header, extension headers included. */
  payloadLength?: number;
}

/** Hop-by-hop (ipv6-hbh, 0) or destination options (ipv6-dstopts, 60). */
export interface Ipv6OptionsLayer {
  type: 'ipv6-hbh' | 'ipv6-dstopts';
  nextHeader?: number; // derived
  hdrExtLen?: number; // derived, in 8-byte units not counting the first 8
  /** TLV options after the 2-byte header; padded with Pad1/PadN to fill the header. */
  options?: Uint8Array;
}

export interface Ipv6RoutingLayer {
  type: 'ipv6-route';
  nextHeader?: number; // derived
  hdrExtLen?: number; // derived
  routingType: number;
  segmentsLeft: number;
  /** Type-specific data after the first 4 bytes; padded with zeros to fill the header. */
  data?: Uint8Array;
}

export interface Ipv6FragmentLayer {
  type: 'ipv6-frag';
  nextHeader?: number; // derived
  reserved?: number; // 8 bits, default 0
  fragOffset?: number; // in 8-byte units, default 0
  reserved2?: number; // 2 bits, default 0
  mf?: boolean; // default false
  id?: number; // default 0
}

/** IP Authentication Header (RFC 4302), after IPv4 or IPv6. */
export interface AhLayer {
  type: 'ah';
  nextHeader?: number; // derived
  payloadLen?: number; // derived: header length in 4-byte units minus 2
  reserved?: number; // default 0
  spi: number;
  seq: number;
  icv?: Uint8Array; // default empty
}

export interface TcpLayer {
  type: 'tcp';
  sport: number;
  dport: number;
  seq?: number; // default 0
  ack?: number; // default 0
  /** Derived: header length in 32-bit words. */
  dataOffset?: number;
  reserved?: number; // 3 bits, default 0
  /** 9 bits: NS CWR ECE URG ACK PSH RST SYN FIN (TCP_FLAGS); default ACK. */
  flags?: number;
  window?: number; // default 65535
  checksum?: number; // derived
  urgent?: number; // default 0
  /** Raw option bytes; padded with zeros (EOL) to a multiple of 4. See tcpOptions. */
  options?: Uint8Array;
}

export interface UdpLayer {
  type: 'udp';
  sport: number;
  dport: number;
  length?: number; // derived
  /** Derived; 0 means "none" over IPv4 (a computed 0 is sent as 0xffff). */
  checksum?: number;
}

/** ICMP (type 'icmp') or ICMPv6 (type 'icmpv6'): the 8-byte header; the body is the payload. */
export interface IcmpLayer {
  type: 'icmp' | 'icmpv6';
  icmpType: number;
  code: number;
  checksum?: number; // derived
  /** The 32 bits after the checksum: echo id << 16 | seq; next-hop MTU; unused … Default 0. */
  rest?: number;
}

/**
 * GUE (draft-ietf-intarea-gue). Version 0: a 4-byte header plus `hlen` words of extension
 * fields; `proto` is the IP protocol of what follows (4, 41 …) or, with `control`, a control
 * type. Version 1 ("direct IP"): no header, the IP packet follows the UDP header directly.
 */
export interface GueLayer {
  type: 'gue';
  version?: 0 | 1; // default 0
  control?: boolean; // default false
  hlen?: number; // derived from fields
  proto?: number; // derived from the next layer
  flags?: number; // 16 bits, default 0
  fields?: Uint8Array; // extension fields, a multiple of 4 bytes
}

export type Layer =
  | EthernetLayer
  | VlanLayer
  | Ipv4Layer
  | Ipv6Layer
  | Ipv6OptionsLayer
  | Ipv6RoutingLayer
  | Ipv6FragmentLayer
  | AhLayer
  | TcpLayer
  | UdpLayer
  | IcmpLayer
  | GueLayer;

export type LayerType = Layer['type'];
export type LayerOf<T extends LayerType> = Extract<Layer, { type: T }>;

export interface Packet {
  layers: Layer[];
  /** Bytes after the last header, up to the end of the innermost datagram. */
  payload?: Uint8Array;
  /** Bytes after the innermost datagram (Ethernet padding, junk); set by parse only when non-empty. */
  trailer?: Uint8Array;
}

/** TCP flag bits for TcpLayer.flags. */
export const TCP_FLAGS = Object.freeze({
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  NS: 0x100,
});

/** IP protocol / IPv6 next-header numbers used by the codecs. */
export const IP_PROTO = Object.freeze({
  HOPOPTS: 0,
  ICMP: 1,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
});

export const ETHERTYPE = Object.freeze({ IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPV6: 0x86dd, QINQ: 0x88a8 });

/** The `nth` (0-based) layer of the given type, or undefined. */
export function findLayer<T extends LayerType>(packet: Packet, type: T, nth = 0): LayerOf<T> | undefined {
  let seen = 0;
  for (const l of packet.layers) {
    if (l.type === type && seen++ === nth) return l as LayerOf<T>;
  }
  return undefined;
}

const DERIVED: Readonly<Record<LayerType, readonly string[]>> = {
  eth: ['etherType'],
  vlan: ['etherType'],
  ipv4: ['protocol', 'ihl', 'totalLength', 'checksum'],
  ipv6: ['nextHeader', 'payloadLength'],
  'ipv6-hbh': ['nextHeader', 'hdrExtLen'],
  'ipv6-dstopts': ['nextHeader', 'hdrExtLen'],
  'ipv6-route': ['nextHeader', 'hdrExtLen'],
  'ipv6-frag': ['nextHeader'],
  ah: ['nextHeader', 'payloadLen'],
  tcp: ['dataOffset', 'checksum'],
  udp: ['length', 'checksum'],
  icmp: ['checksum'],
  icmpv6: ['checksum'],
  gue: ['hlen', 'proto'],
};

/** A copy of the layer without its derived fields, so buildPacket recomputes them. */
export function stripLayer<L extends Layer>(layer: L): L {
  const copy: Record<string, unknown> = { ...layer };
  for (const k of DERIVED[layer.type]) delete copy[k];
  return copy as unknown as L;
}

/** A copy of the packet without derived fields (e.g. a parsed packet about to be modified). */
export function stripDerived(packet: Packet): Packet {
  return { ...packet, layers: packet.layers.map((l) => stripLayer(l)) };
}

/**
 * A copy of the packet with `patch` applied to the `nth` layer of `type` (e.g. a NAT or MAC
 * rewrite). Derived fields of every layer are dropped first, so buildPacket recomputes lengths
 * and checksums (pseudo-headers change with addresses); derived fields in `patch` are kept.
 * Throws a RangeError when there is no such layer.
 */
export function updateLayer<T extends LayerType>(packet: Packet, type: T, patch: Partial<LayerOf<T>>, nth = 0): Packet {
  const target = findLayer(packet, type, nth);
  if (target === undefined) throw new RangeError(`updateLayer: the packet has no ${type} layer #${nth}`);
  const at = packet.layers.indexOf(target);
  const layers = packet.layers.map((l, i) => (i === at ? ({ ...stripLayer(l), ...patch } as Layer) : stripLayer(l)));
  return { ...packet, layers };
}
