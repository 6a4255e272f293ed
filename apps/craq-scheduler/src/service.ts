/**
 * The Craq gRPC service (libs/rpc proto/netaccel/craq/v1/craq.proto): the placement for clients,
 * the chain's membership, per-key statistics, pin and unpin.
 */
import type { CraqService, ServiceHandlers } from '@netaccel/rpc';
import { craqV1 } from '@netaccel/rpc';
import type { Logger } from '@netaccel/telemetry';
import type { ChainState } from './chain.js';
import { roleAt } from './chain.js';
import type { ChainManager } from './chain-manager.js';
import { NA_ERR_CRAQD_INVALID_KEY, NA_ERR_CRAQD_INVALID_REQUEST, NA_ERR_CRAQD_KEY_NOT_FOUND, NA_ERR_CRAQD_NOT_PINNED } from './errors.js';
import type { Placer } from './placer.js';
import type { Scheduler } from './scheduler.js';

/** Keys longer than this are refused (etcd allows 1.5 MB, NetCRAQ hashes any length; this guards the API). */
export const MAX_KEY_BYTES = 4096;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 100_000;

const ROLE: Readonly<Record<string, craqV1.ChainRole>> = {
  head: craqV1.ChainRole.CHAIN_ROLE_HEAD,
  middle: craqV1.ChainRole.CHAIN_ROLE_MIDDLE,
  tail: craqV1.ChainRole.CHAIN_ROLE_TAIL,
  single: craqV1.ChainRole.CHAIN_ROLE_SINGLE,
};

export interface CraqParts {
  readonly chain: ChainManager;
  readonly placer: Placer;
  readonly scheduler: Scheduler;
  readonly budgetBytes: number;
}

export function chainMessage(s: ChainState, chain: ChainManager): craqV1.ChainState {
  const node = (m: ChainState['members'][number], role: craqV1.ChainRole): craqV1.ChainNode => {
    const l = chain.liveness.get(m.name);
    return craqV1.ChainNode.create({ name: m.name, address: m.endpoint.address, port: m.endpoint.port, role, alive: l?.alive ?? false, missedProbes: l?.missed ?? 0 });
  };
  return craqV1.ChainState.create({
    epoch: s.epoch,
    nodes: s.members.map((m, i) => node(m, ROLE[roleAt(i, s.members.length)]!)),
    removed: s.removed.map((m) => node(m, craqV1.ChainRole.CHAIN_ROLE_UNSPECIFIED)),
    lastChange: s.lastChange,
  });
}

export function keyStats(p: CraqParts, key: string): craqV1.KeyStats | undefined {
  const e = p.placer.entries.get(key);
  const h = p.scheduler.heatOf(key);
  if (e === undefined && h === undefined) return undefined;
  return craqV1.KeyStats.create({
    key,
    keyId: e?.keyId ?? 0n,
    placed: e !== undefined,
    pinned: e?.pinned ?? false,
    sizeBytes: e?.size ?? h?.size ?? 0,
    score: h?.score ?? 0,
    reportedReads: BigInt(Math.round(h?.reported ?? 0)),
    dataPlaneReads: BigInt(Math.round(h?.dataPlaneReads ?? 0)),
    dataPlaneWrites: BigInt(Math.round(h?.dataPlaneWrites ?? 0)),
    version: e?.version ?? 0n,
    etcdRevision: e?.etcdRevision ?? 0n,
    pendingWriteBack: e === undefined ? 0 : p.placer.writeBack.pendingFor(e.keyId),
  });
}

function checkKey(key: string): string {
  if (key === '') throw NA_ERR_CRAQD_INVALID_KEY('key: is required');
  const n = Buffer.byteLength(key);
  if (n > MAX_KEY_BYTES) throw NA_ERR_CRAQD_INVALID_KEY(`key: expected at most ${MAX_KEY_BYTES} bytes, got ${n}`);
  return key;
}

export function craqHandlers(p: CraqParts, log: Logger): ServiceHandlers<typeof CraqService> {
  return {
    getPlacement: () =>
      craqV1.Placement.create({
        placementEpoch: p.placer.epoch,
        chain: chainMessage(p.chain.state, p.chain),
        // evicting keys stay in the placement until etcd has their last value and they left the nodes
        keys: [...p.placer.entries.values()].filter((e) => e.state !== 'placing').map((e) => craqV1.PlacedKey.create({ key: e.key, keyId: e.keyId, keyCheck: e.keyCheck })),
      }),
    getChain: () => chainMessage(p.chain.state, p.chain),
    listKeys: (req) => {
      if (req.limit > MAX_LIMIT) throw NA_ERR_CRAQD_INVALID_REQUEST(`limit: expected 0..${MAX_LIMIT}, got ${req.limit}`);
      const limit = req.limit === 0 ? DEFAULT_LIMIT : req.limit;
      const keys = new Set<string>();
      for (const h of p.scheduler.heat()) keys.add(h.key);
      for (const k of p.placer.entries.keys()) keys.add(k);
      const stats = [...keys]
        .map((k) => keyStats(p, k)!)
        .filter((s) => !req.placedOnly || s.placed)
        .sort((a, b) => b.score - a.score || Number(b.placed) - Number(a.placed) || (a.key < b.key ? -1 : 1))
        .slice(0, limit);
      const rates = p.scheduler.etcdRates;
      return craqV1.ListKeysResponse.create({
        keys: stats,
        budgetBytes: BigInt(p.budgetBytes),
        usedBytes: BigInt(p.placer.usedBytes()),
        etcdReadsPerSecond: rates.readsPerSecond,
        etcdWritesPerSecond: rates.writesPerSecond,
        placementEpoch: p.placer.epoch,
      });
    },
    getKeyStats: (req) => {
      const s = keyStats(p, checkKey(req.key));
      if (s === undefined) throw NA_ERR_CRAQD_KEY_NOT_FOUND(req.key);
      return s;
    },
    pin: async (req) => {
      const key = checkKey(req.key);
      const e = await p.placer.place(key, true);
      log.info({ key, keyId: String(e.keyId) }, 'key pinned');
      return craqV1.PinResponse.create({ key: craqV1.PlacedKey.create({ key, keyId: e.keyId, keyCheck: e.keyCheck }) });
    },
    unpin: (req) => {
      const key = checkKey(req.key);
      const e = p.placer.entries.get(key);
      if (e === undefined || !e.pinned) throw NA_ERR_CRAQD_NOT_PINNED(key);
      e.pinned = false;
      log.info({ key }, 'key unpinned');
      return craqV1.UnpinResponse.create({ wasPinned: true });
    },
  };
}
