/**
 * NOTIFICATION message (RFC 4271 §4.5): code, subcode, data. For Cease / Administrative Shutdown
 * (6/2) and Cease / Administrative Reset (6/4) the data may hold a shutdown communication: one
 * length octet and up to 255 octets of UTF-8 (RFC 8203, extended by RFC 9003). A communication
 * that is malformed is not an error (RFC 9003 §4): `shutdownCommunication()` just returns nothing.
 */
import { CeaseSubcode, HEADER_LENGTH, NotificationCode } from './constants.js';
import type { SessionContext } from './context.js';
import { DEFAULT_CONTEXT, maxMessageLength } from './context.js';
import { NA_ERR_BGP_INVALID_MESSAGE } from './errors.js';
import type { BgpNotificationError } from './errors.js';
import type { ByteWriter } from './wire.js';

export interface NotificationMessage {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

/** Longest shutdown communication, in octets of UTF-8 (RFC 9003). */
export const MAX_SHUTDOWN_COMMUNICATION = 255;

/** Decodes the body of a NOTIFICATION message (after the header; at least 2 octets). */
export function decodeNotification(body: Buffer): NotificationMessage {
  return { type: 'notification', code: body[0]!, subcode: body[1]!, data: Buffer.from(body.subarray(2)) };
}

function invalid(path: string, what: string): Error {
  return NA_ERR_BGP_INVALID_MESSAGE(`${path}: ${what}`);
}

function octet(v: unknown, path: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 255) throw invalid(path, `expected an integer ${min}..255, got ${JSON.stringify(v)}`);
  return v;
}

/** Writes the body of a NOTIFICATION message. */
export function writeNotification(w: ByteWriter, msg: NotificationMessage, path = 'notification'): void {
  w.u8(octet(msg.code, `${path}.code`, 0)).u8(octet(msg.subcode, `${path}.subcode`, 0));
  if (!Buffer.isBuffer(msg.data)) throw invalid(`${path}.data`, 'expected a Buffer');
  w.bytes(msg.data);
}

/** A NOTIFICATION message. */
export function notification(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): NotificationMessage {
  const msg: NotificationMessage = { type: 'notification', code, subcode, data };
  octet(code, 'notification.code', 0);
  octet(subcode, 'notification.subcode', 0);
  if (!Buffer.isBuffer(data)) throw invalid('notification.data', 'expected a Buffer');
  return msg;
}

/**
 * The NOTIFICATION to send for a peer error. Data longer than the message allows is truncated
 * (it is diagnostic: usually the offending attribute, which can be as long as an extended message).
 */
export function notificationFor(err: BgpNotificationError, ctx: SessionContext = DEFAULT_CONTEXT): NotificationMessage {
  const { code, subcode, data } = err.notification;
  const room = maxMessageLength(ctx, 'send') - HEADER_LENGTH - 2;
  return { type: 'notification', code, subcode, data: data.length > room ? Buffer.from(data.subarray(0, room)) : data };
}

/**
 * A Cease NOTIFICATION, with a shutdown communication for Administrative Shutdown (2) and
 * Administrative Reset (4).
 */
export function cease(subcode: number, communication?: string): NotificationMessage {
  octet(subcode, 'cease.subcode', 0);
  if (communication === undefined) return { type: 'notification', code: NotificationCode.Cease, subcode, data: Buffer.alloc(0) };
  if (subcode !== CeaseSubcode.AdministrativeShutdown && subcode !== CeaseSubcode.AdministrativeReset) {
    throw invalid('cease.communication', `only subcodes 2 and 4 carry a shutdown communication, got subcode ${subcode}`);
  }
  if (typeof communication !== 'string') throw invalid('cease.communication', 'expected a string');
  const text = Buffer.from(communication, 'utf8');
  if (text.length > MAX_SHUTDOWN_COMMUNICATION) {
    throw invalid('cease.communication', `${text.length} octets of UTF-8 exceed ${MAX_SHUTDOWN_COMMUNICATION} (RFC 9003)`);
  }
  return { type: 'notification', code: NotificationCode.Cease, subcode, data: Buffer.concat([Uint8Array.of(text.length), text]) };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The shutdown communication of a Cease 2 / 4 NOTIFICATION, or undefined when there is none or it
 * is malformed (its length overruns the data, or it is not valid UTF-8).
 */
export function shutdownCommunication(msg: NotificationMessage): string | undefined {
  if (msg.code !== NotificationCode.Cease) return undefined;
  if (msg.subcode !== CeaseSubcode.AdministrativeShutdown && msg.subcode !== CeaseSubcode.AdministrativeReset) return undefined;
  const len = msg.data[0];
  if (len === undefined || len === 0 || 1 + len > msg.data.length) return undefined;
  try {
    return utf8.decode(msg.data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}
