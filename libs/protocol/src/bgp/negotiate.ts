/**
 * What two OPEN messages agree on: the session context for the codecs, plus hold and keepalive
 * times, AS numbers, graceful restart. Also the OPEN checks that need local configuration: the
 * expected peer AS (2/2), a BGP identifier equal to ours on an internal session (2/3, RFC 6286),
 * a hold time below the local minimum (2/6), and capabilities or families the local policy
 * requires but the peer lacks (2/7, data = our capabilities it lacks, RFC 5492 §5).
 */
import type { Capability } from './capabilities.js';
import { capabilityCode, writeCapability } from './capabilities.js';
import { FAMILIES, afiSafiOf, familyOf } from './constants.js';
import type { Family } from './constants.js';
import type { Directions, SessionContext } from './context.js';
import {
  NA_ERR_BGP_BAD_BGP_IDENTIFIER,
  NA_ERR_BGP_BAD_PEER_AS,
  NA_ERR_BGP_INVALID_OPTIONS,
  NA_ERR_BGP_UNACCEPTABLE_HOLD_TIME,
  NA_ERR_BGP_UNSUPPORTED_CAPABILITY,
  bgpError,
} from './errors.js';
import type { OpenMessage } from './open.js';
import { openAsn } from './open.js';
import { ByteWriter } from './wire.js';

export interface GracefulRestartState {
  /** The peer's restart time, seconds. */
  readonly restartTime: number;
  /** The peer says it has restarted (R bit). */
  readonly peerRestarting: boolean;
  /** Both sides set the N bit: graceful restart also covers NOTIFICATION (RFC 8538). */
  readonly notification: boolean;
  /** Families of the session the peer covers, and whether it preserved forwarding for each. */
  readonly families: readonly { readonly family: Family; readonly forwardingPreserved: boolean }[];
}

export interface NegotiatedSession extends SessionContext {
  /** Seconds: the smaller of the two hold times; 0 means no keepalives and no hold timer. */
  readonly holdTime: number;
  /** Seconds between KEEPALIVEs: a third of the hold time, rounded down. */
  readonly keepaliveTime: number;
  readonly localAsn: number;
  readonly peerAsn: number;
  readonly peerRouterId: string;
  /** Both advertised enhanced route refresh (RFC 7313). */
  readonly enhancedRouteRefresh: boolean;
  /** Present when both advertised graceful restart (RFC 4724). */
  readonly gracefulRestart?: GracefulRestartState;
  readonly peerCapabilities: readonly Capability[];
}

export interface NegotiateOptions {
  /** The AS the peer must have (its 4-octet AS capability's, else its My AS field). */
  peerAs?: number;
  /** Seconds: a non-zero hold time from the peer below this is refused (2/6). Default 3. */
  minHoldTime?: number;
  /** Refuse a peer hold time of 0 (2/6). Default false. */
  refuseZeroHoldTime?: boolean;
  /** Capability codes the peer must advertise (2/7). */
  requiredCapabilities?: readonly number[];
  /** Families the session must have in common (2/7). */
  requiredFamilies?: readonly Family[];
}

const NEGOTIATE_DEFAULTS = {
  minHoldTime: 3, // s, the smallest non-zero hold time RFC 4271 allows
  refuseZeroHoldTime: false,
} as const;

function find<T extends Capability['type']>(caps: readonly Capability[], type: T): Extract<Capability, { type: T }> | undefined {
  return caps.find((c) => c.type === type) as Extract<Capability, { type: T }> | undefined;
}

function has(caps: readonly Capability[], type: Capability['type']): boolean {
  return caps.some((c) => c.type === type);
}

/** Families an OPEN advertises: its multiprotocol capabilities, or IPv4 unicast when it has none (RFC 4760 §8). */
export function advertisedFamilies(caps: readonly Capability[]): Family[] {
  const mp = caps.filter((c) => c.type === 'multiprotocol');
  if (mp.length === 0) return ['ipv4-unicast'];
  const out: Family[] = [];
  for (const c of mp) {
    const f = familyOf(c.afi, c.safi);
    if (f !== undefined && !out.includes(f)) out.push(f);
  }
  return out;
}

function addPathModes(caps: readonly Capability[], family: Family): Directions {
  const { afi, safi } = afiSafiOf(family);
  const f = find(caps, 'add-path')?.families.find((x) => x.afi === afi && x.safi === safi);
  return { send: f?.send ?? false, receive: f?.receive ?? false };
}

function optErr(path: string, what: string): Error {
  return NA_ERR_BGP_INVALID_OPTIONS(`${path}: ${what}`);
}

function checkOptions(opts: NegotiateOptions): void {
  const p = 'negotiate';
  if (opts.peerAs !== undefined && (!Number.isInteger(opts.peerAs) || opts.peerAs < 1 || opts.peerAs > 0xffffffff)) {
    throw optErr(`${p}.peerAs`, `expected an integer 1..4294967295, got ${JSON.stringify(opts.peerAs)}`);
  }
  if (opts.minHoldTime !== undefined && (!Number.isInteger(opts.minHoldTime) || opts.minHoldTime < 3 || opts.minHoldTime > 0xffff)) {
    throw optErr(`${p}.minHoldTime`, `expected 3..65535 s, got ${JSON.stringify(opts.minHoldTime)}`);
  }
  (opts.requiredFamilies ?? []).forEach((f, i) => {
    if (!FAMILIES.includes(f)) throw optErr(`${p}.requiredFamilies[${i}]`, `expected ${FAMILIES.join(' or ')}, got ${JSON.stringify(f)}`);
  });
  (opts.requiredCapabilities ?? []).forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c > 255) throw optErr(`${p}.requiredCapabilities[${i}]`, `expected a capability code 0..255, got ${JSON.stringify(c)}`);
  });
}

