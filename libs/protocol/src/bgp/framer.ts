/**
 * Stream framing: accumulates the chunks a TCP socket delivers and hands out whole messages.
 * The marker and the length field are checked as soon as their octets arrive, so a stream out of
 * sync (1/1) or a length outside 19..maximum (1/2) is rejected without waiting for more data.
 * Messages that precede a bad header are still handed out first, in order, by `next()`. After an
 * error the framer stays failed: the session must be torn down.
 */
import { HEADER_LENGTH, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from './constants.js';
import type { SessionContext } from './context.js';
import { maxMessageLength } from './context.js';
import { NA_ERR_BGP_INVALID_OPTIONS } from './errors.js';
import { readHeader } from './header.js';

export interface FramerOptions {
  /** Largest message accepted, header included: 4096, or 65535 once extended messages are negotiated. */
  maxLength?: number;
}

export class BgpFramer {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private limit: number;
  private failure: Error | undefined;

  constructor(opts: FramerOptions = {}) {
    this.limit = checkLimit(opts.maxLength ?? MAX_MESSAGE_LENGTH);
  }

  /** Largest message accepted. Raise it once the session negotiated extended messages. */
  get maxLength(): number {
    return this.limit;
  }

  set maxLength(n: number) {
    this.limit = checkLimit(n);
  }

  /** Takes the receive limit of a negotiated session. */
  useContext(ctx: SessionContext): void {
    this.maxLength = maxMessageLength(ctx, 'receive');
  }

  /** Octets held that do not yet form a whole message. */
  get buffered(): number {
    return this.buf.length - this.pos;
  }

  /** Adds a chunk read from the connection; then call `next()` until it returns null. */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    if (chunk.length === 0) return;
    const rest = this.buf.subarray(this.pos);
    this.buf = rest.length === 0 ? Buffer.from(chunk) : Buffer.concat([rest, chunk]);
    this.pos = 0;
  }

  /**
   * The next whole message (header included), or null until more octets arrive. Throws the
   * BgpNotificationError of a bad marker (1/1) or length (1/2) as soon as the offending octets
   * are next in line, and again on every later call.
   */
  next(): Buffer | null {
    if (this.failure !== undefined) throw this.failure;
    let header;
    try {
      header = readHeader(this.buf, this.pos, this.limit);
    } catch (err) {
      this.failure = err as Error;
      this.buf = Buffer.alloc(0);
      this.pos = 0;
      throw err;
    }
    if (header === null || this.buf.length - this.pos < header.length) return null;
    const msg = this.buf.subarray(this.pos, this.pos + header.length);
    this.pos += header.length;
    return msg;
  }
}

function checkLimit(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < HEADER_LENGTH || n > MAX_EXTENDED_MESSAGE_LENGTH) {
    throw NA_ERR_BGP_INVALID_OPTIONS(`framer.maxLength: expected ${HEADER_LENGTH}..${MAX_EXTENDED_MESSAGE_LENGTH} octets, got ${JSON.stringify(n)}`);
  }
  return n;
}
