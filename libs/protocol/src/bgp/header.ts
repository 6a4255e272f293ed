/**
 * The 19-octet message header (RFC 4271 §4.1) and its checks (§6.1), in the order the RFC gives
 * them: marker (Connection Not Synchronized, 1/1), length between 19 and the session's maximum
 * (Bad Message Length, 1/2, data = the length field), type (Bad Message Type, 1/3, data = the
 * type), then the length the type requires (1/2 again). OPEN and KEEPALIVE stay within 4096
 * octets even with extended messages (RFC 8654 §4).
 */
import { HEADER_LENGTH, MARKER_LENGTH, MAX_MESSAGE_LENGTH, MIN_MESSAGE_LENGTH, MessageType } from './constants.js';
import type { SessionContext } from './context.js';
import { maxMessageLength } from './context.js';
import { NA_ERR_BGP_BAD_MESSAGE_LENGTH, NA_ERR_BGP_BAD_MESSAGE_TYPE, NA_ERR_BGP_MESSAGE_TOO_LARGE, NA_ERR_BGP_NOT_SYNCHRONIZED, bgpError } from './errors.js';
import type { BgpNotificationError } from './errors.js';
import { ByteWriter } from './wire.js';

export interface Header {
  /** The length field: the whole message, header included. */
  readonly length: number;
  readonly type: number;
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  [MessageType.Open]: 'OPEN',
  [MessageType.Update]: 'UPDATE',
  [MessageType.Notification]: 'NOTIFICATION',
  [MessageType.Keepalive]: 'KEEPALIVE',
  [MessageType.RouteRefresh]: 'ROUTE-REFRESH',
};

export function messageTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

function lengthError(length: number, expected: string): BgpNotificationError {
  const data = Buffer.alloc(2);
  data.writeUInt16BE(length & 0xffff);
  return bgpError(NA_ERR_BGP_BAD_MESSAGE_LENGTH, { data }, 'message header', length, expected);
}

/**
 * Checks the marker octets present in `buf[offset, end)` (up to 16); throws 1/1 as soon as one is
 * not 0xff, so that a stream out of sync is rejected before the rest of a header arrives.
 */
export function checkMarker(buf: Uint8Array, offset: number, end: number): void {
  const stop = Math.min(end, offset + MARKER_LENGTH);
  for (let i = offset; i < stop; i++) {
    if (buf[i] !== 0xff) throw bgpError(NA_ERR_BGP_NOT_SYNCHRONIZED, {}, 'message header');
  }
}

/**
 * Reads the header at `offset`: null when fewer than 19 octets are there, otherwise the length
 * and type after the marker and length-range checks. `maxLength` is the session's receive limit.
 */
export function readHeader(buf: Buffer, offset: number, maxLength: number): Header | null {
  checkMarker(buf, offset, buf.length);
  if (buf.length - offset < MARKER_LENGTH + 2) return null;
  const length = buf.readUInt16BE(offset + MARKER_LENGTH);
  if (length < HEADER_LENGTH || length > maxLength) throw lengthError(length, `${HEADER_LENGTH}..${maxLength}`);
  if (buf.length - offset < HEADER_LENGTH) return null;
  return { length, type: buf[offset + MARKER_LENGTH + 2]! };
}

/** Checks the type (1/3) and the length that type requires (1/2) against the session. */
export function checkTypeAndLength(header: Header, ctx: SessionContext): void {
  const { type, length } = header;
  const known = type >= MessageType.Open && type <= MessageType.RouteRefresh;
  if (!known || (type === MessageType.RouteRefresh && !ctx.routeRefresh.receive)) {
    const expected = ctx.routeRefresh.receive ? 'OPEN, UPDATE, NOTIFICATION, KEEPALIVE or ROUTE-REFRESH' : 'OPEN, UPDATE, NOTIFICATION or KEEPALIVE (route refresh was not negotiated)';
    throw bgpError(NA_ERR_BGP_BAD_MESSAGE_TYPE, { data: Uint8Array.of(type) }, 'message header', type, expected);
  }
  const min = MIN_MESSAGE_LENGTH[type]!;
  if (type === MessageType.Keepalive && length !== min) throw lengthError(length, `${min} for KEEPALIVE`);
  if (length < min) throw lengthError(length, `at least ${min} for ${messageTypeName(type)}`);
  if (type === MessageType.Open && length > MAX_MESSAGE_LENGTH) throw lengthError(length, `at most ${MAX_MESSAGE_LENGTH} for OPEN`);
  if (length > maxMessageLength(ctx, 'receive')) throw lengthError(length, `at most ${maxMessageLength(ctx, 'receive')}`);
}

/**
 * Encodes one message: header, then the body written by `body`. Throws NA_ERR_BGP_MESSAGE_TOO_LARGE
 * when the result exceeds `maxLength`.
 */
export function frame(type: number, maxLength: number, body: (w: ByteWriter) => void, sizeHint = 64): Buffer {
  const w = new ByteWriter(sizeHint);
  w.fill(0xff, MARKER_LENGTH);
  const lenAt = w.reserve(2);
  w.u8(type);
  body(w);
  const limit = type === MessageType.Open || type === MessageType.Keepalive ? Math.min(maxLength, MAX_MESSAGE_LENGTH) : maxLength;
  if (w.length > limit) throw NA_ERR_BGP_MESSAGE_TOO_LARGE(messageTypeName(type), w.length, limit);
  w.setU16(lenAt, w.length);
  return w.finish();
}
