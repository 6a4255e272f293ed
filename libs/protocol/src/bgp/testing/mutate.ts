/**
 * Input generation for the BGP fuzzer, drawn from the seeded Rng (src/random.ts): random messages
 * (raw, and structurally plausible UPDATEs and OPENs) and mutations of valid encodings. Test
 * support only.
 */
import type { Rng } from '../../random.js';
import { AttrType, CapabilityCode } from '../constants.js';

const MARKER = Buffer.alloc(16, 0xff);
const INTERESTING = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xfe, 0xff, 0x10, 0x20, 0x40, 0xc0, 32, 33, 128, 129];
const KNOWN_TYPES: readonly number[] = Object.values(AttrType);
const FLAGS_FOR: Readonly<Record<number, number>> = { 1: 0x40, 2: 0x40, 3: 0x40, 4: 0x80, 5: 0x40, 6: 0x40, 7: 0xc0, 8: 0xc0, 9: 0x80, 10: 0x80, 14: 0x80, 15: 0x80, 17: 0xc0, 18: 0xc0, 32: 0xc0 };

/** A whole message around a body, with a correct length field. */
export function message(type: number, body: Buffer): Buffer {
  const out = Buffer.concat([MARKER, Buffer.alloc(3), body]);
  out.writeUInt16BE(Math.min(out.length, 0xffff), 16);
  out[18] = type;
  return out;
}

function fixLength(buf: Buffer): Buffer {
  if (buf.length >= 18) buf.writeUInt16BE(Math.min(buf.length, 0xffff), 16);
  return buf;
}

function attribute(flags: number, type: number, value: Buffer): Buffer {
  const ext = value.length > 255 || (flags & 0x10) !== 0;
  const head = ext ? Buffer.from([flags | 0x10, type, value.length >> 8, value.length & 0xff]) : Buffer.from([flags & ~0x10, type, value.length]);
  return Buffer.concat([head, value]);
}

function plausibleValue(rng: Rng, type: number): Buffer {
  switch (type) {
    case AttrType.Origin:
      return Buffer.from([rng.int(4)]);
    case AttrType.AsPath:
    case AttrType.As4Path: {
      const parts: Buffer[] = [];
      const size = type === AttrType.As4Path || rng.next() < 0.5 ? 4 : 2;
      for (let i = rng.int(3); i >= 0; i--) {
        const n = rng.int(4);
        parts.push(Buffer.from([1 + rng.int(5), n]), rng.bytes(n * size));
      }
      return Buffer.concat(parts);
    }
    case AttrType.MpReachNlri: {
      const v6 = rng.next() < 0.6;
      const nh = v6 ? rng.pick([16, 32, 4, 0]) : rng.pick([4, 16]);
      return Buffer.concat([Buffer.from([0, v6 ? 2 : 1, rng.pick([1, 1, 2]), nh]), rng.bytes(nh), Buffer.from([0]), randomNlri(rng, v6 ? 128 : 32)]);
    }
    case AttrType.MpUnreachNlri: {
      const v6 = rng.next() < 0.6;
      return Buffer.concat([Buffer.from([0, v6 ? 2 : 1, 1]), randomNlri(rng, v6 ? 128 : 32)]);
    }
    default:
      return rng.bytes(rng.pick([0, 1, 2, 4, 4, 6, 8, 8, 12, 16, rng.int(40)]));
  }
}

function randomNlri(rng: Rng, max: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = rng.int(4); i > 0; i--) {
    if (rng.next() < 0.2) parts.push(rng.bytes(4));
    const len = rng.next() < 0.9 ? rng.int(max + 1) : rng.int(256);
    parts.push(Buffer.from([len]), rng.bytes((len + 7) >> 3));
  }
  const out = Buffer.concat(parts);
  return rng.next() < 0.1 && out.length > 0 ? out.subarray(0, rng.int(out.length)) : out;
}

function randomUpdate(rng: Rng): Buffer {
  const withdrawn = randomNlri(rng, 32);
  const attrs: Buffer[] = [];
  for (let i = rng.int(7); i > 0; i--) {
    const type = rng.next() < 0.8 ? rng.pick(KNOWN_TYPES) : rng.int(256);
    const flags = rng.next() < 0.8 ? (FLAGS_FOR[type] ?? 0xc0) : rng.int(256);
    attrs.push(attribute(flags, type, rng.next() < 0.7 ? plausibleValue(rng, type) : rng.bytes(rng.int(24))));
  }
  const a = Buffer.concat(attrs);
  const body = Buffer.concat([u16(withdrawn.length), withdrawn, u16(a.length), a, randomNlri(rng, 32)]);
  return message(2, body);
}

