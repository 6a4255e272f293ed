import { test } from 'vitest';
import assert from 'node:assert/strict';
import { bruteForceLinearizable } from './brute.js';
import { checkHistory } from './check.js';
import type { RegisterOp } from './model.js';
import { HistoryRecorder } from './recorder.js';

const w = (key: string, value: string, invoke: number, complete: number | null): RegisterOp => ({ kind: 'write', key, value, invoke, complete });
const r = (key: string, output: string | null, invoke: number, complete: number | null): RegisterOp => ({ kind: 'read', key, output, invoke, complete });
const del = (key: string, invoke: number, complete: number | null, output?: boolean): RegisterOp => ({ kind: 'delete', key, invoke, complete, ...(output === undefined ? {} : { output }) });
const cas = (key: string, expected: string | null, value: string, invoke: number, complete: number | null, output?: boolean): RegisterOp => ({
  kind: 'cas', key, expected, value, invoke, complete, ...(output === undefined ? {} : { output }),
});

/** Checks with the search and with brute force, asserts both agree, returns the answer. */
function both(history: RegisterOp[]): boolean {
  const result = checkHistory(history);
  const brute = bruteForceLinearizable(history);
  assert.equal(result.ok, brute, `search says ${result.outcome}, brute force ${brute}`);
  return result.ok;
}

test('sequential histories: correct ones pass, a stale read fails', () => {
  assert.equal(both([w('x', '1', 0, 1), r('x', '1', 2, 3), w('x', '2', 4, 5), r('x', '2', 6, 7)]), true);
  assert.equal(both([w('x', '1', 0, 1), w('x', '2', 2, 3), r('x', '1', 4, 5)]), false);
  assert.equal(both([r('x', null, 0, 1)]), true);
  assert.equal(both([r('x', '1', 0, 1)]), false);
});

test('concurrent operations may take effect in either order', () => {
  // write 1 and write 2 overlap; later reads see 2 then... only one final value is possible.
  assert.equal(both([w('x', '1', 0, 10), w('x', '2', 1, 11), r('x', '1', 12, 13)]), true);
  assert.equal(both([w('x', '1', 0, 10), w('x', '2', 1, 11), r('x', '2', 12, 13)]), true);
  assert.equal(both([w('x', '1', 0, 10), w('x', '2', 1, 11), r('x', '2', 12, 13), r('x', '1', 14, 15)]), false);
  // A read concurrent with a write may see either value, but two sequential reads cannot go back.
  assert.equal(both([w('x', '1', 0, 1), w('x', '2', 2, 10), r('x', '2', 3, 4), r('x', '1', 5, 6)]), false);
  assert.equal(both([w('x', '1', 0, 1), w('x', '2', 2, 10), r('x', '1', 3, 4), r('x', '2', 5, 6)]), true);
  // Touching intervals are concurrent.
  assert.equal(both([w('x', '1', 0, 5), r('x', null, 5, 6)]), true);
});

test('operations of unknown outcome may take effect late or never', () => {
  // A timed-out write seen later: fine. Not seen: fine.
  assert.equal(both([w('x', '1', 0, null), r('x', '1', 50, 51)]), true);
  assert.equal(both([w('x', '1', 0, null), r('x', null, 50, 51)]), true);
  // But once seen it cannot be un-done by a later read of the old value.
  assert.equal(both([w('x', '1', 0, null), r('x', '1', 50, 51), r('x', null, 52, 53)]), false);
  // It cannot take effect before it was invoked.
  assert.equal(both([r('x', '1', 0, 1), w('x', '1', 2, null)]), false);
  // A read of unknown outcome says nothing.
  assert.equal(both([r('x', 'zzz', 0, null)]), true);
});

test('delete and compare-and-set', () => {
  assert.equal(both([w('x', '1', 0, 1), del('x', 2, 3, true), r('x', null, 4, 5), del('x', 6, 7, false)]), true);
  assert.equal(both([del('x', 0, 1, true)]), false);
  assert.equal(both([cas('x', null, 'a', 0, 1, true), cas('x', null, 'b', 2, 3, false), r('x', 'a', 4, 5)]), true);
  assert.equal(both([cas('x', null, 'a', 0, 10, true), cas('x', null, 'b', 1, 11, true)]), false);
  assert.equal(both([cas('x', null, 'a', 0, 10, true), cas('x', null, 'b', 1, 11, false), r('x', 'a', 12, 13)]), true);
  // A cas of unknown outcome explains a later read either way.
  assert.equal(both([cas('x', null, 'a', 0, null), r('x', 'a', 5, 6)]), true);
});

