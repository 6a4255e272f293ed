/**
 * A growable big-endian byte writer for the encoders, with length back-patching and a path
 * attribute helper that picks the one- or two-octet length form after the value is written.
 */
import { AttrFlag } from './constants.js';
import { NA_ERR_BGP_MESSAGE_TOO_LARGE } from './errors.js';

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 512) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Octets written so far. */
  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  fill(value: number, n: number): this {
    this.ensure(n);
    this.buf.fill(value, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  /** Writes a placeholder of `n` octets and returns where it is, for `setU8` / `setU16`. */
  reserve(n: number): number {
    const at = this.pos;
    this.fill(0, n);
    return at;
  }

  setU8(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  setU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v & 0xffff, at);
  }

  /**
   * Writes a path attribute: flags, type, then the value written by `body`. The two-octet length
   * form (Extended Length bit) is used only when the value is longer than 255 octets.
   */
  attribute(flags: number, type: number, body: (w: ByteWriter) => void): void {
    const start = this.pos;
    this.u8(flags | AttrFlag.ExtendedLength).u8(type);
    const lenAt = this.reserve(2);
    body(this);
    const len = this.pos - lenAt - 2;
    if (len > 0xffff) {
      throw NA_ERR_BGP_MESSAGE_TOO_LARGE(`attribute type ${type}`, len, 0xffff);
    }
    if (len <= 255) {
      this.buf[start] = flags & ~AttrFlag.ExtendedLength & 0xff;
      this.buf[lenAt] = len;
      this.buf.copyWithin(lenAt + 1, lenAt + 2, this.pos);
      this.pos -= 1;
    } else {
      this.buf.writeUInt16BE(len, lenAt);
    }
  }

  /** A copy of the octets written. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** Size of a path attribute's header for a value of `len` octets (3, or 4 with Extended Length). */
export function attributeHeaderLength(len: number): number {
  return len > 255 ? 4 : 3;
}
