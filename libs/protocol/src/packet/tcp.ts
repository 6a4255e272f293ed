/**
 * TCP (RFC 9293) header with options and the pseudo-header checksum, plus helpers to write and
 * read the common options (MSS, window scale, SACK, timestamps).
 */
import { NA_ERR_PACKET_BAD_LENGTH, NA_ERR_PACKET_BAD_OPTION, NA_ERR_PACKET_INVALID_SPEC } from '../errors.js';
import { checksumVerifies, internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';
import type { Decoded, EncodeContext, FieldSpan, ParseCursor } from './codec.js';
import { need, recordChecksum } from './codec.js';
import type { TcpLayer } from './model.js';
import { IP_PROTO, TCP_FLAGS } from './model.js';
import type { TlvOption } from './wire.js';
import {
  checkTlvOptions,
  concatBytes,
  copyBytes,
  decodeTlvOptions,
  encodeTlvOptions,
  padZeros,
  readU16,
  readU32,
  specBytes,
  specOptUint,
  specUint,
  writeU16,
  writeU32,
} from './wire.js';

export const TCP_HEADER_LEN = 20;

export const TCP_FIELDS: readonly FieldSpan[] = [
  { name: 'sport', offset: 0, length: 2 },
  { name: 'dport', offset: 2, length: 2 },
  { name: 'seq', offset: 4, length: 4 },
  { name: 'ack', offset: 8, length: 4 },
  { name: 'dataOffset/flags', offset: 12, length: 2 },
  { name: 'window', offset: 14, length: 2 },
  { name: 'checksum', offset: 16, length: 2 },
  { name: 'urgent', offset: 18, length: 2 },
  { name: 'options', offset: 20, length: -1 },
];

/** TCP option kinds. */
export const TCP_OPTION = Object.freeze({ EOL: 0, NOP: 1, MSS: 2, WSCALE: 3, SACK_PERMITTED: 4, SACK: 5, TIMESTAMP: 8 });

/** The pseudo-header addresses an L4 encoder needs, or NA_ERR_PACKET_INVALID_SPEC. */
export function pseudoOf(ctx: EncodeContext): { src: Uint8Array; dst: Uint8Array } {
  if (ctx.pseudo === undefined) {
    throw NA_ERR_PACKET_INVALID_SPEC(`${ctx.path}.checksum`, 'no IP layer before it to compute it from; give it');
  }
  return ctx.pseudo;
}

export function encodeTcp(l: TcpLayer, ctx: EncodeContext): Uint8Array {
  const p = ctx.path;
  const options = padZeros(specBytes(l.options, `${p}.options`), 4);
  if (l.dataOffset === undefined && options.length > 40) {
    throw NA_ERR_PACKET_INVALID_SPEC(`${p}.options`, `expected at most 40 bytes, got ${options.length}`);
  }
  const hdrLen = TCP_HEADER_LEN + options.length;
  const out = new Uint8Array(hdrLen);
  writeU16(out, 0, specUint(l.sport, 16, `${p}.sport`));
  writeU16(out, 2, specUint(l.dport, 16, `${p}.dport`));
  writeU32(out, 4, specOptUint(l.seq, 32, `${p}.seq`, 0));
  writeU32(out, 8, specOptUint(l.ack, 32, `${p}.ack`, 0));
  const dataOffset = specOptUint(l.dataOffset, 4, `${p}.dataOffset`, hdrLen / 4);
  const reserved = specOptUint(l.reserved, 3, `${p}.reserved`, 0);
  writeU16(out, 12, (dataOffset << 12) | (reserved << 9) | specOptUint(l.flags, 9, `${p}.flags`, TCP_FLAGS.ACK));
  writeU16(out, 14, specOptUint(l.window, 16, `${p}.window`, 65535));
  writeU16(out, 18, specOptUint(l.urgent, 16, `${p}.urgent`, 0));
  out.set(options, TCP_HEADER_LEN);
  let checksum = l.checksum;
  if (checksum === undefined) {
    const { src, dst } = pseudoOf(ctx);
    const sum = onesComplementSum(out, 0, hdrLen, pseudoHeaderSum(src, dst, IP_PROTO.TCP, hdrLen + ctx.tail.length));
    checksum = internetChecksum(ctx.tail, 0, ctx.tail.length, sum);
  }
  writeU16(out, 16, specUint(checksum, 16, `${p}.checksum`));
  return out;
}

/** What an L4 decoder knows about the enclosing IP datagram. */
export interface IpContext {
  src: Uint8Array;
  /** Final destination for the pseudo-header. */
  dst: Uint8Array;
  /** Checksums of fragments cannot be verified. */
  fragment: boolean;
}

export function decodeTcp(cur: ParseCursor, off: number, end: number, ip: IpContext | undefined): Decoded<TcpLayer> | undefined {
  const b = cur.bytes;
  if (!need(cur, 'tcp', off, TCP_HEADER_LEN, end)) return undefined;
  const w = readU16(b, off + 12);
  const dataOffset = w >> 12;
  if (dataOffset < 5) {
    const d = { details: { layer: 'tcp', layerIndex: cur.layerIndex, offset: off + 12, field: 'dataOffset' } };
    cur.issue(NA_ERR_PACKET_BAD_LENGTH.with(d, 'tcp', 'dataOffset', off + 12, `${dataOffset} words is below 5`));
    return undefined;
  }
  const hdrLen = dataOffset * 4;
  if (!need(cur, 'tcp', off, hdrLen, end)) return undefined;
  const options = copyBytes(b, off + TCP_HEADER_LEN, off + hdrLen);
  const bad = checkTlvOptions(options, 'ip');
  if (bad !== undefined) {
    const o = off + TCP_HEADER_LEN + bad.offset;
    const details = { layer: 'tcp', layerIndex: cur.layerIndex, offset: o, field: 'options' };
    cur.issue(NA_ERR_PACKET_BAD_OPTION.with({ details }, 'tcp', o, bad.message));
  }
  const stored = readU16(b, off + 16);
  if (ip !== undefined && !ip.fragment) {
    const pseudo = pseudoHeaderSum(ip.src, ip.dst, IP_PROTO.TCP, end - off);
    const computed = ~onesComplementSum(b, off + 18, end, onesComplementSum(b, off, off + 16, pseudo)) & 0xffff;
    const status = checksumVerifies(b, off, end, pseudo) ? 'ok' : 'bad';
    recordChecksum(cur, { layer: 'tcp', layerIndex: cur.layerIndex, offset: off + 16, stored, computed, status });
  }
  const layer: TcpLayer = {
    type: 'tcp',
    sport: readU16(b, off),
    dport: readU16(b, off + 2),
    seq: readU32(b, off + 4),
    ack: readU32(b, off + 8),
    dataOffset,
    reserved: (w >> 9) & 7,
    flags: w & 0x1ff,
    window: readU16(b, off + 14),
    checksum: stored,
    urgent: readU16(b, off + 18),
    options,
  };
  return { layer, length: hdrLen };
}

/** Names of the set flags, e.g. `SYN|ACK`; `-` when none. */
export function formatTcpFlags(flags: number): string {
  const names = Object.entries(TCP_FLAGS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
  return names.length === 0 ? '-' : names.join('|');
}

export interface TcpOptionValues {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  /** [TSval, TSecr] */
  timestamp?: readonly [number, number];
  /** SACK blocks [left, right]. */
  sack?: readonly (readonly [number, number])[];
}

/**
 * Option bytes laid out as Linux writes them (MSS; SACK-permitted + timestamps; NOP + window
 * scale; SACK blocks), padded to a multiple of 4.
 */
export function tcpOptions(values: TcpOptionValues): Uint8Array {
  const o: TlvOption[] = [];
  const u32 = (a: number, b: number): Uint8Array => {
    const d = new Uint8Array(8);
    writeU32(d, 0, specUint(a, 32, 'timestamp/sack'));
    writeU32(d, 4, specUint(b, 32, 'timestamp/sack'));
    return d;
  };
  const nop = { type: TCP_OPTION.NOP };
  if (values.mss !== undefined) {
    const mss = specUint(values.mss, 16, 'mss');
    o.push({ type: TCP_OPTION.MSS, data: Uint8Array.of(mss >> 8, mss & 0xff) });
  }
  if (values.timestamp !== undefined) {
    if (values.sackPermitted === true) o.push({ type: TCP_OPTION.SACK_PERMITTED });
    else o.push(nop, nop);
    o.push({ type: TCP_OPTION.TIMESTAMP, data: u32(values.timestamp[0], values.timestamp[1]) });
  }
  if (values.wscale !== undefined) o.push(nop, { type: TCP_OPTION.WSCALE, data: Uint8Array.of(specUint(values.wscale, 8, 'wscale')) });
  if (values.sackPermitted === true && values.timestamp === undefined) o.push(nop, nop, { type: TCP_OPTION.SACK_PERMITTED });
  if (values.sack !== undefined && values.sack.length > 0) {
    o.push(nop, nop, { type: TCP_OPTION.SACK, data: concatBytes(values.sack.map(([l, r]) => u32(l, r))) });
  }
  return padZeros(encodeTlvOptions(o), 4);
}

/** Reads the common options; throws NA_ERR_PACKET_BAD_OPTION for a malformed option area. */
export function tcpOptionValues(options: Uint8Array): TcpOptionValues {
  const out: TcpOptionValues = {};
  for (const { type, data } of decodeTlvOptions(options, 'ip')) {
    const d = data ?? new Uint8Array(0);
    if (type === TCP_OPTION.MSS && d.length === 2) out.mss = readU16(d, 0);
    else if (type === TCP_OPTION.WSCALE && d.length === 1) out.wscale = d[0]!;
    else if (type === TCP_OPTION.SACK_PERMITTED) out.sackPermitted = true;
    else if (type === TCP_OPTION.TIMESTAMP && d.length === 8) out.timestamp = [readU32(d, 0), readU32(d, 4)];
    else if (type === TCP_OPTION.SACK && d.length % 8 === 0) {
      const blocks: [number, number][] = [];
      for (let i = 0; i < d.length; i += 8) blocks.push([readU32(d, i), readU32(d, i + 4)]);
      out.sack = blocks;
    }
  }
  return out;
}
