/**
 * ROUTE-REFRESH message (RFC 2918): AFI, a subtype octet, SAFI. Subtypes (RFC 7313): 0 normal
 * request, 1 Beginning of Route Refresh (BoRR), 2 End of Route Refresh (EoRR). A message of
 * subtype 1 or 2 whose length is not 23 gets ROUTE-REFRESH Message Error / Invalid Message Length
 * (7/1) with the whole message as data (RFC 7313 §5); a subtype 0 message of another length is a
 * Bad Message Length (1/2). Other subtypes are decoded and must be ignored by the receiver.
 */
import { NA_ERR_BGP_BAD_MESSAGE_LENGTH, NA_ERR_BGP_INVALID_MESSAGE, NA_ERR_BGP_ROUTE_REFRESH_LENGTH, bgpError } from './errors.js';
import type { AfiSafi, Family } from './constants.js';
import { FAMILIES, HEADER_LENGTH, afiSafiOf } from './constants.js';
import type { ByteWriter } from './wire.js';

export const RouteRefreshSubtype = { Request: 0, BeginningOfRouteRefresh: 1, EndOfRouteRefresh: 2 } as const;

export interface RouteRefreshMessage {
  readonly type: 'route-refresh';
  readonly afi: number;
  readonly safi: number;
  /** 0 request, 1 BoRR, 2 EoRR; a receiver ignores other values (RFC 7313 §5). */
  readonly subtype: number;
}

/** Decodes a ROUTE-REFRESH message; `message` is the whole message, header included. */
export function decodeRouteRefresh(message: Buffer): RouteRefreshMessage {
  const body = message.subarray(HEADER_LENGTH);
  const subtype = body[2]!;
  if (body.length !== 4) {
    if (subtype === RouteRefreshSubtype.BeginningOfRouteRefresh || subtype === RouteRefreshSubtype.EndOfRouteRefresh) {
      throw bgpError(NA_ERR_BGP_ROUTE_REFRESH_LENGTH, { data: message }, 'ROUTE-REFRESH', message.length, subtype);
    }
    if (subtype === RouteRefreshSubtype.Request) {
      const data = Buffer.alloc(2);
      data.writeUInt16BE(message.length);
      throw bgpError(NA_ERR_BGP_BAD_MESSAGE_LENGTH, { data }, 'message header', message.length, '23 for ROUTE-REFRESH');
    }
  }
  return { type: 'route-refresh', afi: body.readUInt16BE(0), subtype, safi: body[3]! };
}

function octets(v: unknown, max: number, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw NA_ERR_BGP_INVALID_MESSAGE(`${path}: expected an integer 0..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function check(msg: RouteRefreshMessage, path: string): void {
  octets(msg.afi, 0xffff, `${path}.afi`);
  octets(msg.subtype, 0xff, `${path}.subtype`);
  octets(msg.safi, 0xff, `${path}.safi`);
}

/** Writes the body of a ROUTE-REFRESH message. */
export function writeRouteRefresh(w: ByteWriter, msg: RouteRefreshMessage, path = 'routeRefresh'): void {
  check(msg, path);
  w.u16(msg.afi).u8(msg.subtype).u8(msg.safi);
}

/** A ROUTE-REFRESH message for a family (or any AFI/SAFI), subtype 0 unless given. */
export function routeRefresh(family: Family | AfiSafi, subtype: number = RouteRefreshSubtype.Request): RouteRefreshMessage {
  let as: AfiSafi;
  if (typeof family === 'string') {
    if (!FAMILIES.includes(family)) throw NA_ERR_BGP_INVALID_MESSAGE(`routeRefresh.family: expected ${FAMILIES.join(' or ')}, got ${JSON.stringify(family)}`);
    as = afiSafiOf(family);
  } else {
    as = family;
  }
  const msg: RouteRefreshMessage = { type: 'route-refresh', afi: as.afi, safi: as.safi, subtype };
  check(msg, 'routeRefresh');
  return msg;
}
