// Randomized cross-check: the search and the brute-force reference agree on thousands of small
// random histories, linearizable ones (built from a real sequential run) and others (outputs
// perturbed). Deterministic seed; replay with LIN_SEED.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { seededRandom } from '@netaccel/protocol';
import { bruteForceLinearizable } from './brute.js';
import { checkHistory } from './check.js';
import type { RegisterOp, RegisterValue } from './model.js';
import { step } from './model.js';

const SEED = Number(process.env.LIN_SEED ?? 20261207);

/**
 * A history of n operations on one or two keys whose true effect happens at a random instant in
 * its interval, outputs computed from those instants (so it is linearizable); then, with
 * probability `perturb`, one output changed or one interval shifted (usually not linearizable).
 */
function randomHistory(rand: () => number, n: number, perturb: number, span = 20, keys: readonly string[] = ['x', 'x', 'x', 'x', 'y']): RegisterOp[] {
  const values = ['a', 'b', 'c'];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const ops = Array.from({ length: n }, (_, i) => {
    const invoke = Math.floor(rand() * span);
    const complete = invoke + 1 + Math.floor(rand() * 8);
    const at = invoke + rand() * (complete - invoke);
    const key = pick(keys);
    const kind = pick(['read', 'read', 'write', 'write', 'delete', 'cas'] as const);
    const unknown = kind !== 'read' && rand() < 0.15;
    return { i, invoke, complete, at, key, kind, unknown, value: pick(values), expected: rand() < 0.3 ? null : pick(values), happens: !unknown || rand() < 0.5 };
  });
  const state = new Map<string, RegisterValue>();
  const out: RegisterOp[] = new Array(n);
  for (const o of [...ops].sort((a, b) => a.at - b.at)) {
    const base = { id: o.i, key: o.key, invoke: o.invoke, complete: o.unknown ? null : o.complete };
    const s = state.get(o.key) ?? null;
    let op: RegisterOp;
    if (o.kind === 'read') op = { ...base, kind: 'read', output: s };
    else if (o.kind === 'write') op = { ...base, kind: 'write', value: o.value };
    else if (o.kind === 'delete') op = { ...base, kind: 'delete', ...(o.unknown ? {} : { output: s !== null }) };
    else op = { ...base, kind: 'cas', expected: o.expected, value: o.value, ...(o.unknown ? {} : { output: s === o.expected }) };
    if (o.happens) state.set(o.key, step(s, { ...op, complete: null })!);
    out[o.i] = op;
  }
  if (rand() < perturb) {
    const j = Math.floor(rand() * n);
    const op = out[j]!;
    if (op.kind === 'read') out[j] = { ...op, output: op.output === null ? pick(values) : rand() < 0.5 ? null : pick(values) };
    else if (op.kind === 'cas' && op.output !== undefined) out[j] = { ...op, output: !op.output };
    else out[j] = { ...op, invoke: op.invoke + 10, complete: op.complete === null ? null : op.complete + 10 };
  }
  return out;
}

test(`3,000 random histories of up to 8 operations: the search agrees with brute force (seed ${SEED})`, () => {
  const rand = seededRandom(SEED);
  let linearizable = 0;
  let not = 0;
  for (let k = 0; k < 3000; k++) {
    const h = randomHistory(rand, 2 + Math.floor(rand() * 7), 0.6);
    const expected = bruteForceLinearizable(h);
    const got = checkHistory(h);
    assert.equal(got.ok, expected, `history ${k}: ${JSON.stringify(h)}\n${got.counterexample?.explanation ?? ''}`);
    if (!expected) assert.ok(got.counterexample !== undefined && got.outcome === 'not-linearizable');
    if (expected) linearizable++;
    else not++;
  }
  // Both answers are well represented, so agreement means something.
  assert.ok(linearizable > 800 && not > 500, `linearizable ${linearizable}, not ${not}`);
});

test('unperturbed random histories of 200 operations on 4 keys are linearizable, quickly', () => {
  const rand = seededRandom(SEED + 1);
  for (let k = 0; k < 20; k++) {
    const h = randomHistory(rand, 200, 0, 300, ['k0', 'k1', 'k2', 'k3']);
    const result = checkHistory(h);
    assert.equal(result.outcome, 'linearizable', result.counterexample?.explanation);
  }
});
