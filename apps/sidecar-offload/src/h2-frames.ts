/**
 * The HTTP/2 the spliced connections' user path needs (splice.ts): frames cut from a byte
 * stream, HPACK header blocks decoded WITHOUT a dynamic table (the kernel makes every peer
 * advertise SETTINGS_HEADER_TABLE_SIZE = 0, so an encoder never indexes: a block that refers to
 * the dynamic table cannot be read and is an error), SETTINGS rewritten to a table size of 0, and
 * the few frames the relay writes itself (a trailers-only status, WINDOW_UPDATE), encoded with
 * literals that never touch the peer's table.
 */
import { huffmanDecode } from '@netaccel/bpf-programs/sidecar';

export const H2_PREFACE_LEN = 24;
export const FRAME = Object.freeze({ DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const);
/** HTTP/2 error codes the relay writes (RFC 9113, 7). */
export const H2_ERROR = Object.freeze({ NO_ERROR: 0, CANCEL: 8, REFUSED_STREAM: 7 } as const);
export const FLAG = Object.freeze({ END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const);
const SETTINGS_HEADER_TABLE_SIZE = 1;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  /** The frame, header included (may be modified in place before it is forwarded). */
  readonly raw: Buffer;
}

/** Cuts whole frames off the front of `buf`; returns them and the rest. */
export function cutFrames(buf: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let off = 0;
  while (buf.length - off >= 9) {
    const len = buf.readUIntBE(off, 3);
    if (buf.length - off < 9 + len) break;
    const raw = buf.subarray(off, off + 9 + len);
    frames.push({ type: raw[3]!, flags: raw[4]!, stream: raw.readUInt32BE(5) & 0x7fffffff, raw });
    off += 9 + len;
  }
  return { frames, rest: buf.subarray(off) };
}

/** The header block fragment of a HEADERS or CONTINUATION frame (padding and priority removed). */
export function blockFragment(f: Frame): Buffer {
  let p = f.raw.subarray(9);
  if (f.type !== FRAME.HEADERS) return p;
  let pad = 0;
  if (f.flags & FLAG.PADDED) {
    pad = p[0] ?? 0;
    p = p.subarray(1);
  }
  if (f.flags & FLAG.PRIORITY) p = p.subarray(5);
  if (pad > p.length) throw new RangeError('http2: padding beyond the frame');
  return p.subarray(0, p.length - pad);
}

/** A SETTINGS frame (not ACK) whose HEADER_TABLE_SIZE is made 0 in place; other frames untouched. */
export function zeroTableSize(f: Frame): void {
  if (f.type !== FRAME.SETTINGS || f.flags & FLAG.ACK || f.stream !== 0) return;
  for (let o = 9; o + 6 <= f.raw.length; o += 6) if (f.raw.readUInt16BE(o) === SETTINGS_HEADER_TABLE_SIZE) f.raw.writeUInt32BE(0, o + 2);
}

// --- HPACK (RFC 7541) without a dynamic table ---------------------------------------------------

/** Names of the static table (RFC 7541 Appendix A), index 1..61. */
const STATIC_NAMES = [
  '', ':authority', ':method', ':method', ':path', ':path', ':scheme', ':scheme', ':status', ':status', ':status', ':status', ':status', ':status', ':status',
  'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'accept', 'access-control-allow-origin', 'age', 'allow', 'authorization',
  'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-range', 'content-type',
  'cookie', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'link', 'location', 'max-forwards', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'refresh', 'retry-after', 'server',
  'set-cookie', 'strict-transport-security', 'transfer-encoding', 'user-agent', 'vary', 'via', 'www-authenticate',
] as const;
/** Values of the static entries that have one. */
const STATIC_VALUES: Readonly<Record<number, string>> = {
  2: 'GET', 3: 'POST', 4: '/', 5: '/index.html', 6: 'http', 7: 'https', 8: '200', 9: '204', 10: '206', 11: '304', 12: '400', 13: '404', 14: '500', 16: 'gzip, deflate',
};

function readInt(b: Buffer, pos: number, prefix: number): [number, number] {
  const max = (1 << prefix) - 1;
  let v = b[pos]! & max;
  pos++;
  if (v < max) return [v, pos];
  for (let m = 0; ; m += 7) {
    const c = b[pos++];
    if (c === undefined || m > 28) throw new RangeError('hpack: bad integer');
    v += (c & 0x7f) * 2 ** m;
    if (!(c & 0x80)) return [v, pos];
  }
}

function readString(b: Buffer, pos: number): [string, number] {
  if (pos >= b.length) throw new RangeError('hpack: string runs past the block');
  const huff = (b[pos]! & 0x80) !== 0;
  const [len, p] = readInt(b, pos, 7);
  if (p + len > b.length) throw new RangeError('hpack: string runs past the block');
  const bytes = b.subarray(p, p + len);
  return [(huff ? huffmanDecode(bytes) : bytes).toString('latin1'), p + len];
}

function staticName(idx: number): string {
  const n = STATIC_NAMES[idx];
  if (idx === 0 || n === undefined) throw new RangeError(`hpack: index ${idx} is in the dynamic table (the peer indexes)`);
  return n;
}

/** The fields of a header block that refers to no dynamic-table entry; throws otherwise. */
export function decodeHeaders(block: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < block.length) {
    const b = block[pos]!;
    if (b & 0x80) {
      const [idx, p] = readInt(block, pos, 7);
      out.set(staticName(idx), STATIC_VALUES[idx] ?? '');
      pos = p;
    } else if ((b & 0xe0) === 0x20) {
      const [size, p] = readInt(block, pos, 5);
      if (size !== 0) throw new RangeError(`hpack: dynamic table size update to ${size}`);
      pos = p;
    } else {
      const [idx, p0] = readInt(block, pos, (b & 0xc0) === 0x40 ? 6 : 4);
      let name: string;
      let p = p0;
      if (idx === 0) [name, p] = readString(block, p);
      else name = staticName(idx);
      const [value, p2] = readString(block, p);
      out.set(name, value);
      pos = p2;
    }
  }
  return out;
}

