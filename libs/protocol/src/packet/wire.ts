/**
 * Byte-level helpers shared by the header codecs: big-endian reads and writes, concatenation,
 * spec field validation (NA_ERR_PACKET_INVALID_SPEC with the field path first) and the two TLV
 * option encodings (IPv4/TCP style and IPv6 style).
 */
import { NA_ERR_PACKET_BAD_OPTION, NA_ERR_PACKET_INVALID_SPEC } from '../errors.js';

export function readU16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

export function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export function writeU16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A plain Uint8Array copy of `b[start, end)` (never a Buffer, never shared with the input). */
export function copyBytes(b: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(b.subarray(start, end));
}

/** Lower-case hex of the bytes, no separators. */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Bytes from hex text; whitespace and `:` separators are ignored. Throws a TypeError on bad hex. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new TypeError(`fromHex: not an even-length hex string: ${text.slice(0, 40)}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// --- spec validation --------------------------------------------------------------------------

/** An unsigned integer of `bits` bits, or NA_ERR_PACKET_INVALID_SPEC naming `path`. */
export function specUint(value: unknown, bits: number, path: string): number {
  const max = 2 ** bits - 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw NA_ERR_PACKET_INVALID_SPEC(path, `expected an integer 0..${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function specOptUint(value: unknown, bits: number, path: string, dflt: number): number {
  return value === undefined ? dflt : specUint(value, bits, path);
}

export function specBool(value: unknown, path: string, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== 'boolean') throw NA_ERR_PACKET_INVALID_SPEC(path, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

export function specBytes(value: unknown, path: string): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (!(value instanceof Uint8Array)) throw NA_ERR_PACKET_INVALID_SPEC(path, 'expected a Uint8Array');
  return value;
}

// --- TLV options ------------------------------------------------------------------------------

/** One option: `type` (kind), and `data` without the type and length bytes. */
export interface TlvOption {
  type: number;
  data?: Uint8Array;
}

/**
 * 'ip' is the IPv4 and TCP encoding (0 = end of list and 1 = no-op are single bytes; the length
 * byte counts type and length). 'ipv6' is the IPv6 hop-by-hop / destination option encoding
 * (0 = Pad1 is a single byte; the length byte counts the data only).
 */
export type TlvStyle = 'ip' | 'ipv6';

function singleByte(type: number, style: TlvStyle): boolean {
  return style === 'ip' ? type === 0 || type === 1 : type === 0;
}

/** Encodes options in order, unpadded. */
export function encodeTlvOptions(options: readonly TlvOption[], style: TlvStyle = 'ip'): Uint8Array {
  const parts: Uint8Array[] = [];
  options.forEach((o, i) => {
    const type = specUint(o.type, 8, `options[${i}].type`);
    const data = specBytes(o.data, `options[${i}].data`);
    if (singleByte(type, style)) {
      if (data.length > 0) throw NA_ERR_PACKET_INVALID_SPEC(`options[${i}].data`, `option ${type} carries no data`);
      parts.push(Uint8Array.of(type));
      return;
    }
    const len = style === 'ip' ? data.length + 2 : data.length;
    if (len > 255) {
      const max = style === 'ip' ? 253 : 255;
      throw NA_ERR_PACKET_INVALID_SPEC(`options[${i}].data`, `expected at most ${max} bytes, got ${data.length}`);
    }
    parts.push(Uint8Array.of(type, len), data);
  });
  return concatBytes(parts);
}

/** A problem in an option area: where (relative to the area) and what. */
export interface TlvProblem {
  offset: number;
  message: string;
}

/** The first structural problem of an option area, or undefined. Bytes after an IPv4/TCP EOL are padding. */
export function checkTlvOptions(bytes: Uint8Array, style: TlvStyle): TlvProblem | undefined {
  let i = 0;
  while (i < bytes.length) {
    const type = bytes[i]!;
    if (style === 'ip' && type === 0) return undefined;
    if (singleByte(type, style)) {
      i++;
      continue;
    }
    if (i + 1 >= bytes.length) return { offset: i, message: `option ${type} has no length byte` };
    const len = bytes[i + 1]!;
    const total = style === 'ip' ? len : len + 2;
    if (style === 'ip' && len < 2) return { offset: i, message: `option ${type} has length ${len}, below 2` };
    if (i + total > bytes.length) {
      return { offset: i, message: `option ${type} of ${total} bytes overruns the ${bytes.length - i} bytes left` };
    }
    i += total;
  }
  return undefined;
}

/**
 * Decodes an option area into options. IPv4/TCP: decoding stops after an end-of-list option
 * (the rest is padding). Throws NA_ERR_PACKET_BAD_OPTION on a malformed area.
 */
export function decodeTlvOptions(bytes: Uint8Array, style: TlvStyle = 'ip'): TlvOption[] {
  const problem = checkTlvOptions(bytes, style);
  if (problem !== undefined) throw NA_ERR_PACKET_BAD_OPTION(style === 'ip' ? 'ip/tcp' : 'ipv6', problem.offset, problem.message);
  const out: TlvOption[] = [];
  let i = 0;
  while (i < bytes.length) {
    const type = bytes[i]!;
    if (singleByte(type, style)) {
      out.push({ type });
      i++;
      if (style === 'ip' && type === 0) break;
      continue;
    }
    const len = bytes[i + 1]!;
    const total = style === 'ip' ? len : len + 2;
    out.push({ type, data: copyBytes(bytes, i + 2, i + total) });
    i += total;
  }
  return out;
}

/** Zero padding (IPv4/TCP EOL bytes) up to a multiple of `align`. */
export function padZeros(bytes: Uint8Array, align: number): Uint8Array {
  const rem = bytes.length % align;
  return rem === 0 ? bytes : concatBytes([bytes, new Uint8Array(align - rem)]);
}
