/**
 * A linearizability checker for the history of one register (Wing & Gong's search with
 * memoisation, as in Lowe's and Horn's checkers): every completed operation must take effect at
 * one instant between its invocation and its response, in an order that a sequential register
 * explains; an operation still pending may take effect after its invocation or not at all.
 */

export interface RegisterOp {
  readonly kind: 'read' | 'write';
  /** The value written, or the value a read returned (undefined: the register had none). */
  readonly value: string | undefined;
  readonly invoke: number;
  /** Undefined while pending (no response seen). */
  readonly response?: number;
}

/** True when the history is linearizable from `initial`; the search is exponential in the worst case (keep histories small). */
export function isLinearizable(ops: readonly RegisterOp[], initial: string | undefined): boolean {
  const n = ops.length;
  if (n > 30) throw new RangeError(`isLinearizable: ${n} operations, at most 30`);
  const completed = ops.reduce((m, o, i) => (o.response !== undefined ? m | (1 << i) : m), 0);
  const seen = new Set<string>();
  const search = (done: number, value: string | undefined): boolean => {
    if ((done & completed) === completed) return true;
    const key = `${done}:${value ?? '\u0000'}`;
    if (seen.has(key)) return false;
    seen.add(key);
    // the earliest response among operations not yet linearized bounds what may go next
    let bound = Infinity;
    for (let i = 0; i < n; i++) if (!(done & (1 << i)) && ops[i]!.response !== undefined) bound = Math.min(bound, ops[i]!.response!);
    for (let i = 0; i < n; i++) {
      if (done & (1 << i)) continue;
      const o = ops[i]!;
      if (o.invoke > bound) continue;
      if (o.kind === 'read') {
        if (o.value === value && search(done | (1 << i), value)) return true;
      } else if (search(done | (1 << i), o.value)) {
        return true;
      }
    }
    return false;
  };
  return search(0, initial);
}
