/**
 * Every BGP-4 message as one union, and the two entry points: `encodeMessage` (message → bytes,
 * checked against the session) and `decodeMessage` (bytes → message, or null until a whole
 * message is there). Errors in the peer's bytes are thrown as `BgpNotificationError` (session
 * reset); UPDATE faults that RFC 7606 softens are in the decoded UPDATE result.
 */
import { MessageType } from './constants.js';
import type { SessionContext } from './context.js';
import { DEFAULT_CONTEXT, maxMessageLength } from './context.js';
import { NA_ERR_BGP_INVALID_MESSAGE } from './errors.js';
import { HEADER_LENGTH } from './constants.js';
import { checkTypeAndLength, frame, readHeader } from './header.js';
import type { NotificationMessage } from './notification.js';
import { decodeNotification, writeNotification } from './notification.js';
import type { OpenMessage } from './open.js';
import { decodeOpen, writeOpen } from './open.js';
import type { RouteRefreshMessage } from './route-refresh.js';
import { decodeRouteRefresh, writeRouteRefresh } from './route-refresh.js';
import type { UpdateDecodeResult, UpdateMessage } from './update.js';
import { decodeUpdate, writeUpdate } from './update.js';

export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

/** A message to send. */
export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** A message received: UPDATEs come as their decode result (`kind` ok / ok-with-discards / treat-as-withdraw). */
export type ReceivedMessage = OpenMessage | UpdateDecodeResult | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

export interface Decoded {
  readonly message: ReceivedMessage;
  /** Octets of the input the message took, header included. */
  readonly consumed: number;
}

const KEEPALIVE: KeepaliveMessage = Object.freeze({ type: 'keepalive' });

export function keepalive(): KeepaliveMessage {
  return KEEPALIVE;
}

/**
 * Encodes a message for a session. Throws NA_ERR_BGP_INVALID_MESSAGE when the message is not
 * valid or not allowed on the session, NA_ERR_BGP_MESSAGE_TOO_LARGE when it exceeds the
 * session's maximum length (4096 octets, or 65535 with extended messages; OPEN and KEEPALIVE
 * always 4096).
 */
export function encodeMessage(msg: BgpMessage, ctx: SessionContext = DEFAULT_CONTEXT): Buffer {
  if (msg === null || typeof msg !== 'object') throw NA_ERR_BGP_INVALID_MESSAGE('message: expected an object');
  const max = maxMessageLength(ctx, 'send');
  switch (msg.type) {
    case 'open':
      return frame(MessageType.Open, max, (w) => writeOpen(w, msg));
    case 'update':
      return frame(MessageType.Update, max, (w) => writeUpdate(w, msg, ctx), 256);
    case 'notification':
      return frame(MessageType.Notification, max, (w) => writeNotification(w, msg), 32 + (Buffer.isBuffer(msg.data) ? msg.data.length : 0));
    case 'keepalive':
      return frame(MessageType.Keepalive, max, () => undefined, HEADER_LENGTH);
    case 'route-refresh':
      if (!ctx.routeRefresh.send) throw NA_ERR_BGP_INVALID_MESSAGE('routeRefresh: the peer did not advertise route refresh (RFC 2918)');
      return frame(MessageType.RouteRefresh, max, (w) => writeRouteRefresh(w, msg), 23);
    default:
      throw NA_ERR_BGP_INVALID_MESSAGE(`message.type: unknown type ${JSON.stringify((msg as { type: unknown }).type)}`);
  }
}

/**
 * Decodes the message at `offset` of `buf`. Returns null when the bytes there are not yet a
 * whole message (after checking what is there: a bad marker or length throws at once).
 */
export function decodeMessage(buf: Buffer, ctx: SessionContext = DEFAULT_CONTEXT, offset = 0): Decoded | null {
  const header = readHeader(buf, offset, maxMessageLength(ctx, 'receive'));
  if (header === null) return null;
  checkTypeAndLength(header, ctx);
  if (buf.length - offset < header.length) return null;
  const message = buf.subarray(offset, offset + header.length);
  const body = message.subarray(HEADER_LENGTH);
  let decoded: ReceivedMessage;
  switch (header.type) {
    case MessageType.Open:
      decoded = decodeOpen(body);
      break;
    case MessageType.Update:
      decoded = decodeUpdate(body, ctx);
      break;
    case MessageType.Notification:
      decoded = decodeNotification(body);
      break;
    case MessageType.Keepalive:
      decoded = KEEPALIVE;
      break;
    default:
      decoded = decodeRouteRefresh(message);
      break;
  }
  return { message: decoded, consumed: header.length };
}
