import { test } from 'vitest';
import assert from 'node:assert/strict';
import { changedPaths, cloneTree, deepFreeze, getIn, mergeTrees, setIn } from './object-tree.js';

test('mergeTrees merges mappings, replaces lists and scalars, and shares nothing', () => {
  const base = { a: { b: 1, c: [1, 2] }, d: 'x' };
  const over = { a: { c: [3] }, e: { f: true } };
  const merged = mergeTrees(base, over) as Record<string, any>;
  assert.deepEqual(merged, { a: { b: 1, c: [3] }, d: 'x', e: { f: true } });
  merged.e.f = false;
  merged.a.c.push(4);
  assert.deepEqual(over, { a: { c: [3] }, e: { f: true } });
  assert.deepEqual(base, { a: { b: 1, c: [1, 2] }, d: 'x' });
  assert.deepEqual(mergeTrees({ a: 1 }, [1]), [1]);
});

test('a __proto__ key stays data when copied, merged or set', () => {
  const evil = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
  const copy = cloneTree(evil) as Record<string, unknown>;
  assert.ok(Object.hasOwn(copy, '__proto__'));
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  const merged = mergeTrees({}, evil) as Record<string, unknown>;
  assert.ok(Object.hasOwn(merged, '__proto__'));
  setIn({}, ['__proto__', 'polluted'], true);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('getIn and setIn walk mappings and existing list elements', () => {
  const tree = { a: [{ b: 1 }] };
  assert.deepEqual(getIn(tree, ['a', 0, 'b']), { found: true, value: 1 });
  assert.deepEqual(getIn(tree, ['a', 1, 'b']), { found: false, value: undefined });
  assert.deepEqual(getIn(tree, ['a', '0']), { found: false, value: undefined });
  setIn(tree, ['a', 0, 'c', 'd'], 2);
  assert.deepEqual(tree, { a: [{ b: 1, c: { d: 2 } }] });
  assert.throws(() => setIn(tree, ['a', 5, 'b'], 1), RangeError);
  assert.throws(() => setIn(tree, [], 1), RangeError);
});

test('deepFreeze freezes everything inside', () => {
  const tree = deepFreeze({ a: [{ b: { c: 1 } }] });
  assert.ok(Object.isFrozen(tree.a) && Object.isFrozen(tree.a[0]) && Object.isFrozen(tree.a[0]!.b));
});

test('changedPaths lists changed leaves, added and removed keys and elements', () => {
  const prev = { a: 1, b: { c: [1, 2, 3], d: 'x' }, gone: true, same: { deep: [1] } };
  const next = { a: 2, b: { c: [1, 5], d: 'x' }, added: null, same: { deep: [1] } };
  assert.deepEqual(changedPaths(prev, next), [['a'], ['b', 'c', 1], ['b', 'c', 2], ['gone'], ['added']]);
  assert.deepEqual(changedPaths(prev, prev), []);
  assert.deepEqual(changedPaths({ a: 1 }, [1]), [[]]);
});
