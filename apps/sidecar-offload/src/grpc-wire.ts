/**
 * The gRPC-over-HTTP/2 details the proxy reads: length-prefixed messages split anywhere across
 * DATA frames (a streaming framer that counts messages and payload bytes and may keep the first
 * bytes of each message), `grpc-timeout` values, status codes and `grpc-message` encoding, and
 * the one protobuf field the etcd counter needs. Pure functions, no I/O.
 */

/** gRPC status codes (grpc/doc/statuscodes.md). */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export function statusName(code: number): string {
  return GRPC_STATUS_NAMES[code] ?? `CODE_${code}`;
}

/** A `grpc-status` header value as a code; UNKNOWN when absent or not a number 0..99. */
export function parseStatus(value: string | string[] | undefined): number {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || !/^\d{1,2}$/.test(v)) return GrpcStatus.UNKNOWN;
  return Number(v);
}

/** Percent-encodes a `grpc-message` (PROTOCOL-HTTP2.md: printable ASCII except %). */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeGrpcMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const TIMEOUT_UNITS_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** A `grpc-timeout` header ("100m", "5S": at most 8 digits and a unit) in ms; undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  if (m === null) return undefined;
  return Number(m[1]) * TIMEOUT_UNITS_MS[m[2]!]!;
}

/** ms as a `grpc-timeout` value: milliseconds while they fit 8 digits, else seconds. */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  return whole < 1e8 ? `${whole}m` : `${Math.min(99_999_999, Math.ceil(whole / 1000))}S`;
}

export interface FramedMessage {
  /** The message's first bytes, up to the framer's capture limit. */
  readonly head: Buffer;
  /** Its whole payload length (without the 5-byte prefix). */
  readonly length: number;
  /** The compressed flag of its prefix. */
  readonly compressed: boolean;
}

/**
 * Follows the length-prefixed messages of one direction of a call, chunk by chunk, wherever the
 * chunks split them; never holds more than `capture` bytes per message.
 */
export class GrpcFramer {
  /** Complete messages seen. */
  messages = 0;
  /** Payload bytes seen (prefixes excluded), complete messages or not. */
  bytes = 0;
  /** Bytes of the current 5-byte prefix seen, and what they said: the flags byte, the length so far. */
  private prefixFill = 0;
  private flags = 0;
  private prefixLength = 0;
  private remaining = 0;
  private length = 0;
  private inMessage = false;
  private compressed = false;
  private parts: Buffer[] = [];
  private kept = 0;

  constructor(
    private readonly capture = 0,
    private readonly onMessage?: (m: FramedMessage) => void,
  ) {}

  /** True when the bytes so far end inside a message or its prefix. */
  get partial(): boolean {
    return this.inMessage || this.prefixFill > 0;
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (!this.inMessage) {
        if (this.prefixFill === 0 && chunk.length - off >= 5) {
          // the whole prefix in this chunk (the usual case)
          this.flags = chunk[off]!;
          this.prefixLength = chunk.readUInt32BE(off + 1);
          off += 5;
        } else {
          // a prefix split across chunks: byte by byte
          const b = chunk[off++]!;
          if (this.prefixFill === 0) {
            this.flags = b;
            this.prefixLength = 0;
          } else {
            this.prefixLength = this.prefixLength * 256 + b;
          }
          if (++this.prefixFill < 5) continue;
        }
        this.prefixFill = 0;
        this.compressed = (this.flags & 1) === 1;
        this.length = this.remaining = this.prefixLength;
        this.inMessage = true;
        if (this.remaining === 0) this.complete();
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - off);
      if (this.kept < this.capture) {
        const keep = Math.min(take, this.capture - this.kept);
        this.parts.push(chunk.subarray(off, off + keep));
        this.kept += keep;
      }
      this.bytes += take;
      this.remaining -= take;
      off += take;
      if (this.remaining === 0) this.complete();
    }
  }

  private complete(): void {
    this.messages += 1;
    this.inMessage = false;
    if (this.onMessage === undefined) {
      // counted only: nothing to hand over
      if (this.kept > 0) this.parts = [];
      this.kept = 0;
      return;
    }
    const head = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.kept = 0;
    // a copy: the chunk the head points into belongs to the stream and is forwarded as is
    this.onMessage?.({ head: this.capture > 0 ? Buffer.from(head) : head, length: this.length, compressed: this.compressed });
  }
}

/** Reads a base-128 varint at `off`; undefined when the buffer ends first or it exceeds 2^53. */
function varint(buf: Buffer, off: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = off; i < buf.length && i < off + 8; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    scale *= 128;
  }
  return undefined;
}

/**
 * The bytes of length-delimited field `field` of a protobuf message (its first occurrence), from
 * the message or its first bytes; undefined when the field is absent from them, the message is
 * malformed, or the field runs past what is there.
 */
export function protobufBytesField(msg: Buffer, field: number): Buffer | undefined {
  let off = 0;
  while (off < msg.length) {
    const tag = varint(msg, off);
    if (tag === undefined || tag.value === 0) return undefined;
    off = tag.next;
    const wire = tag.value % 8;
    const number = Math.floor(tag.value / 8);
    switch (wire) {
      case 0: {
        const v = varint(msg, off);
        if (v === undefined) return undefined;
        off = v.next;
        break;
      }
      case 1:
        off += 8;
        break;
      case 5:
        off += 4;
        break;
      case 2: {
        const len = varint(msg, off);
        if (len === undefined) return undefined;
        const end = len.next + len.value;
        if (number === field) return end <= msg.length ? msg.subarray(len.next, end) : undefined;
        off = end;
        break;
      }
      default:
        return undefined; // groups (3, 4) and reserved wire types: not what etcd sends
    }
  }
  return undefined;
}