function randomOpen(rng: Rng): Buffer {
  const caps: Buffer[] = [];
  for (let i = rng.int(6); i > 0; i--) {
    const code = rng.next() < 0.7 ? rng.pick(Object.values(CapabilityCode) as number[]) : rng.int(256);
    const value = rng.bytes(rng.pick([0, 2, 4, 4, 6, 8, rng.int(12)]));
    caps.push(Buffer.from([code, value.length]), value);
  }
  const c = Buffer.concat(caps);
  const params = rng.next() < 0.9 ? Buffer.concat([Buffer.from([2, c.length]), c]) : Buffer.concat([Buffer.from([rng.int(256), c.length]), c]);
  const head = Buffer.from([rng.next() < 0.9 ? 4 : rng.int(256), ...rng.bytes(2), 0, rng.pick([0, 1, 2, 3, 90, 180]), ...rng.bytes(4), params.length]);
  return message(1, Buffer.concat([head, params]));
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
}

/** A random input: raw random bodies, or plausible UPDATEs and OPENs. */
export function randomMessage(rng: Rng): Buffer {
  const r = rng.next();
  if (r < 0.45) return randomUpdate(rng);
  if (r < 0.6) return randomOpen(rng);
  const type = rng.next() < 0.9 ? 1 + rng.int(5) : rng.int(256);
  const out = message(type, rng.bytes(rng.int(rng.next() < 0.8 ? 40 : 300)));
  if (rng.next() < 0.05) out.writeUInt16BE(rng.int(0x10000), 16);
  return out;
}

interface Layout {
  withdrawn: Buffer;
  attrs: Buffer[];
  nlri: Buffer;
}

/** Splits a well-formed UPDATE into withdrawn routes, attribute TLVs and NLRI. */
function updateLayout(msg: Buffer): Layout | undefined {
  if (msg.length < 23 || msg[18] !== 2) return undefined;
  const wr = msg.readUInt16BE(19);
  const taAt = 21 + wr;
  if (taAt + 2 > msg.length) return undefined;
  const ta = msg.readUInt16BE(taAt);
  const start = taAt + 2;
  const end = start + ta;
  if (end > msg.length) return undefined;
  const attrs: Buffer[] = [];
  for (let pos = start; pos < end; ) {
    const head = (msg[pos]! & 0x10) !== 0 ? 4 : 3;
    if (pos + head > end) return undefined;
    const len = head === 4 ? msg.readUInt16BE(pos + 2) : msg[pos + 2]!;
    if (pos + head + len > end) return undefined;
    attrs.push(Buffer.from(msg.subarray(pos, pos + head + len)));
    pos += head + len;
  }
  return { withdrawn: Buffer.from(msg.subarray(21, 21 + wr)), attrs, nlri: Buffer.from(msg.subarray(end)) };
}

function rebuild(l: Layout): Buffer {
  const a = Buffer.concat(l.attrs);
  return message(2, Buffer.concat([u16(l.withdrawn.length), l.withdrawn, u16(a.length), a, l.nlri]));
}

type Mutation = (buf: Buffer, rng: Rng, updates: readonly Buffer[]) => Buffer;

const bodyPos = (buf: Buffer, rng: Rng): number => (buf.length > 19 && rng.next() < 0.9 ? 19 + rng.int(buf.length - 19) : rng.int(buf.length));

