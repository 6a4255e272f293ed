/**
 * HTTP/2 frames and HPACK header fields built by hand for the socket-level fixtures: every
 * representation the kernel claims to handle (README.md, "HPACK"), plain or Huffman, with the
 * name from the static table or literal; and the reading side the test relay needs (frames out
 * of a byte stream, :path and grpc-status of a header block encoded without the dynamic table).
 */
import { huffmanDecode, huffmanEncode } from './huffman.js';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const H2_FRAME = Object.freeze({ DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const);
export const H2_FLAG = Object.freeze({ END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const);

/** Static-table indexes (RFC 7541 Appendix A) the fixtures use. */
export const HPACK_STATIC = Object.freeze({
  METHOD_POST: 3, PATH_ROOT: 4, PATH_INDEX: 5, SCHEME_HTTP: 6, STATUS_200: 8, CONTENT_TYPE: 31, AUTHORITY: 1, USER_AGENT: 58,
} as const);

/** An HPACK integer (RFC 7541 5.1) with `prefix` bits in the first byte, whose high bits are `first`. */
export function hpackInt(value: number, prefix: number, first = 0): Buffer {
  const max = (1 << prefix) - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** An HPACK string literal (RFC 7541 5.2), Huffman-coded or plain. */
export function hpackString(text: string | Uint8Array, huffman: boolean): Buffer {
  const bytes = huffman ? huffmanEncode(text) : Buffer.from(text);
  return Buffer.concat([hpackInt(bytes.length, 7, huffman ? 0x80 : 0), bytes]);
}

export type LiteralKind = 'incremental' | 'without' | 'never';

export interface FieldSpec {
  readonly name: string;
  readonly value: string;
  /** The literal representation (6.2.1, 6.2.2, 6.2.3). */
  readonly kind: LiteralKind;
  /** The name as a static-table index; absent: the name is a literal string. */
  readonly nameIndex?: number;
  /** Huffman-code the literal strings (name and value). */
  readonly huffman: boolean;
}

/** One literal header field. */
export function hpackLiteral(f: FieldSpec): Buffer {
  const [prefix, first] = f.kind === 'incremental' ? [6, 0x40] : f.kind === 'never' ? [4, 0x10] : [4, 0x00];
  const head = hpackInt(f.nameIndex ?? 0, prefix, first);
  const name = f.nameIndex === undefined ? hpackString(f.name, f.huffman) : Buffer.alloc(0);
  return Buffer.concat([head, name, hpackString(f.value, f.huffman)]);
}

/** An indexed header field (6.1). */
export function hpackIndexed(index: number): Buffer {
  return hpackInt(index, 7, 0x80);
}

/** A dynamic table size update (6.3). */
export function hpackSizeUpdate(size: number): Buffer {
  return hpackInt(size, 5, 0x20);
}

export function frame(type: number, flags: number, stream: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

export interface HeadersOptions {
  readonly endStream?: boolean;
  readonly endHeaders?: boolean;
  /** Pad length (adds PADDED). */
  readonly padding?: number;
  /** Adds PRIORITY (5 bytes: dependency 0, weight 16). */
  readonly priority?: boolean;
}

export function headersFrame(stream: number, block: Uint8Array, o: HeadersOptions = {}): Buffer {
  let flags = (o.endStream ? H2_FLAG.END_STREAM : 0) | (o.endHeaders === false ? 0 : H2_FLAG.END_HEADERS);
  const parts: Buffer[] = [];
  if (o.padding !== undefined) {
    flags |= H2_FLAG.PADDED;
    parts.push(Buffer.from([o.padding]));
  }
  if (o.priority) {
    flags |= H2_FLAG.PRIORITY;
    parts.push(Buffer.from([0, 0, 0, 0, 15]));
  }
  parts.push(Buffer.from(block));
  if (o.padding !== undefined) parts.push(Buffer.alloc(o.padding));
  return frame(H2_FRAME.HEADERS, flags, stream, Buffer.concat(parts));
}

export function dataFrame(stream: number, payload: Uint8Array, endStream = false): Buffer {
  return frame(H2_FRAME.DATA, endStream ? H2_FLAG.END_STREAM : 0, stream, payload);
}

/** A SETTINGS frame; `settings` are [identifier, value] pairs. */
export function settingsFrame(settings: readonly (readonly [number, number])[] = [], ack = false): Buffer {
  const p = Buffer.alloc(6 * settings.length);
  settings.forEach(([id, v], i) => {
    p.writeUInt16BE(id, 6 * i);
    p.writeUInt32BE(v, 6 * i + 2);
  });
  return frame(H2_FRAME.SETTINGS, ack ? H2_FLAG.ACK : 0, 0, p);
}

/** A gRPC length-prefixed message (uncompressed). */
export function grpcMessage(payload: Uint8Array): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(payload.length, 1);
  return Buffer.concat([h, payload]);
}

// --- reading ------------------------------------------------------------------------------------

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Buffer;
  /** The frame's bytes, header included. */
  readonly raw: Buffer;
}

/** Cuts whole frames off the front of `buf` (after an optional preface); returns them and the rest. */
export function readFrames(buf: Buffer, expectPreface = false): { frames: Frame[]; rest: Buffer; preface: boolean } {
  let off = 0;
  let preface = false;
  if (expectPreface) {
    if (buf.length < H2_PREFACE.length) return { frames: [], rest: buf, preface: false };
    if (buf.subarray(0, H2_PREFACE.length).equals(H2_PREFACE)) {
      off = H2_PREFACE.length;
      preface = true;
    }
  }
  const frames: Frame[] = [];
  while (buf.length - off >= 9) {
    const len = buf.readUIntBE(off, 3);
    if (buf.length - off < 9 + len) break;
    const raw = buf.subarray(off, off + 9 + len);
    frames.push({ type: raw[3]!, flags: raw[4]!, stream: raw.readUInt32BE(5) & 0x7fffffff, payload: raw.subarray(9), raw });
    off += 9 + len;
  }
  return { frames, rest: buf.subarray(off), preface };
}

/** The header block of a HEADERS frame's payload (padding and priority removed). */
export function headerBlock(f: Frame): Buffer {
  let p = f.payload;
  let pad = 0;
  if (f.flags & H2_FLAG.PADDED) {
    pad = p[0]!;
    p = p.subarray(1);
  }
  if (f.flags & H2_FLAG.PRIORITY) p = p.subarray(5);
  return p.subarray(0, p.length - pad);
}

function readInt(b: Buffer, pos: number, prefix: number): [number, number] {
  const max = (1 << prefix) - 1;
  let v = b[pos]! & max;
  pos++;
  if (v < max) return [v, pos];
  let m = 0;
  for (;;) {
    const c = b[pos++];
    if (c === undefined) throw new RangeError('hpack: integer runs past the block');
    v += (c & 0x7f) * 2 ** m;
    m += 7;
    if (!(c & 0x80)) return [v, pos];
  }
}

function readString(b: Buffer, pos: number): [string, number] {
  const huff = (b[pos]! & 0x80) !== 0;
  const [len, p] = readInt(b, pos, 7);
  const bytes = b.subarray(p, p + len);
  return [(huff ? huffmanDecode(bytes) : bytes).toString('latin1'), p + len];
}

const STATIC_NAMES: Readonly<Record<number, string>> = { 4: ':path', 5: ':path', 8: ':status', 31: 'content-type' };
const STATIC_PATHS: Readonly<Record<number, string>> = { 4: '/', 5: '/index.html' };

/**
 * The fields of a header block that uses no dynamic table (indexed fields keep only the static
 * :path values); throws on a dynamic index. Enough for a relay to read :path and grpc-status.
 */
export function decodeBlock(block: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < block.length) {
    const b = block[pos]!;
    if (b & 0x80) {
      const [idx, p] = readInt(block, pos, 7);
      if (idx > 61) throw new RangeError(`hpack: dynamic index ${idx}`);
      if (STATIC_PATHS[idx] !== undefined) out.set(':path', STATIC_PATHS[idx]!);
      pos = p;
      continue;
    }
    if ((b & 0xe0) === 0x20) {
      pos = readInt(block, pos, 5)[1];
      continue;
    }
    const [idx, p0] = readInt(block, pos, (b & 0xc0) === 0x40 ? 6 : 4);
    if (idx > 61) throw new RangeError(`hpack: dynamic index ${idx}`);
    let name = STATIC_NAMES[idx] ?? `static:${idx}`;
    let p = p0;
    if (idx === 0) [name, p] = readString(block, p);
    const [value, p2] = readString(block, p);
    out.set(name, value);
    pos = p2;
  }
  return out;
}
