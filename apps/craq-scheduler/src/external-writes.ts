/**
 * A placed key's etcd watch (placer.ts): an event is either one of our own write-backs (told
 * apart by its revision, after the write-back in flight settled) or a write from outside the
 * chain (a client whose placement view is old, a tool). The latter is installed in the chain as a
 * new committed version: writes held at the head (RETRY), the head drained, the value installed
 * at the tail's version + 1 on every member (tail first), writes resumed. A value over the
 * chain's limit evicts the key instead.
 */
import type { IKeyValue } from 'etcd3';
import { craq } from '@netaccel/protocol';
import type { Logger } from '@netaccel/telemetry';
import type { ChainManager } from './chain-manager.js';
import type { Mutex } from './mutex.js';
import type { PlacedEntry } from './placed-entry.js';
import type { WriteBack } from './write-back.js';

export interface ExternalWriteDeps {
  readonly chain: ChainManager;
  readonly mutex: Mutex;
  readonly log: Logger;
  readonly writeBack: WriteBack;
  /** The entry is still the placer's and placed (not evicted or replaced meanwhile). */
  readonly current: (e: PlacedEntry) => boolean;
  readonly evict: (key: string) => Promise<boolean>;
  readonly writable: (keyId: bigint) => boolean;
  readonly sizeOf: (key: string, valueLen: number) => number;
}

/** Handles one watch event of `e`: `value` null is a delete. */
export async function onWatchEvent(d: ExternalWriteDeps, e: PlacedEntry, kv: IKeyValue, value: Buffer | null): Promise<void> {
  await d.writeBack.settled(e.keyId);
  if (e.own.delete(kv.mod_revision)) return;
  if (value !== null && value.length > craq.CRAQ_MAX_VALUE) {
    d.log.warn({ key: e.key, size: value.length }, 'a value over the chain limit was written to etcd: evicting the key');
    await d.evict(e.key).catch((err: unknown) => d.log.error({ err, key: e.key }, 'eviction failed'));
    return;
  }
  await d.mutex
    .run(async () => {
      if (!d.current(e)) return;
      const members = d.chain.members();
      const head = members[0];
      const tail = members[members.length - 1];
      if (head === undefined || tail === undefined) return;
      await head.setWritable(e.keyId, false);
      try {
        await d.chain.drain(head, [e.keyId]);
        const now = await tail.get(e.keyId);
        const version = (now?.version ?? e.version) + 1n;
        for (const n of [...members].reverse()) await n.install({ keyId: e.keyId, keyCheck: e.keyCheck, version, value }, n !== head);
        e.version = version;
        e.writtenVersion = version;
        e.etcdRevision = BigInt(kv.mod_revision);
        e.size = d.sizeOf(e.key, value?.length ?? 0);
        e.externalWrites++;
        d.log.info({ key: e.key, revision: kv.mod_revision, version: String(version) }, 'etcd write from outside the chain installed');
      } finally {
        await head.setWritable(e.keyId, d.writable(e.keyId));
      }
    })
    .catch((err: unknown) => d.log.error({ err, key: e.key }, 'installing an etcd write in the chain failed'));
}
