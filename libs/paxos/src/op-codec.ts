/**
 * The byte codec shared by the state machines' operations (kv.ts, config-machine.ts):
 * big-endian integers and UTF-8 strings prefixed by a u16 length, read with a bounds check per
 * field so that a short or long operation is refused naming the field, never read past its end.
 */

/** A UTF-8 string as its u16 length and its bytes. */
export function lenStr(s: string): Buffer[] {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return [len, b];
}

/** Reads an operation field by field; `refuse(field, detail)` makes the error thrown (the state machine's code). */
export class OpReader {
  private pos = 0;

  constructor(
    private readonly b: Buffer,
    private readonly prefix: string,
    private readonly refuse: (field: string, detail: string) => Error,
  ) {}

  private need(n: number, field: string): void {
    if (this.b.length - this.pos < n) throw this.refuse(`${this.prefix}.${field}`, `needs ${n} bytes, ${this.b.length - this.pos} left`);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.b[this.pos++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.b.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  str(field: string): string {
    this.need(2, `${field}_len`);
    const len = this.b.readUInt16BE(this.pos);
    this.pos += 2;
    this.need(len, field);
    const s = this.b.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = this.b.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** `len` bytes (a view, not a copy). */
  bytes(len: number, field: string): Buffer {
    this.need(len, field);
    const v = this.b.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  /** Refuses bytes left after the operation. */
  end(): void {
    if (this.pos !== this.b.length) throw this.refuse(this.prefix, `${this.b.length - this.pos} bytes after the operation`);
  }
}
