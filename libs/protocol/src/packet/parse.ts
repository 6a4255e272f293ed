/**
 * parsePacket: bytes → Packet. Strict mode (the default) throws the first problem as a typed
 * NA_ERR_PACKET_* error; lenient mode stops decoding at a header it cannot decode and keeps the
 * rest as payload. Either way no read goes past the input, and buildPacket(parsePacket(b))
 * gives back b. inspectPacket returns the problems, checksum checks and header offsets too.
 */
import type { NetaccelError } from '@netaccel/errors';
import { NA_ERR_PACKET_EXT_CHAIN_TOO_LONG, NA_ERR_PACKET_INVALID_OPTIONS, NA_ERR_PACKET_TOO_MANY_VLANS } from '../errors.js';
import type { ChecksumCheck, Decoded, ParseCursor, ResolvedParseOptions } from './codec.js';
import { need } from './codec.js';
import { decodeEthernet, decodeVlan, VLAN_TPIDS } from './ethernet.js';
import { decodeGue, GUE_DEFAULT_PORT } from './gue.js';
import { decodeIcmp } from './icmp.js';
import type { DecodedIp, FragmentKind } from './ipv4.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeExt, decodeIpv6, IPV6_EXT_PROTOS } from './ipv6.js';
import type { Ipv4Layer, Ipv6Layer, Layer, LayerType, Packet } from './model.js';
import { ETHERTYPE, IP_PROTO } from './model.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';
import { copyBytes } from './wire.js';

export interface ParseOptions {
  /** `strict` throws the first problem; `lenient` records problems and keeps going where it can. */
  mode?: 'strict' | 'lenient';
  /** What the bytes start with; `ip` picks IPv4 or IPv6 by the version nibble. */
  first?: 'eth' | 'ipv4' | 'ipv6' | 'ip';
  /** Verify checksums; a bad one is a problem (NA_ERR_PACKET_BAD_CHECKSUM). */
  checksums?: boolean;
  /** Most stacked VLAN tags accepted. */
  maxVlans?: number;
  /** Most IPv6 extension headers (AH included) accepted after one IP header. */
  maxExtHeaders?: number;
  /** UDP destination ports whose payload is decoded as GUE. */
  guePorts?: readonly number[];
  /** Accept a zero UDP checksum over IPv6 (RFC 6935/6936 tunnels). */
  udp6ZeroChecksum?: boolean;
}

export const PARSE_DEFAULTS: ResolvedParseOptions = Object.freeze({
  mode: 'strict',
  first: 'eth',
  checksums: true,
  maxVlans: 2, // tags: 802.1ad S-tag + 802.1Q C-tag
  maxExtHeaders: 8, // headers per IP header
  guePorts: Object.freeze([GUE_DEFAULT_PORT]), // UDP ports
  udp6ZeroChecksum: false,
});

function optionError(key: string, expected: string, got: unknown): NetaccelError {
  return NA_ERR_PACKET_INVALID_OPTIONS(`options.${key}`, `expected ${expected}, got ${JSON.stringify(got)}`);
}

function wholeNumber(key: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw optionError(key, `an integer 0..${max}`, v);
  return v;
}

