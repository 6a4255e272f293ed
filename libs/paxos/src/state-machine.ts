/** What a replicated service implements: a deterministic function of the committed operations. */

export type ApplyResult = { readonly ok: true; readonly result: Buffer } | { readonly ok: false; readonly error: string };

export interface StateMachine {
  /**
   * Applies one committed operation. Must be deterministic (the same log gives the same state on
   * every replica) and must not throw: a refused operation is `{ ok: false, error }`, which the
   * client receives as NA_ERR_PAXOS_REJECTED.
   */
  apply(op: Buffer): ApplyResult;
  /**
   * The whole state as bytes, for a checkpoint (snapshot.ts). Deterministic: two replicas that
   * executed the same operations give the same bytes.
   */
  snapshot(): Buffer;
  /**
   * Replaces the whole state with a snapshot() of another replica (state transfer from a
   * checkpoint). Throws on malformed bytes and then leaves the state as it was.
   */
  restore(snapshot: Buffer): void;
}
