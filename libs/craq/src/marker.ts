/**
 * The placement marker: `/netaccel/craq/placed/<key>` exists in etcd while a key is placed in the
 * chain (it holds the placement epoch, as text). The scheduler creates it in the same etcd
 * transaction that reads the value it loads into the chain (so every later etcd write of the key
 * is after the load revision) and deletes it after the key left the chain with its last value in
 * etcd. The client's etcd path for a key it believes unplaced is a transaction conditioned on the
 * marker being absent: a client whose placement view lags can no longer write (or read) a placed
 * key in etcd behind the chain's back; it refreshes its view and goes to the chain instead.
 *
 * Writers that bypass this library (etcdctl, another etcd client) are not stopped by the marker:
 * the scheduler still installs their writes from its watch, but reads may meanwhile see the older
 * chain value (not linearizable for those writers).
 */
import type { Etcd3 } from 'etcd3';

export const PLACED_MARKER_PREFIX = '/netaccel/craq/placed/';

/** The marker key of a data key. */
export function placedMarkerKey(key: string): string {
  return `${PLACED_MARKER_PREFIX}${key}`;
}

/** Result of an etcd operation conditioned on the marker: `placed` when the marker exists (nothing done). */
export type MarkerGuarded<T> = { readonly placed: true } | { readonly placed: false; readonly result: T };

/** Reads `key` from etcd if it is not placed (marker absent), in one transaction. */
export async function getIfUnplaced(etcd: Etcd3, key: string): Promise<MarkerGuarded<Buffer | null>> {
  const r = await etcd.if(placedMarkerKey(key), 'Create', '==', 0).then(etcd.get(key)).commit();
  if (!r.succeeded) return { placed: true };
  const kv = r.responses[0]?.response_range.kvs[0];
  return { placed: false, result: kv === undefined ? null : kv.value };
}

/** Puts `value` (or deletes, `null`) in etcd if the key is not placed (marker absent), in one transaction. */
export async function writeIfUnplaced(etcd: Etcd3, key: string, value: Buffer | null): Promise<MarkerGuarded<bigint>> {
  const op = value === null ? etcd.delete().key(key) : etcd.put(key).value(value);
  const r = await etcd.if(placedMarkerKey(key), 'Create', '==', 0).then(op).commit();
  return r.succeeded ? { placed: false, result: BigInt(r.header.revision) } : { placed: true };
}