/** Validates parse options and fills defaults; the result is frozen. */
export function resolveParseOptions(opts: ParseOptions | undefined): ResolvedParseOptions {
  if (opts === undefined) return PARSE_DEFAULTS;
  if (typeof opts !== 'object' || opts === null) throw NA_ERR_PACKET_INVALID_OPTIONS('options', 'expected an object');
  for (const key of Object.keys(opts)) {
    if (!(key in PARSE_DEFAULTS)) throw NA_ERR_PACKET_INVALID_OPTIONS(`options.${key}`, 'unknown option');
  }
  const o = { ...PARSE_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
  if (o.mode !== 'strict' && o.mode !== 'lenient') throw optionError('mode', '"strict" or "lenient"', o.mode);
  if (!['eth', 'ipv4', 'ipv6', 'ip'].includes(o.first)) throw optionError('first', '"eth", "ipv4", "ipv6" or "ip"', o.first);
  if (typeof o.checksums !== 'boolean') throw optionError('checksums', 'true or false', o.checksums);
  if (typeof o.udp6ZeroChecksum !== 'boolean') throw optionError('udp6ZeroChecksum', 'true or false', o.udp6ZeroChecksum);
  wholeNumber('maxVlans', o.maxVlans, 64);
  wholeNumber('maxExtHeaders', o.maxExtHeaders, 64);
  if (!Array.isArray(o.guePorts)) throw optionError('guePorts', 'an array of ports', o.guePorts);
  o.guePorts.forEach((p, i) => wholeNumber(`guePorts[${i}]`, p, 65535));
  return Object.freeze({ ...o, guePorts: Object.freeze([...o.guePorts]) });
}

/** Where a decoded header sits in the input. */
export interface LayerSpan {
  readonly index: number;
  readonly type: LayerType;
  readonly offset: number;
  readonly length: number;
}

export interface PacketAnalysis {
  packet: Packet;
  /** Problems found (lenient mode; strict mode throws the first instead). */
  issues: NetaccelError[];
  /** Every checksum the parser reached. */
  checksums: ChecksumCheck[];
  spans: LayerSpan[];
  payloadOffset: number;
  /** Where the trailer starts (= end of the payload). */
  trailerOffset: number;
}

interface IpState {
  v6: boolean;
  src: Uint8Array;
  dst: Uint8Array;
  fragment: FragmentKind;
  exts: number;
}

type Step =
  | { kind: 'eth' }
  | { kind: 'ether'; type: number }
  | { kind: 'ip'; version: 4 | 6 | 'any' }
  | { kind: 'proto'; proto: number; ip: IpState }
  | { kind: 'gue' };

function run(bytes: Uint8Array, opts: ResolvedParseOptions): PacketAnalysis {
  const layers: Layer[] = [];
  const spans: LayerSpan[] = [];
  const issues: NetaccelError[] = [];
  const checksums: ChecksumCheck[] = [];
  const cur: ParseCursor = {
    bytes,
    opts,
    get layerIndex() {
      return layers.length;
    },
    issue(err) {
      if (opts.mode === 'strict') throw err;
      issues.push(err);
    },
    checksum(check) {
      checksums.push(check);
    },
  };
  let off = 0;
  let end = bytes.length;
  let vlans = 0;
  const push = (d: Decoded<Layer>): void => {
    spans.push(Object.freeze({ index: layers.length, type: d.layer.type, offset: off, length: d.length }));
    layers.push(d.layer);
    off += d.length;
  };
  const firstIp = opts.first === 'ipv6' ? 6 : opts.first === 'ipv4' ? 4 : 'any';
  let step: Step = opts.first === 'eth' ? { kind: 'eth' } : { kind: 'ip', version: firstIp };
  decode: for (;;) {
    switch (step.kind) {
      case 'eth': {
        const d = decodeEthernet(cur, off, end);
        if (d === undefined) break decode;
        push(d);
        step = { kind: 'ether', type: d.layer.etherType! };
        break;
      }
      case 'ether': {
        const t: number = step.type;
        if (t === ETHERTYPE.IPV4 || t === ETHERTYPE.IPV6) {
          step = { kind: 'ip', version: t === ETHERTYPE.IPV4 ? 4 : 6 };
          break;
        }
        if (!VLAN_TPIDS.includes(t)) break decode;
        if (vlans >= opts.maxVlans) {
          const details = { layer: 'vlan', layerIndex: layers.length, offset: off };
          cur.issue(NA_ERR_PACKET_TOO_MANY_VLANS.with({ details }, off, opts.maxVlans));
          break decode;
        }
        const d = decodeVlan(cur, off, end, t);
        if (d === undefined) break decode;
        vlans++;
        push(d);
        step = { kind: 'ether', type: d.layer.etherType! };
        break;
      }
      case 'ip': {
        let v: 4 | 6 | 'any' = step.version;
        if (v === 'any') {
          if (!need(cur, 'ip', off, 1, end)) break decode;
          v = bytes[off]! >> 4 === 6 ? 6 : 4;
        }
        const d: DecodedIp<Ipv4Layer | Ipv6Layer> | undefined = v === 4 ? decodeIpv4(cur, off, end) : decodeIpv6(cur, off, end);
        if (d === undefined) break decode;
        push(d);
        end = d.end;
        step = { kind: 'proto', proto: d.proto, ip: { v6: v === 6, src: d.src, dst: d.dst, fragment: d.fragment, exts: 0 } };
        break;
      }
      case 'proto': {
        const proto: number = step.proto;
        const ip: IpState = step.ip;
        if (ip.fragment === 'later') break decode; // no upper-layer header in this fragment
        if (IPV6_EXT_PROTOS.includes(proto) && (ip.v6 || proto === IP_PROTO.AH)) {
          if (ip.exts >= opts.maxExtHeaders) {
            const details = { layer: 'ipv6', layerIndex: layers.length, offset: off };
            cur.issue(NA_ERR_PACKET_EXT_CHAIN_TOO_LONG.with({ details }, off, opts.maxExtHeaders));
            break decode;
          }
          const d = decodeExt(cur, off, end, proto);
          if (d === undefined) break decode;
          push(d);
          ip.exts++;
          if (d.finalDst !== undefined) ip.dst = d.finalDst;
          if (d.fragment !== 'none') ip.fragment = d.fragment;
          step = { kind: 'proto', proto: d.nextHeader, ip };
          break;
        }
        const ipCtx = { src: ip.src, dst: ip.dst, fragment: ip.fragment !== 'none' };
        if (proto === IP_PROTO.TCP) {
          const d = decodeTcp(cur, off, end, ipCtx);
          if (d !== undefined) push(d);
          break decode;
        }
        if (proto === IP_PROTO.ICMP || proto === IP_PROTO.ICMPV6) {
          const d = decodeIcmp(cur, off, end, proto === IP_PROTO.ICMP ? 'icmp' : 'icmpv6', ipCtx);
          if (d !== undefined) push(d);
          break decode;
        }
        if (proto === IP_PROTO.UDP) {
          const d = decodeUdp(cur, off, end, ipCtx);
          if (d === undefined) break decode;
          push(d);
          end = d.end;
          if (ipCtx.fragment || !opts.guePorts.includes(d.layer.dport)) break decode;
          step = { kind: 'gue' };
          break;
        }
        if ((proto === IP_PROTO.IPIP || proto === IP_PROTO.IPV6) && !ipCtx.fragment) {
          step = { kind: 'ip', version: proto === IP_PROTO.IPIP ? 4 : 6 };
          break;
        }
        break decode;
      }
      case 'gue': {
        const d = decodeGue(cur, off, end);
        if (d === undefined) break decode;
        push(d);
        if (d.next === undefined) break decode;
        step = { kind: 'ip', version: d.next === 'ipv4' ? 4 : 6 };
        break;
      }
    }
  }
  const packet: Packet = { layers, payload: copyBytes(bytes, off, end) };
  if (end < bytes.length) packet.trailer = copyBytes(bytes, end, bytes.length);
  return { packet, issues, checksums, spans, payloadOffset: off, trailerOffset: end };
}

/**
 * Decodes a packet. Strict mode (default) throws NA_ERR_PACKET_TRUNCATED, _BAD_IHL, _BAD_LENGTH,
 * _BAD_CHECKSUM, _BAD_VERSION, _BAD_OPTION, _EXT_CHAIN_TOO_LONG or _TOO_MANY_VLANS; lenient
 * mode never throws for any input.
 */
export function parsePacket(bytes: Uint8Array, options?: ParseOptions): Packet {
  return run(bytes, resolveParseOptions(options)).packet;
}

/** Decodes a packet and reports everything found; the mode defaults to lenient here. */
export function inspectPacket(bytes: Uint8Array, options?: ParseOptions): PacketAnalysis {
  return run(bytes, resolveParseOptions({ ...options, mode: options?.mode ?? 'lenient' }));
}

export interface ChecksumReport {
  /** No checksum the parser reached is bad. */
  ok: boolean;
  checks: ChecksumCheck[];
}

/**
 * Checks every checksum the parser reaches (IPv4 header, TCP, UDP, ICMP, ICMPv6, at every
 * encapsulation level). Structural problems do not throw here; see inspectPacket for them.
 */
export function verifyChecksums(bytes: Uint8Array, options?: Omit<ParseOptions, 'mode' | 'checksums'>): ChecksumReport {
  const { checksums } = run(bytes, resolveParseOptions({ ...options, mode: 'lenient', checksums: true }));
  return { ok: checksums.every((c) => c.status !== 'bad'), checks: checksums };
}
