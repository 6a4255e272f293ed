/**
 * AS_PATH and AS4_PATH segments (RFC 4271 §4.3, RFC 5065 for the confederation types, RFC 6793
 * for 4-octet AS numbers) and the reconciliation of a 2-octet session's AS_PATH / AGGREGATOR with
 * AS4_PATH / AS4_AGGREGATOR (RFC 6793 §4.2.3).
 */
import { AS_TRANS } from './constants.js';
import { NA_ERR_BGP_INVALID_MESSAGE } from './errors.js';
import type { ByteWriter } from './wire.js';

export type AsPathSegmentType = 'set' | 'sequence' | 'confed-sequence' | 'confed-set';

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  readonly asns: readonly number[];
}

export type AsPath = readonly AsPathSegment[];

export interface Aggregator {
  readonly asn: number;
  /** IPv4 address of the aggregating speaker. */
  readonly address: string;
}

const SEGMENT_CODE: Readonly<Record<AsPathSegmentType, number>> = { set: 1, sequence: 2, 'confed-sequence': 3, 'confed-set': 4 };
const SEGMENT_TYPE: readonly (AsPathSegmentType | undefined)[] = [undefined, 'set', 'sequence', 'confed-sequence', 'confed-set'];

export function isConfedSegment(seg: AsPathSegment): boolean {
  return seg.type === 'confed-sequence' || seg.type === 'confed-set';
}

/** A path of one AS_SEQUENCE, the common case: `asSequence(65001, 65002)`. */
export function asSequence(...asns: number[]): AsPath {
  return asns.length === 0 ? [] : [{ type: 'sequence', asns }];
}

/**
 * Decodes segments of `asSize`-octet AS numbers in `buf[start, end)`. Returns the path, or a
 * string describing why it is malformed (RFC 7606 §7.2: a segment overrunning the attribute, less
 * than a segment header left, a zero-length segment, an undefined segment type).
 */
export function decodeAsPath(buf: Buffer, start: number, end: number, asSize: 2 | 4): AsPath | string {
  const path: AsPathSegment[] = [];
  let pos = start;
  while (pos < end) {
    if (end - pos < 2) return `${end - pos} octet left where a segment header is expected`;
    const type = SEGMENT_TYPE[buf[pos]!];
    const count = buf[pos + 1]!;
    if (type === undefined) return `segment type ${buf[pos]} is undefined`;
    if (count === 0) return 'segment of zero AS numbers';
    const segEnd = pos + 2 + count * asSize;
    if (segEnd > end) return `segment of ${count} AS numbers overruns the attribute`;
    const asns: number[] = new Array<number>(count);
    for (let i = 0, p = pos + 2; i < count; i++, p += asSize) asns[i] = asSize === 4 ? buf.readUInt32BE(p) : buf.readUInt16BE(p);
    path.push({ type, asns });
    pos = segEnd;
  }
  return path;
}

export function hasAsZero(path: AsPath): boolean {
  return path.some((s) => s.asns.includes(0));
}

export function hasConfedSegment(path: AsPath): boolean {
  return path.some(isConfedSegment);
}

/** True when some AS number does not fit in 2 octets. */
export function needsFourOctets(path: AsPath): boolean {
  return path.some((s) => s.asns.some((a) => a > 0xffff));
}

/** Checks a path to send: known segment types, 1.. AS numbers each, sets of at most 255. */
export function checkAsPath(path: unknown, where: string): AsPath {
  if (!Array.isArray(path)) throw NA_ERR_BGP_INVALID_MESSAGE(`${where}: expected a list of segments`);
  path.forEach((seg: AsPathSegment, i) => {
    const p = `${where}[${i}]`;
    if (seg === null || typeof seg !== 'object' || !(seg.type in SEGMENT_CODE)) {
      throw NA_ERR_BGP_INVALID_MESSAGE(`${p}.type: expected set, sequence, confed-sequence or confed-set`);
    }
    if (!Array.isArray(seg.asns) || seg.asns.length === 0) throw NA_ERR_BGP_INVALID_MESSAGE(`${p}.asns: expected a non-empty list of AS numbers`);
    if ((seg.type === 'set' || seg.type === 'confed-set') && seg.asns.length > 255) {
      throw NA_ERR_BGP_INVALID_MESSAGE(`${p}.asns: a set holds at most 255 AS numbers, got ${seg.asns.length}`);
    }
    seg.asns.forEach((a, j) => {
      if (!Number.isInteger(a) || a < 1 || a > 0xffffffff) {
        throw NA_ERR_BGP_INVALID_MESSAGE(`${p}.asns[${j}]: expected an AS number 1..4294967295, got ${JSON.stringify(a)} (AS 0 is reserved, RFC 7607)`);
      }
    });
  });
  return path as AsPath;
}

