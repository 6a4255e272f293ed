/**
 * The error registry of bgp-announcer (`NA_ERR_BGPD_*`; the codecs own `NA_ERR_BGP_*`). Every
 * code is documented in README.md; errors.test.ts checks it.
 */
import { defineError } from '@netaccel/errors';
import type { ErrorRegistry } from '@netaccel/errors';

// Configuration
export const NA_ERR_BGPD_CONFIG_INVALID = defineError('NA_ERR_BGPD_CONFIG_INVALID', '%s', 'invalid-argument');

// Sessions: why a session went down (kept as the peer's last error)
export const NA_ERR_BGPD_HOLD_TIMER_EXPIRED = defineError('NA_ERR_BGPD_HOLD_TIMER_EXPIRED', 'peer %s: hold timer expired after %d s without a message', 'unavailable');
export const NA_ERR_BGPD_FSM_UNEXPECTED_MESSAGE = defineError('NA_ERR_BGPD_FSM_UNEXPECTED_MESSAGE', 'peer %s: unexpected %s message in state %s', 'failed-precondition');
export const NA_ERR_BGPD_NOTIFICATION_RECEIVED = defineError('NA_ERR_BGPD_NOTIFICATION_RECEIVED', 'peer %s sent NOTIFICATION %d/%d (%s)', 'unavailable');
export const NA_ERR_BGPD_NOTIFICATION_SENT = defineError('NA_ERR_BGPD_NOTIFICATION_SENT', 'peer %s: sent NOTIFICATION %d/%d: %s', 'unavailable');
export const NA_ERR_BGPD_CONNECTION_LOST = defineError('NA_ERR_BGPD_CONNECTION_LOST', 'peer %s: connection closed in state %s%s', 'unavailable');
export const NA_ERR_BGPD_CONNECT_FAILED = defineError('NA_ERR_BGPD_CONNECT_FAILED', 'peer %s: connection failed: %s', 'unavailable');
export const NA_ERR_BGPD_COLLISION = defineError('NA_ERR_BGPD_COLLISION', 'peer %s: connection collision resolved (%s)', 'aborted');
export const NA_ERR_BGPD_BFD_DOWN = defineError('NA_ERR_BGPD_BFD_DOWN', 'peer %s: BFD session went down (%s)', 'unavailable');
export const NA_ERR_BGPD_STOPPED = defineError('NA_ERR_BGPD_STOPPED', 'peer %s: stopped (%s)', 'aborted');

// Sockets
export const NA_ERR_BGPD_LISTEN_FAILED = defineError('NA_ERR_BGPD_LISTEN_FAILED', 'cannot listen for BGP on %s: %s', 'unavailable');
export const NA_ERR_BGPD_SOCKET_OPTION = defineError('NA_ERR_BGPD_SOCKET_OPTION', 'setsockopt %s on %s failed: %s', 'internal');
export const NA_ERR_BGPD_BFD_SOCKET = defineError('NA_ERR_BGPD_BFD_SOCKET', 'BFD socket for %s: %s', 'unavailable');

// The Announcer API
export const NA_ERR_BGPD_INVALID_ROUTE = defineError('NA_ERR_BGPD_INVALID_ROUTE', '%s', 'invalid-argument');
export const NA_ERR_BGPD_PEER_NOT_FOUND = defineError('NA_ERR_BGPD_PEER_NOT_FOUND', 'no peer %s is configured', 'not-found');
export const NA_ERR_BGPD_NO_PEER_FOR_FAMILY = defineError('NA_ERR_BGPD_NO_PEER_FOR_FAMILY', 'no peer is configured for %s (prefix %s)', 'unavailable');

/** Every code of bgp-announcer. */
export const bgpdErrors = {
  NA_ERR_BGPD_CONFIG_INVALID,
  NA_ERR_BGPD_HOLD_TIMER_EXPIRED,
  NA_ERR_BGPD_FSM_UNEXPECTED_MESSAGE,
  NA_ERR_BGPD_NOTIFICATION_RECEIVED,
  NA_ERR_BGPD_NOTIFICATION_SENT,
  NA_ERR_BGPD_CONNECTION_LOST,
  NA_ERR_BGPD_CONNECT_FAILED,
  NA_ERR_BGPD_COLLISION,
  NA_ERR_BGPD_BFD_DOWN,
  NA_ERR_BGPD_STOPPED,
  NA_ERR_BGPD_LISTEN_FAILED,
  NA_ERR_BGPD_SOCKET_OPTION,
  NA_ERR_BGPD_BFD_SOCKET,
  NA_ERR_BGPD_INVALID_ROUTE,
  NA_ERR_BGPD_PEER_NOT_FOUND,
  NA_ERR_BGPD_NO_PEER_FOR_FAMILY,
} as const satisfies ErrorRegistry;
