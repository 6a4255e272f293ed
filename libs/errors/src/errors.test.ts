import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NetaccelError, checkRegistry, defineError, errorMessage, isNetaccelError, undocumentedCodes } from './errors.js';

const NA_ERR_DEMO_BAD_PORT = defineError('NA_ERR_DEMO_BAD_PORT', 'port %d of %s is out of range', 'invalid-argument');
const NA_ERR_DEMO_GONE = defineError('NA_ERR_DEMO_GONE', 'the thing is gone', 'not-found');

test('a factory fills its template and carries code and kind', () => {
  const err = NA_ERR_DEMO_BAD_PORT(70000, 'peer 10.0.0.1');
  assert.ok(err instanceof NetaccelError);
  assert.ok(err instanceof Error);
  assert.equal(err.code, 'NA_ERR_DEMO_BAD_PORT');
  assert.equal(err.kind, 'invalid-argument');
  assert.equal(err.message, 'port 70000 of peer 10.0.0.1 is out of range');
  assert.ok(NA_ERR_DEMO_BAD_PORT.is(err));
  assert.ok(!NA_ERR_DEMO_GONE.is(err));
  assert.ok(isNetaccelError(err));
  assert.ok(!isNetaccelError(new Error('x')));
});

test('with() attaches cause and frozen details; toJSON is structured', () => {
  const cause = new Error('ENOENT');
  const err = NA_ERR_DEMO_GONE.with({ cause, details: { path: '/x' } });
  assert.equal(err.cause, cause);
  assert.deepEqual(err.details, { path: '/x' });
  assert.ok(Object.isFrozen(err.details));
  assert.deepEqual(err.toJSON(), {
    name: 'NetaccelError', code: 'NA_ERR_DEMO_GONE', kind: 'not-found', message: 'the thing is gone', details: { path: '/x' },
  });
});

test('codes must follow NA_ERR_<AREA>_<PROBLEM>', () => {
  assert.throws(() => defineError('ERR_X', 'x', 'internal'), /NA_ERR_<AREA>_<PROBLEM>/);
  assert.throws(() => defineError('NA_ERR_X', 'x', 'internal'), /NA_ERR_<AREA>_<PROBLEM>/);
  assert.throws(() => defineError('NA_ERR_A_B', '', 'internal'), /empty message/);
});

test('checkRegistry finds mismatched keys and duplicate codes', () => {
  assert.deepEqual(checkRegistry({ NA_ERR_DEMO_BAD_PORT, NA_ERR_DEMO_GONE }), []);
  const problems = checkRegistry({ NA_ERR_DEMO_WRONG: NA_ERR_DEMO_GONE }, { NA_ERR_DEMO_GONE });
  assert.deepEqual(problems, ['NA_ERR_DEMO_WRONG: key differs from its code NA_ERR_DEMO_GONE', 'NA_ERR_DEMO_GONE: defined twice']);
});

test('undocumentedCodes lists codes a README does not mention', () => {
  const reg = { NA_ERR_DEMO_BAD_PORT, NA_ERR_DEMO_GONE };
  assert.deepEqual(undocumentedCodes(reg, '| NA_ERR_DEMO_GONE | ... |'), ['NA_ERR_DEMO_BAD_PORT']);
  assert.deepEqual(undocumentedCodes(reg, 'NA_ERR_DEMO_GONE_X and NA_ERR_DEMO_BAD_PORT'), ['NA_ERR_DEMO_GONE']);
});

test('errorMessage handles non-errors', () => {
  assert.equal(errorMessage(new Error('boom')), 'boom');
  assert.equal(errorMessage('plain'), 'plain');
  assert.equal(errorMessage({ a: 1 }), '{"a":1}');
});
