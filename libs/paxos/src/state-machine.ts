/** What a replicated service implements: a deterministic function of the committed operations. */

export type ApplyResult = { readonly ok: true; readonly result: Buffer } | { readonly ok: false; readonly error: string };

export interface StateMachine {
  /**
   * Applies one committed operation. Must be deterministic (the same log gives the same state on
   * every replica) and must not throw: a refused operation is `{ ok: false, error }`, which the
   * client receives as NA_ERR_PAXOS_REJECTED.
   */
  apply(op: Buffer): ApplyResult;
}