test('keys are independent (P-compositionality) and the counterexample names the key and the operation', () => {
  const history = [w('a', '1', 0, 1), w('b', '1', 0, 1), r('a', '1', 2, 3), w('b', '2', 2, 3), r('b', '1', 4, 5), r('a', '1', 4, 5)];
  const result = checkHistory(history);
  assert.equal(result.outcome, 'not-linearizable');
  assert.equal(result.ok, false);
  const ce = result.counterexample!;
  assert.equal(ce.key, 'b');
  assert.equal(ce.blocked.kind, 'read');
  assert.equal(ce.stateAfter, '2');
  assert.deepEqual(ce.linearized.map((op) => op.kind), ['write', 'write']);
  assert.match(ce.explanation, /key "b" is not linearizable/);
  assert.match(ce.explanation, /cannot linearize next: #4 \[4, 5\] read\(b\) -> "1"/);
  assert.deepEqual(result.keys.map((k) => [k.key, k.outcome]), [['a', 'linearizable'], ['b', 'not-linearizable']]);
});

test('a linearizable history comes with a linearization that respects real time', () => {
  const history = [w('x', '1', 0, 10), r('x', '2', 3, 12), w('x', '2', 1, 4), r('x', '1', 11, 14)];
  const result = checkHistory(history);
  assert.equal(result.ok, bruteForceLinearizable(history));
  assert.ok(result.ok);
  const order = result.linearization!.get('x')!;
  assert.deepEqual(order.map((op) => op.id), [2, 1, 0, 3]);
});

test('malformed histories and options are refused with the path of the field', () => {
  assert.throws(() => checkHistory([{ kind: 'read', key: 'x', output: null, invoke: 5, complete: 4 }]), /history\[0\]\.complete: 4 is before invoke 5/);
  assert.throws(() => checkHistory([{ kind: 'write', key: 1 as unknown as string, value: 'v', invoke: 0, complete: 1 }]), /history\[0\]\.key: expected a string/);
  assert.throws(() => checkHistory([{ kind: 'nope', key: 'x', invoke: 0, complete: 1 } as unknown as RegisterOp]), /history\[0\]\.kind: expected read, write, delete or cas/);
  assert.throws(() => checkHistory([], { maxStepsPerKey: 0 }), /maxStepsPerKey: expected a positive integer/);
  assert.throws(() => bruteForceLinearizable(Array.from({ length: 10 }, (_, i) => w('x', String(i), i, i))), /at most 9 operations per key/);
});

test('the step budget makes a hard search inconclusive instead of endless', () => {
  // 12 concurrent writes of distinct values, then a read of a value never written.
  const history = [...Array.from({ length: 12 }, (_, i) => w('x', String(i), 0, 100)), r('x', 'never', 101, 102)];
  const small = checkHistory(history, { maxStepsPerKey: 1000 });
  assert.equal(small.outcome, 'inconclusive');
  assert.equal(small.ok, false);
  const full = checkHistory(history);
  assert.equal(full.outcome, 'not-linearizable');
});

test('the recorder builds a history; unknown outcomes become complete: null; failed ones vanish', () => {
  let t = 0;
  const rec = new HistoryRecorder(() => t++);
  const a = rec.begin({ kind: 'write', key: 'k', value: 'v' });
  const b = rec.begin({ kind: 'cas', key: 'k', expected: null, value: 'w' });
  const c = rec.begin({ kind: 'delete', key: 'k' });
  rec.ok(a);
  rec.unknown(b);
  rec.failed(c);
  const d = rec.begin({ kind: 'read', key: 'k' });
  rec.ok(d, 'v');
  assert.equal(rec.pending, 0);
  assert.deepEqual(rec.history(), [
    { id: 0, key: 'k', invoke: 0, complete: 3, kind: 'write', value: 'v' },
    { id: 1, key: 'k', invoke: 1, complete: null, kind: 'cas', expected: null, value: 'w' },
    { id: 3, key: 'k', invoke: 4, complete: 5, kind: 'read', output: 'v' },
  ]);
  assert.throws(() => rec.ok(a), /operation #0: finished twice/);
  assert.equal(checkHistory(rec.history()).ok, true);
});
