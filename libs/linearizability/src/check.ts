/**
 * Checks a history of register operations on many keys. Linearizability is P-compositional
 * (Herlihy & Wing; Horn & Kroening for the partitioned search): a history is linearizable iff the
 * sub-history of each key is, so each key is searched alone. Reads whose outcome is unknown say
 * nothing and are dropped.
 */
import { NA_ERR_LIN_INVALID_OPTIONS } from './errors.js';
import type { RegisterOp, RegisterValue } from './model.js';
import { checkOp, describeOp } from './model.js';
import { searchKey } from './wgl.js';

export interface CheckOptions {
  /** Values of keys before the history (absent keys start null). */
  readonly initial?: Readonly<Record<string, RegisterValue>>;
  /** Search steps allowed per key before the answer is 'inconclusive'. */
  readonly maxStepsPerKey?: number;
}

const DEFAULTS = {
  maxStepsPerKey: 5_000_000, // configurations visited per key
} as const;

export interface Counterexample {
  readonly key: string;
  /** The longest sequence of this key's operations that could be linearized. */
  readonly linearized: readonly RegisterOp[];
  /** The register's value after them. */
  readonly stateAfter: RegisterValue;
  /** The operation that had to be linearized next (its return came) but could not be. */
  readonly blocked: RegisterOp;
  /** The operations of the key not linearized at that point, invoked before `blocked` completed. */
  readonly concurrent: readonly RegisterOp[];
  /** The above in words, one operation per line. */
  readonly explanation: string;
}

export interface KeyReport {
  readonly key: string;
  readonly ops: number;
  readonly steps: number;
  readonly outcome: 'linearizable' | 'not-linearizable' | 'inconclusive';
}

export interface CheckResult {
  readonly outcome: 'linearizable' | 'not-linearizable' | 'inconclusive';
  /** True only when every key is linearizable. */
  readonly ok: boolean;
  readonly keys: readonly KeyReport[];
  /** The first key found not linearizable, explained. */
  readonly counterexample?: Counterexample;
  /** A linearization per key (the operations in their linearized order), when ok. */
  readonly linearization?: ReadonlyMap<string, readonly RegisterOp[]>;
}

/** Groups operations by key, in history order, dropping reads of unknown outcome. */
export function byKey(history: readonly RegisterOp[]): Map<string, RegisterOp[]> {
  const keys = new Map<string, RegisterOp[]>();
  history.forEach((op, i) => {
    checkOp(op, `history[${i}]`);
    if (op.kind === 'read' && op.complete === null) return;
    const withId = op.id === undefined ? { ...op, id: i } : op;
    let list = keys.get(op.key);
    if (list === undefined) keys.set(op.key, (list = []));
    list.push(withId);
  });
  return keys;
}

/** Checks `history`; throws NA_ERR_LIN_INVALID_HISTORY when an operation is malformed. */
export function checkHistory(history: readonly RegisterOp[], options: CheckOptions = {}): CheckResult {
  const maxSteps = options.maxStepsPerKey ?? DEFAULTS.maxStepsPerKey;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw NA_ERR_LIN_INVALID_OPTIONS('maxStepsPerKey', `expected a positive integer, got ${maxSteps}`);
  const reports: KeyReport[] = [];
  const linearization = new Map<string, readonly RegisterOp[]>();
  let outcome: CheckResult['outcome'] = 'linearizable';
  let counterexample: Counterexample | undefined;
  for (const [key, ops] of byKey(history)) {
    const initial = options.initial?.[key] ?? null;
    const r = searchKey(ops, initial, maxSteps);
    const keyOutcome = r.linearizable === true ? 'linearizable' : r.linearizable === false ? 'not-linearizable' : 'inconclusive';
    reports.push({ key, ops: ops.length, steps: r.steps, outcome: keyOutcome });
    if (r.order !== undefined) linearization.set(key, r.order.map((i) => ops[i]!));
    if (keyOutcome === 'not-linearizable') {
      outcome = 'not-linearizable';
      counterexample ??= explain(key, ops, initial, r.deepest);
    } else if (keyOutcome === 'inconclusive' && outcome === 'linearizable') outcome = 'inconclusive';
  }
  const ok = outcome === 'linearizable';
  return { outcome, ok, keys: reports, ...(counterexample === undefined ? {} : { counterexample }), ...(ok ? { linearization } : {}) };
}

function explain(
  key: string,
  ops: readonly RegisterOp[],
  initial: RegisterValue,
  deepest: { order: readonly number[]; state: RegisterValue; blocked: number } | undefined,
): Counterexample {
  // The search always meets a return before giving up when a known operation exists.
  const d = deepest ?? { order: [], state: initial, blocked: 0 };
  const linearized = d.order.map((i) => ops[i]!);
  const blocked = ops[d.blocked]!;
  const done = new Set(d.order);
  const until = blocked.complete ?? Infinity;
  const concurrent = ops.filter((op, i) => !done.has(i) && i !== d.blocked && op.invoke <= until);
  const show = (v: RegisterValue): string => (v === null ? 'nil' : JSON.stringify(v));
  const explanation = [
    `key ${JSON.stringify(key)} is not linearizable (initial value ${show(initial)}).`,
    `longest linearizable prefix (${linearized.length} operations):`,
    ...linearized.map((op) => `  ${describeOp(op)}`),
    `value after it: ${show(d.state)}`,
    `cannot linearize next: ${describeOp(blocked)}`,
    ...(concurrent.length > 0 ? ['other operations pending then:', ...concurrent.map((op) => `  ${describeOp(op)}`)] : []),
  ].join('\n');
  return { key, linearized, stateAfter: d.state, blocked, concurrent, explanation };
}
