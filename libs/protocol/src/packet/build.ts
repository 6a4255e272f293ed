/**
 * buildPacket: Packet → bytes. Layers are encoded from the innermost out, so every header sees
 * the bytes after it: lengths, next-header types and checksums (with the pseudo-header of the
 * nearest IP layer before it) are computed unless the layer gives them.
 */
import { NA_ERR_PACKET_INVALID_SPEC } from '../errors.js';
import { parseIPv4, parseIPv6 } from '../ip/address.js';
import type { EncodeContext } from './codec.js';
import { encodeEthernet, encodeVlan } from './ethernet.js';
import { encodeGue } from './gue.js';
import { encodeIcmp } from './icmp.js';
import { encodeIpv4 } from './ipv4.js';
import { encodeAh, encodeIpv6, encodeIpv6Fragment, encodeIpv6Options, encodeIpv6Routing, routingFinalDestination } from './ipv6.js';
import type { Layer, LayerType, Packet } from './model.js';
import { encodeTcp } from './tcp.js';
import { encodeUdp } from './udp.js';
import { concatBytes, specBytes } from './wire.js';

const LAYER_TYPES: readonly LayerType[] = [
  'eth',
  'vlan',
  'ipv4',
  'ipv6',
  'ipv6-hbh',
  'ipv6-route',
  'ipv6-frag',
  'ipv6-dstopts',
  'ah',
  'tcp',
  'udp',
  'icmp',
  'icmpv6',
  'gue',
];

function encodeLayer(l: Layer, ctx: EncodeContext): Uint8Array {
  switch (l.type) {
    case 'eth':
      return encodeEthernet(l, ctx);
    case 'vlan':
      return encodeVlan(l, ctx);
    case 'ipv4':
      return encodeIpv4(l, ctx);
    case 'ipv6':
      return encodeIpv6(l, ctx);
    case 'ipv6-hbh':
    case 'ipv6-dstopts':
      return encodeIpv6Options(l, ctx);
    case 'ipv6-route':
      return encodeIpv6Routing(l, ctx);
    case 'ipv6-frag':
      return encodeIpv6Fragment(l, ctx);
    case 'ah':
      return encodeAh(l, ctx);
    case 'tcp':
      return encodeTcp(l, ctx);
    case 'udp':
      return encodeUdp(l, ctx);
    case 'icmp':
    case 'icmpv6':
      return encodeIcmp(l, ctx);
    case 'gue':
      return encodeGue(l, ctx);
  }
}

/** Pseudo-header addresses for layer `i`: the nearest IP layer before it (IPv6: final destination). */
function pseudoFor(layers: readonly Layer[], i: number): EncodeContext['pseudo'] {
  let dst: Uint8Array | undefined;
  for (let j = i - 1; j >= 0; j--) {
    const l = layers[j]!;
    if (l.type === 'ipv6-route') {
      // The routing header nearest the upper layer wins, as when parsing front to back.
      dst ??= routingFinalDestination(l.routingType, l.segmentsLeft, specBytes(l.data, `layers[${j}].data`));
    } else if (l.type === 'ipv4') {
      return { src: parseIPv4(l.src, `layers[${j}].src`), dst: parseIPv4(l.dst, `layers[${j}].dst`) };
    } else if (l.type === 'ipv6') {
      return { src: parseIPv6(l.src, `layers[${j}].src`), dst: dst ?? parseIPv6(l.dst, `layers[${j}].dst`) };
    }
  }
  return undefined;
}

const NEEDS_PSEUDO: ReadonlySet<LayerType> = new Set<LayerType>(['tcp', 'udp', 'icmpv6']);

/**
 * Encodes a packet. Throws NA_ERR_PACKET_INVALID_SPEC (message starting with the field path,
 * e.g. `layers[3].sport: …`) for a value out of range or a derived field it cannot infer.
 */
export function buildPacket(packet: Packet): Uint8Array {
  if (typeof packet !== 'object' || packet === null || !Array.isArray(packet.layers)) {
    throw NA_ERR_PACKET_INVALID_SPEC('packet.layers', 'expected an array of layers');
  }
  const { layers } = packet;
  layers.forEach((l, i) => {
    if (typeof l !== 'object' || l === null || !LAYER_TYPES.includes(l.type)) {
      throw NA_ERR_PACKET_INVALID_SPEC(`layers[${i}].type`, `expected one of ${LAYER_TYPES.join(', ')}`);
    }
  });
  let tail = specBytes(packet.payload, 'packet.payload');
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const withChecksum = NEEDS_PSEUDO.has(layer.type) && (layer as { checksum?: number }).checksum === undefined;
    const ctx: EncodeContext = {
      path: `layers[${i}]`,
      next: layers[i + 1],
      tail,
      pseudo: withChecksum ? pseudoFor(layers, i) : undefined,
    };
    tail = concatBytes([encodeLayer(layer, ctx), tail]);
  }
  const trailer = specBytes(packet.trailer, 'packet.trailer');
  return trailer.length === 0 ? tail : concatBytes([tail, trailer]);
}