/**
 * Negotiates a session from the OPEN sent (`local`) and the OPEN received (`remote`, already
 * decoded, so its own checks passed). Throws a BgpNotificationError when the peer is refused.
 */
export function negotiate(local: OpenMessage, remote: OpenMessage, opts: NegotiateOptions = {}): NegotiatedSession {
  checkOptions(opts);
  const lc = local.capabilities;
  const rc = remote.capabilities;
  const localAsn = openAsn(local);
  const peerAsn = openAsn(remote);
  if (opts.peerAs !== undefined && peerAsn !== opts.peerAs) {
    throw bgpError(NA_ERR_BGP_BAD_PEER_AS, {}, 'OPEN', peerAsn, `expected AS ${opts.peerAs}`);
  }
  const ibgp = localAsn === peerAsn;
  if (ibgp && remote.routerId === local.routerId) {
    throw bgpError(NA_ERR_BGP_BAD_BGP_IDENTIFIER, {}, 'OPEN', remote.routerId, 'it equals ours on an internal session (RFC 6286)');
  }
  const minHold = opts.minHoldTime ?? NEGOTIATE_DEFAULTS.minHoldTime;
  if ((remote.holdTime !== 0 && remote.holdTime < minHold) || (remote.holdTime === 0 && (opts.refuseZeroHoldTime ?? NEGOTIATE_DEFAULTS.refuseZeroHoldTime))) {
    throw bgpError(NA_ERR_BGP_UNACCEPTABLE_HOLD_TIME, {}, 'OPEN', remote.holdTime, minHold);
  }
  const remoteFamilies = advertisedFamilies(rc);
  const families = advertisedFamilies(lc).filter((f) => remoteFamilies.includes(f));
  checkRequired(lc, rc, families, opts);

  const send: Family[] = [];
  const receive: Family[] = [];
  for (const f of families) {
    const l = addPathModes(lc, f);
    const r = addPathModes(rc, f);
    if (l.send && r.receive) send.push(f);
    if (l.receive && r.send) receive.push(f);
  }
  const holdTime = Math.min(local.holdTime, remote.holdTime);
  const localGr = find(lc, 'graceful-restart');
  const remoteGr = find(rc, 'graceful-restart');
  let gracefulRestart: GracefulRestartState | undefined;
  if (localGr !== undefined && remoteGr !== undefined) {
    gracefulRestart = Object.freeze({
      restartTime: remoteGr.restartTime,
      peerRestarting: remoteGr.restarting,
      notification: localGr.notification && remoteGr.notification,
      families: Object.freeze(
        remoteGr.families.flatMap((g) => {
          const family = familyOf(g.afi, g.safi);
          return family !== undefined && families.includes(family) ? [{ family, forwardingPreserved: g.forwardingPreserved }] : [];
        }),
      ),
    });
  }
  const localExt = has(lc, 'extended-message');
  return Object.freeze({
    asn4: has(lc, 'four-octet-as') && has(rc, 'four-octet-as'),
    // RFC 8654 §3: receive what we advertised; send only to a peer that advertised it (and when we did).
    extendedMessages: Object.freeze({ send: localExt && has(rc, 'extended-message'), receive: localExt }),
    addPath: Object.freeze({ send: Object.freeze(send), receive: Object.freeze(receive) }),
    families: Object.freeze(families),
    routeRefresh: Object.freeze({ send: has(rc, 'route-refresh'), receive: has(lc, 'route-refresh') }),
    ibgp,
    holdTime,
    keepaliveTime: Math.floor(holdTime / 3),
    localAsn,
    peerAsn,
    peerRouterId: remote.routerId,
    enhancedRouteRefresh: has(lc, 'enhanced-route-refresh') && has(rc, 'enhanced-route-refresh'),
    ...(gracefulRestart === undefined ? {} : { gracefulRestart }),
    peerCapabilities: Object.freeze([...rc]),
  });
}

function checkRequired(lc: readonly Capability[], rc: readonly Capability[], families: readonly Family[], opts: NegotiateOptions): void {
  const missing: Capability[] = [];
  const names: string[] = [];
  for (const code of opts.requiredCapabilities ?? []) {
    if (rc.some((c) => capabilityCode(c) === code)) continue;
    names.push(`code ${code}`);
    const ours = lc.filter((c) => capabilityCode(c) === code);
    missing.push(...(ours.length > 0 ? ours : [{ type: 'unknown' as const, code, value: Buffer.alloc(0) }]));
  }
  for (const f of opts.requiredFamilies ?? []) {
    if (families.includes(f)) continue;
    names.push(f);
    missing.push({ type: 'multiprotocol', ...afiSafiOf(f) });
  }
  if (names.length === 0) return;
  const w = new ByteWriter(64);
  missing.forEach((c, i) => writeCapability(w, c, `negotiate.missing[${i}]`));
  throw bgpError(NA_ERR_BGP_UNSUPPORTED_CAPABILITY, { data: w.finish() }, 'OPEN', names.join(', '));
}
