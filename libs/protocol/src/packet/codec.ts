/**
 * Contracts between the header codecs and the build/parse engines: the encode context, the
 * parse cursor (issues, checksum checks), field tables for diffs, and next-type inference.
 */
import type { NetaccelError } from '@netaccel/errors';
import { NA_ERR_PACKET_BAD_CHECKSUM, NA_ERR_PACKET_INVALID_SPEC, NA_ERR_PACKET_TRUNCATED } from '../errors.js';
import type { Layer, LayerType } from './model.js';
import { IP_PROTO, ETHERTYPE } from './model.js';

/** What a header encoder knows besides its own layer. */
export interface EncodeContext {
  /** Path of the layer for error messages: `layers[2]`. */
  readonly path: string;
  /** The layer after this one, if any. */
  readonly next: Layer | undefined;
  /** Everything after this header, already encoded (the trailer excluded). */
  readonly tail: Uint8Array;
  /** Pseudo-header addresses of the nearest IP layer before this one (IPv6: final destination). */
  readonly pseudo: { readonly src: Uint8Array; readonly dst: Uint8Array } | undefined;
}

/** One checksum found while parsing. */
export interface ChecksumCheck {
  readonly layer: LayerType;
  readonly layerIndex: number;
  /** Offset of the checksum field in the input. */
  readonly offset: number;
  readonly stored: number;
  /** The value buildPacket would write. */
  readonly computed: number;
  /** `absent`: a zero UDP checksum where that means "none" (IPv4, or IPv6 when allowed). */
  readonly status: 'ok' | 'bad' | 'absent';
}

/** Parse options after validation and defaults (see parse-options.ts). */
export interface ResolvedParseOptions {
  readonly mode: 'strict' | 'lenient';
  readonly first: 'eth' | 'ipv4' | 'ipv6' | 'ip';
  readonly checksums: boolean;
  readonly maxVlans: number;
  readonly maxExtHeaders: number;
  readonly guePorts: readonly number[];
  readonly udp6ZeroChecksum: boolean;
}

/** The parse engine's view handed to header decoders. */
export interface ParseCursor {
  readonly bytes: Uint8Array;
  readonly opts: ResolvedParseOptions;
  /** Index the layer being decoded will get. */
  readonly layerIndex: number;
  /** Reports a problem: throws in strict mode, records it in lenient mode. */
  issue(err: NetaccelError): void;
  /** Records a checksum check; a bad one is an issue when checksums are verified. */
  checksum(check: ChecksumCheck): void;
}

/** A decoded header: the layer and the number of header bytes it took. */
export interface Decoded<L> {
  layer: L;
  length: number;
}

/** Reports NA_ERR_PACKET_TRUNCATED and returns false when fewer than `needed` bytes are left. */
export function need(cur: ParseCursor, layer: string, off: number, needed: number, end: number): boolean {
  const left = Math.max(0, end - off);
  if (left >= needed) return true;
  cur.issue(
    NA_ERR_PACKET_TRUNCATED.with(
      { details: { layer, layerIndex: cur.layerIndex, offset: off, needed, available: left } },
      layer,
      off,
      needed,
      left,
    ),
  );
  return false;
}

/** Records a checksum and raises NA_ERR_PACKET_BAD_CHECKSUM for a bad one. */
export function recordChecksum(cur: ParseCursor, check: ChecksumCheck): void {
  cur.checksum(check);
  if (check.status === 'bad' && cur.opts.checksums) {
    const hex = (n: number): string => n.toString(16).padStart(4, '0');
    cur.issue(
      NA_ERR_PACKET_BAD_CHECKSUM.with(
        {
          details: {
            layer: check.layer,
            layerIndex: check.layerIndex,
            offset: check.offset,
            field: 'checksum',
            stored: check.stored,
            computed: check.computed,
          },
        },
        check.layer,
        check.offset,
        hex(check.stored),
        hex(check.computed),
      ),
    );
  }
}

/** A field of a header for diffs, relative to the header start; length -1 runs to the header end. */
export interface FieldSpan {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
}

/** The ethertype that announces `next`, or undefined when it cannot be inferred. */
export function etherTypeOf(next: Layer | undefined): number | undefined {
  switch (next?.type) {
    case 'vlan':
      return next.tpid ?? ETHERTYPE.VLAN;
    case 'ipv4':
      return ETHERTYPE.IPV4;
    case 'ipv6':
      return ETHERTYPE.IPV6;
    default:
      return undefined;
  }
}

const PROTO_OF: Partial<Record<LayerType, number>> = {
  ipv4: IP_PROTO.IPIP,
  ipv6: IP_PROTO.IPV6,
  tcp: IP_PROTO.TCP,
  udp: IP_PROTO.UDP,
  icmp: IP_PROTO.ICMP,
  icmpv6: IP_PROTO.ICMPV6,
  'ipv6-hbh': IP_PROTO.HOPOPTS,
  'ipv6-route': IP_PROTO.ROUTING,
  'ipv6-frag': IP_PROTO.FRAGMENT,
  'ipv6-dstopts': IP_PROTO.DSTOPTS,
  ah: IP_PROTO.AH,
};

/** The IP protocol / next-header number that announces `next`, or undefined. */
export function ipProtoOf(next: Layer | undefined): number | undefined {
  return next === undefined ? undefined : PROTO_OF[next.type];
}

/** The explicit value, else the inferred one, else NA_ERR_PACKET_INVALID_SPEC for `path`. */
export function derived(explicit: number | undefined, inferred: number | undefined, bits: number, path: string): number {
  const v = explicit ?? inferred;
  if (v === undefined) throw NA_ERR_PACKET_INVALID_SPEC(path, 'cannot be inferred from the next layer; give it');
  const max = 2 ** bits - 1;
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw NA_ERR_PACKET_INVALID_SPEC(path, `expected an integer 0..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}