const MUTATIONS: readonly Mutation[] = [
  (buf, rng) => {
    const p = bodyPos(buf, rng);
    buf[p] = buf[p]! ^ (1 << rng.int(8));
    return buf;
  },
  (buf, rng) => {
    buf[bodyPos(buf, rng)] = rng.next() < 0.7 ? rng.pick(INTERESTING) : rng.int(256);
    return buf;
  },
  (buf, rng) => {
    const out = Buffer.from(buf.subarray(0, rng.int(buf.length)));
    return rng.next() < 0.7 ? fixLength(out) : out;
  },
  (buf, rng) => {
    const out = Buffer.concat([buf, rng.bytes(1 + rng.int(32))]);
    return rng.next() < 0.7 ? fixLength(out) : out;
  },
  (buf, rng) => {
    if (buf.length >= 18) buf.writeUInt16BE((rng.next() < 0.7 ? buf.length + rng.pick([-3, -2, -1, 1, 2, 4, 100]) : rng.int(0x10000)) & 0xffff, 16);
    return buf;
  },
  // UPDATE: Withdrawn Routes Length or Total Path Attribute Length off by a little or a lot
  (buf, rng) => {
    if (buf[18] !== 2 || buf.length < 23) return buf;
    const wr = buf.readUInt16BE(19);
    const at = rng.next() < 0.5 || 21 + wr + 2 > buf.length ? 19 : 21 + wr;
    buf.writeUInt16BE((buf.readUInt16BE(at) + rng.pick([-2, -1, 1, 2, 3, 255, rng.int(0x10000)])) & 0xffff, at);
    return buf;
  },
  // Attribute structure: length, flags, type, value, splicing, duplication, deletion, order
  (buf, rng, updates) => {
    const l = updateLayout(buf);
    if (l === undefined) return buf;
    const i = rng.int(Math.max(1, l.attrs.length));
    const a = l.attrs[i];
    switch (rng.int(8)) {
      case 0:
        if (a !== undefined) {
          const lenAt = (a[0]! & 0x10) !== 0 ? 3 : 2;
          a[lenAt] = (a[lenAt]! + rng.pick([-1, 1, 2, 4, 8, 128])) & 0xff;
        }
        break;
      case 1:
        if (a !== undefined) a[0] = a[0]! ^ rng.pick([0x80, 0x40, 0x20, 0x10, 0x0f]);
        break;
      case 2:
        if (a !== undefined) a[1] = rng.next() < 0.7 ? rng.pick(KNOWN_TYPES) : rng.int(256);
        break;
      case 3:
        if (a !== undefined) l.attrs[i] = attribute(a[0]!, a[1]!, rng.next() < 0.5 ? plausibleValue(rng, a[1]!) : rng.bytes(rng.int(20)));
        break;
      case 4: {
        const other = updates.length > 0 ? updateLayout(rng.pick(updates)) : undefined;
        if (other !== undefined && other.attrs.length > 0) l.attrs.splice(rng.int(l.attrs.length + 1), 0, rng.pick(other.attrs));
        break;
      }
      case 5:
        if (a !== undefined) l.attrs.splice(rng.int(l.attrs.length + 1), 0, Buffer.from(a));
        break;
      case 6:
        l.attrs.splice(i, 1);
        break;
      default:
        if (l.attrs.length > 1) {
          const j = rng.int(l.attrs.length);
          [l.attrs[i], l.attrs[j]] = [l.attrs[j]!, l.attrs[i]!];
        }
    }
    return rebuild(l);
  },
  // NLRI and withdrawn routes: a prefix length beyond the family, or extra octets
  (buf, rng) => {
    const l = updateLayout(buf);
    if (l === undefined) return buf;
    const field = rng.next() < 0.5 ? 'nlri' : 'withdrawn';
    if (l[field].length > 0 && rng.next() < 0.6) l[field][rng.int(l[field].length)] = rng.pick([33, 64, 129, 255, 0]);
    else l[field] = Buffer.concat([l[field], randomNlri(rng, 32)]);
    return rebuild(l);
  },
  // OPEN: optional parameters length, a parameter or capability length or code
  (buf, rng) => {
    if (buf[18] !== 1 || buf.length < 29) return buf;
    const p = rng.next() < 0.3 ? 28 : 29 + rng.int(Math.max(1, buf.length - 29));
    if (p < buf.length) buf[p] = rng.next() < 0.5 ? (buf[p]! + rng.pick([-1, 1, 2, 255])) & 0xff : rng.pick(INTERESTING);
    return buf;
  },
];

/** One to three mutations of a valid message (the input is not modified). */
export function mutate(valid: Buffer, rng: Rng, updates: readonly Buffer[]): Buffer {
  let buf: Buffer = Buffer.from(valid);
  for (let n = 1 + rng.int(3); n > 0 && buf.length > 0; n--) buf = rng.pick(MUTATIONS)(buf, rng, updates);
  return buf;
}
