/**
 * The placer's records (placer.ts): a placed key's entry, the placer's options, what `adopt`
 * found. Kept apart so that the placer's steps and the watch handler (external-writes.ts) share
 * them without importing each other.
 */
import type { Etcd3, Watcher } from 'etcd3';
import type { Logger } from '@netaccel/telemetry';
import type { ChainManager } from './chain-manager.js';
import type { Mutex } from './mutex.js';
import type { PlacementStore } from './placement-store.js';

export interface PlacedEntry {
  readonly key: string;
  readonly keyId: bigint;
  readonly keyCheck: number;
  size: number;
  readonly placedAt: number;
  pinned: boolean;
  state: 'placing' | 'placed' | 'evicting';
  /** The last committed version the scheduler knows (placement, commits, external writes). */
  version: bigint;
  /** The highest chain version etcd has. */
  writtenVersion: bigint;
  /** The etcd revision of the load or of the last write-back. */
  etcdRevision: bigint;
  /** Revisions of our own write-backs not yet seen on the watch. */
  readonly own: Set<string>;
  watcher: Watcher | undefined;
  externalWrites: number;
}

export interface PlacerOptions {
  readonly etcd: Etcd3;
  readonly chain: ChainManager;
  readonly mutex: Mutex;
  readonly log: Logger;
  readonly perKeyOverhead: number;
  /** The budget and key limit now (they follow reloads). */
  readonly limits: () => { readonly budget: number; readonly maxKeys: number };
  readonly flushIntervalMs: number;
  readonly maxPending: number;
  readonly now?: () => number;
  readonly onChange?: () => void;
  /** membership.via: paxos: the placement recorded in the schedulers' group. */
  readonly store?: PlacementStore;
}

/** What `adopt` found: keys taken as placed, keys (and stale markers) retired. */
export interface Adoption {
  readonly adopted: string[];
  readonly retired: string[];
  readonly epoch: bigint;
}