// --- frames the relay writes --------------------------------------------------------------------

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

function intBytes(value: number, prefix: number, first: number): number[] {
  const max = (1 << prefix) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A literal field without indexing, new name, plain strings: changes no decoder's table. */
function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name, 'latin1');
  const v = Buffer.from(value, 'latin1');
  return Buffer.concat([Buffer.from([0x00, ...intBytes(n.length, 7, 0)]), n, Buffer.from(intBytes(v.length, 7, 0)), v]);
}

/** The trailers-only answer of a call the relay ends itself (e.g. PERMISSION_DENIED); `message` percent-encoded already. */
export function trailersOnly(stream: number, status: number, message: string): Buffer {
  const block = Buffer.concat([
    Buffer.from([0x88]), // :status 200 (static index 8)
    literal('content-type', 'application/grpc'),
    literal('grpc-status', String(status)),
    literal('grpc-message', message),
  ]);
  return frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, stream, block);
}

/** The trailers of a call whose response HEADERS went out already, ended by the relay; `message` percent-encoded already. */
export function trailers(stream: number, status: number, message: string): Buffer {
  const block = Buffer.concat([literal('grpc-status', String(status)), literal('grpc-message', message)]);
  return frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, stream, block);
}

/** Gives back `n` bytes of the connection's flow-control window (DATA the relay did not forward). */
export function windowUpdate(n: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(n & 0x7fffffff);
  return frame(FRAME.WINDOW_UPDATE, 0, 0, p);
}

/** Ends one stream with an error code (REFUSED_STREAM: never processed, the client may retry it). */
export function rstStream(stream: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code >>> 0);
  return frame(FRAME.RST_STREAM, 0, stream, p);
}

/** GOAWAY: no stream above `lastStream` is or will be processed; those up to it finish. */
export function goAway(lastStream: number, code: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(lastStream & 0x7fffffff, 0);
  p.writeUInt32BE(code >>> 0, 4);
  return frame(FRAME.GOAWAY, 0, 0, p);
}
