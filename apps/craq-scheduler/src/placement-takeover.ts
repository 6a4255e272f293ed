/**
 * The steps of a placement takeover (placer.ts `adopt`) that need no placed entry: the keys
 * that carry a placement marker in etcd, and retiring a key a takeover finds left over (a record
 * caught placing or evicting, a placed record whose key the head no longer holds, a stale
 * marker). Also the etcd call wrapper every placer step uses.
 */
import type { Etcd3 } from 'etcd3';
import { PLACED_MARKER_PREFIX, placedMarkerKey } from '@netaccel/craq';
import { errorMessage } from '@netaccel/errors';
import type { Logger } from '@netaccel/telemetry';
import type { ChainManager } from './chain-manager.js';
import { NA_ERR_CRAQD_ETCD_FAILED } from './errors.js';
import type { PlacementRecord } from './placement-store.js';

/** Runs one etcd call; a failure becomes NA_ERR_CRAQD_ETCD_FAILED naming the step and the key. */
export async function etcdStep<T>(what: string, key: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw NA_ERR_CRAQD_ETCD_FAILED.with({ cause: err }, what, key, errorMessage(err));
  }
}

/** Whether two values (null: absent / tombstone) are the same bytes. */
export function sameValue(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** The data keys whose placement marker (`/netaccel/craq/placed/<key>`) is in etcd. */
export async function markedKeys(etcd: Etcd3): Promise<string[]> {
  const markers = await etcdStep('list markers', PLACED_MARKER_PREFIX, () => etcd.getAll().prefix(PLACED_MARKER_PREFIX).keys());
  return markers.map((m) => m.slice(PLACED_MARKER_PREFIX.length));
}

export interface RetireDeps {
  readonly etcd: Etcd3;
  readonly chain: Pick<ChainManager, 'members' | 'drain'>;
  readonly log: Logger;
  /** Records the key's state in the group (no-op without a store); the epoch is the placer's. */
  readonly record: (key: string, r: Omit<PlacementRecord, 'epoch'>) => Promise<void>;
}

/**
 * A key that leaves the chain without an entry: when `salvage` and the head holds it, writes held
 * and drained at the head and the tail's committed value written to etcd if etcd differs (what
 * the previous scheduler had not written back); then removed from every member, its marker
 * deleted, recorded out. Without `salvage` (caught placing before the head had it: no write was
 * taken, etcd has the value) nothing is written to etcd.
 */
export async function retireKey(d: RetireDeps, key: string, keyId: bigint, keyCheck: number, salvage: boolean, why: string): Promise<void> {
  const members = d.chain.members();
  const head = members[0];
  const tail = members[members.length - 1];
  if (salvage && head !== undefined && tail !== undefined && (await head.get(keyId)) !== undefined) {
    await head.setWritable(keyId, false);
    await d.chain.drain(head, [keyId]);
    const last = await tail.get(keyId);
    const got = await etcdStep('read', key, () => d.etcd.get(key).buffer());
    if (last !== undefined && !sameValue(last.value, got)) {
      const v = last.value;
      await etcdStep('write', key, (): Promise<unknown> => (v === null ? d.etcd.delete().key(key).exec() : d.etcd.put(key).value(Buffer.from(v)).exec()));
    }
  }
  for (const n of members) if ((await n.get(keyId)) !== undefined) await n.remove(keyId);
  await etcdStep('unmark', key, () => d.etcd.delete().key(placedMarkerKey(key)).exec());
  await d.record(key, { state: 'out', keyId, keyCheck });
  d.log.warn({ key, why }, 'key retired at takeover: left the chain, marker deleted');
}