/**
 * Writes the segments of a checked path with `asSize`-octet AS numbers. Sequences longer than
 * 255 are split; with 2 octets, AS numbers above 65535 become AS_TRANS (RFC 6793 §4.2.2).
 */
export function writeAsPath(w: ByteWriter, path: AsPath, asSize: 2 | 4): void {
  for (const seg of path) {
    for (let from = 0; from < seg.asns.length; from += 255) {
      const chunk = seg.asns.slice(from, from + 255);
      w.u8(SEGMENT_CODE[seg.type]).u8(chunk.length);
      for (const a of chunk) {
        if (asSize === 4) w.u32(a);
        else w.u16(a > 0xffff ? AS_TRANS : a);
      }
    }
  }
}

/** AS numbers counted for path length: an AS_SET counts as one, confederation segments as none. */
export function asPathLength(path: AsPath): number {
  let n = 0;
  for (const s of path) {
    if (s.type === 'sequence') n += s.asns.length;
    else if (s.type === 'set') n += 1;
  }
  return n;
}

/** Joins adjacent AS_SEQUENCE segments (up to 255 AS numbers each). */
function joinSequences(path: AsPathSegment[]): AsPath {
  const out: AsPathSegment[] = [];
  for (const seg of path) {
    const last = out[out.length - 1];
    if (last !== undefined && last.type === 'sequence' && seg.type === 'sequence' && last.asns.length + seg.asns.length <= 255) {
      out[out.length - 1] = { type: 'sequence', asns: [...last.asns, ...seg.asns] };
    } else {
      out.push(seg);
    }
  }
  return out;
}

/**
 * The AS path of a route from a 2-octet session (RFC 6793 §4.2.3): when AS_PATH has fewer AS
 * numbers than AS4_PATH, AS_PATH alone; otherwise the leading AS numbers of AS_PATH (with its
 * leading or adjacent confederation segments) prepended to AS4_PATH so that the result counts as
 * many AS numbers as AS_PATH. Confederation segments of AS4_PATH are not used (they must not be
 * there, RFC 6793 §3).
 */
export function reconcileAsPath(asPath: AsPath, as4Path: AsPath): AsPath {
  const as4 = as4Path.filter((s) => !isConfedSegment(s));
  const n2 = asPathLength(asPath);
  const n4 = asPathLength(as4);
  if (n2 < n4) return asPath;
  let need = n2 - n4;
  const lead: AsPathSegment[] = [];
  for (const seg of asPath) {
    if (isConfedSegment(seg)) {
      lead.push(seg);
      continue;
    }
    if (need === 0) break;
    if (seg.type === 'set') {
      lead.push(seg);
      need -= 1;
    } else {
      const k = Math.min(need, seg.asns.length);
      lead.push({ type: 'sequence', asns: seg.asns.slice(0, k) });
      need -= k;
    }
  }
  return joinSequences([...lead, ...as4]);
}

export interface As4Fields {
  readonly asPath?: AsPath;
  readonly as4Path?: AsPath;
  readonly aggregator?: Aggregator;
  readonly as4Aggregator?: Aggregator;
}

/**
 * Reconciles the attributes of a route received on a 2-octet session (RFC 6793 §4.2.3) and
 * returns them without AS4_PATH / AS4_AGGREGATOR: when AGGREGATOR names an AS other than
 * AS_TRANS, AS4_PATH and AS4_AGGREGATOR are ignored; otherwise AS4_AGGREGATOR replaces AGGREGATOR
 * and AS4_PATH is merged into AS_PATH by `reconcileAsPath`.
 */
export function reconcileAs4<T extends As4Fields>(attrs: T): Omit<T, 'as4Path' | 'as4Aggregator'> {
  const { as4Path, as4Aggregator, ...rest } = attrs;
  const out = rest as Omit<T, 'as4Path' | 'as4Aggregator'> & { asPath?: AsPath; aggregator?: Aggregator };
  if (attrs.aggregator !== undefined && attrs.aggregator.asn !== AS_TRANS) return out;
  if (attrs.aggregator !== undefined && as4Aggregator !== undefined) out.aggregator = as4Aggregator;
  if (attrs.asPath !== undefined && as4Path !== undefined) out.asPath = reconcileAsPath(attrs.asPath, as4Path);
  return out;
}
