/**
 * Per-peer settings, compiled once from the configuration: peer defaults filled from the `bgp`
 * section, addresses canonical, and the checks a schema cannot make (one entry per peer
 * address, a local address of the peer's family). The result is frozen.
 */
import type { bgp } from '@netaccel/protocol';
import { canonicalIp, isIPv6 } from '@netaccel/protocol';
import type { BgpAnnouncerConfig, PeerConfig } from './config.js';
import { NA_ERR_BGPD_CONFIG_INVALID } from './errors.js';

export interface BfdSettings {
  /** Desired Min TX Interval, µs. */
  readonly minTxUs: number;
  /** Required Min RX Interval, µs. */
  readonly minRxUs: number;
  readonly multiplier: number;
}

export interface PeerSettings {
  readonly address: string;
  readonly port: number;
  readonly remoteAs: number;
  readonly localAs: number;
  readonly routerId: string;
  readonly localAddress: string | undefined;
  /** Seconds, 0 or 3..65535. */
  readonly holdTime: number;
  readonly connectRetryMs: number;
  readonly idleHoldMs: number;
  readonly passive: boolean;
  readonly ttl: number | undefined;
  readonly password: string | undefined;
  readonly families: readonly bgp.Family[];
  readonly addPath: boolean;
  /** Graceful restart as restarting speaker (RFC 4724); `restarted` sets the R bit on the first OPEN. */
  readonly gracefulRestart: { readonly restartTime: number; readonly restarted: boolean } | undefined;
  readonly bfd: BfdSettings | undefined;
  /** Next hops to use instead of the session's local address, per family. */
  readonly nextHop: { readonly ipv4?: string; readonly ipv6?: string };
  /** UPDATE messages per second (0: no limit) and bucket size. */
  readonly updateRate: number;
  readonly updateBurst: number;
  readonly description: string;
}

export function familyOfAddress(addr: string): 'ipv4' | 'ipv6' {
  return isIPv6(addr) ? 'ipv6' : 'ipv4';
}

/** The settings of peer `i` of the configuration. */
export function peerSettings(config: BgpAnnouncerConfig, p: PeerConfig, i: number, opts: { restarted?: boolean } = {}): PeerSettings {
  const b = config.bgp;
  const path = `bgp.peers[${i}]`;
  const address = canonicalIp(p.address);
  const localAddress = p.localAddress === undefined ? undefined : canonicalIp(p.localAddress);
  if (localAddress !== undefined && familyOfAddress(localAddress) !== familyOfAddress(address)) {
    throw NA_ERR_BGPD_CONFIG_INVALID(`${path}.localAddress: expected an ${familyOfAddress(address).toUpperCase()} address like the peer's, got ${localAddress}`);
  }
  return Object.freeze({
    address,
    port: p.port,
    remoteAs: p.remoteAs,
    localAs: p.localAs ?? b.localAs,
    routerId: b.routerId,
    localAddress,
    holdTime: p.holdTime ?? b.holdTime,
    connectRetryMs: b.connectRetry,
    idleHoldMs: b.idleHold,
    passive: p.passive,
    ttl: p.ttl,
    password: p.password,
    families: Object.freeze([...(p.families ?? b.families)]),
    addPath: p.addPath,
    gracefulRestart: b.gracefulRestart.enabled ? Object.freeze({ restartTime: b.gracefulRestart.restartTime, restarted: opts.restarted ?? true }) : undefined,
    bfd:
      p.bfd === undefined || !p.bfd.enabled
        ? undefined
        : Object.freeze({ minTxUs: p.bfd.minTx * 1000, minRxUs: p.bfd.minRx * 1000, multiplier: p.bfd.multiplier }),
    nextHop: Object.freeze({ ...b.nextHop }),
    updateRate: b.updateRate,
    updateBurst: b.updateBurst,
    description: p.description,
  });
}

/** Settings of every peer; refuses two entries for one address. */
export function allPeerSettings(config: BgpAnnouncerConfig, opts: { restarted?: boolean } = {}): PeerSettings[] {
  const seen = new Map<string, number>();
  return config.bgp.peers.map((p, i) => {
    const s = peerSettings(config, p, i, opts);
    const j = seen.get(s.address);
    if (j !== undefined) throw NA_ERR_BGPD_CONFIG_INVALID(`bgp.peers[${i}].address: ${s.address} is already configured by bgp.peers[${j}]`);
    seen.set(s.address, i);
    return s;
  });
}
