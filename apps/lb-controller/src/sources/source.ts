/**
 * What every source of desired state (file, etcd, Kubernetes) hands the controller: a complete
 * state each time something changes, and the problems it skipped or refused on the way.
 */
import type { DesiredState } from '../desired-state.js';

export interface SourceEvents {
  /** A new complete state; the controller checks it and applies it or refuses it whole. */
  state(state: DesiredState, origin: string): void;
  /** A record or change was skipped or refused (already logged by the source). */
  problem(kind: 'record' | 'state' | 'connection', err: unknown): void;
}

export interface StateSource {
  readonly kind: 'file' | 'etcd' | 'kubernetes';
  /** Delivers the first state (or fails), then keeps watching. */
  start(events: SourceEvents): Promise<void>;
  close(): Promise<void>;
}

