/**
 * Helpers for hand-assembled test vectors and for asserting NOTIFICATION outcomes. Test support
 * only.
 */
import assert from 'node:assert/strict';
import { BgpNotificationError } from '../errors.js';
import type { ErrorAction } from '../errors.js';

/** Octets from hex text; spaces, newlines and `|` separators are ignored. */
export function hex(text: string): Buffer {
  const clean = text.replace(/[\s|]+/g, '');
  assert.match(clean, /^([0-9a-f]{2})*$/i, `bad hex: ${text}`);
  return Buffer.from(clean, 'hex');
}

/** A message with marker, correct length and type around `body`. */
export function frameHex(type: number, body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? hex(body) : body;
  const out = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 0, type]), b]);
  out.writeUInt16BE(out.length, 16);
  return out;
}

/** An UPDATE with the given withdrawn routes, attribute TLVs and NLRI (hex), lengths filled in. */
export function updateHex(attrs: string | Buffer, nlri = '', withdrawn = ''): Buffer {
  const a = typeof attrs === 'string' ? hex(attrs) : attrs;
  const w = hex(withdrawn);
  const body = Buffer.concat([Buffer.from([w.length >> 8, w.length & 0xff]), w, Buffer.from([a.length >> 8, a.length & 0xff]), a, hex(nlri)]);
  return frameHex(2, body);
}

export interface ExpectedNotification {
  code: number;
  subcode: number;
  /** Hex of the data field; omitted: not checked. */
  data?: string;
  action?: ErrorAction;
  /** The registry code (NA_ERR_BGP_…). */
  err?: string;
}

/** Checks that `err` is the expected BgpNotificationError. */
export function assertNotification(err: unknown, want: ExpectedNotification): BgpNotificationError {
  assert.ok(err instanceof BgpNotificationError, `expected a BgpNotificationError, got ${String(err)}`);
  const n = err.notification;
  assert.deepEqual([n.code, n.subcode], [want.code, want.subcode], `${err.code}: ${err.message}`);
  if (want.data !== undefined) assert.equal(n.data.toString('hex'), hex(want.data).toString('hex'), `data of ${err.message}`);
  assert.equal(err.action, want.action ?? 'session-reset');
  if (want.err !== undefined) assert.equal(err.code, want.err);
  return err;
}

/** Runs `fn`, which must throw the expected BgpNotificationError. */
export function throwsNotification(fn: () => unknown, want: ExpectedNotification): BgpNotificationError {
  try {
    fn();
  } catch (err) {
    return assertNotification(err, want);
  }
  assert.fail(`expected NOTIFICATION ${want.code}/${want.subcode}, nothing was thrown`);
}
