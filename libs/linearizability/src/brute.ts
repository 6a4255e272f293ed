/**
 * A reference checker by exhaustive enumeration, for cross-checking the search on small
 * histories (at most 9 operations per key): every order of every subset of the operations of
 * unknown outcome together with all known ones, kept when it respects real time and the
 * register's specification.
 */
import { NA_ERR_LIN_INVALID_OPTIONS } from './errors.js';
import type { RegisterOp, RegisterValue } from './model.js';
import { step } from './model.js';
import { byKey } from './check.js';

const MAX_OPS = 9;

/** True when a precedes b in real time (a completed before b was invoked). */
function precedes(a: RegisterOp, b: RegisterOp): boolean {
  return a.complete !== null && a.complete < b.invoke;
}

function keyLinearizable(ops: readonly RegisterOp[], initial: RegisterValue): boolean {
  if (ops.length > MAX_OPS) throw NA_ERR_LIN_INVALID_OPTIONS('history', `brute force takes at most ${MAX_OPS} operations per key, got ${ops.length}`);
  const used = new Array<boolean>(ops.length).fill(false);
  const known = ops.filter((op) => op.complete !== null).length;
  // Depth-first over sequences: extend with any unused operation none of whose unused
  // predecessors (in real time) is still waiting; stop successfully once every known one is in.
  const extend = (state: RegisterValue, placedKnown: number): boolean => {
    if (placedKnown === known) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      const op = ops[i]!;
      // Every known operation that precedes op must be placed already (unknown ones may be skipped forever).
      if (ops.some((p, j) => !used[j] && j !== i && p.complete !== null && precedes(p, op))) continue;
      const next = step(state, op);
      if (next === undefined) continue;
      used[i] = true;
      const ok = extend(next, placedKnown + (op.complete !== null ? 1 : 0));
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return extend(initial, 0);
}

/** Exhaustive check of a small history; true when linearizable. */
export function bruteForceLinearizable(history: readonly RegisterOp[], initial: Readonly<Record<string, RegisterValue>> = {}): boolean {
  for (const [key, ops] of byKey(history)) if (!keyLinearizable(ops, initial[key] ?? null)) return false;
  return true;
}
