import { test } from 'vitest';
import assert from 'node:assert/strict';
import { defineError } from './errors.js';
import { areaProblems, phantomCodes, registryTests } from './testing.js';

const NA_ERR_DEMO_BAD_PORT = defineError('NA_ERR_DEMO_BAD_PORT', 'port %d is out of range', 'invalid-argument');
const NA_ERR_DEMO_GONE = defineError('NA_ERR_DEMO_GONE', 'the thing is gone', 'not-found');
const NA_ERR_OTHER_GONE = defineError('NA_ERR_OTHER_GONE', 'the other thing is gone', 'not-found');
const demo = { NA_ERR_DEMO_BAD_PORT, NA_ERR_DEMO_GONE };

// registryTests on a registry and README of its own: the declared tests pass on a good pair
registryTests(demo, new URL('./testing.test.readme.md', import.meta.url), { area: 'DEMO', codes: 2 });

test('areaProblems: codes of another area, an empty registry, too few or a wrong number of codes', () => {
  assert.deepEqual(areaProblems(demo, { area: 'DEMO' }), []);
  assert.deepEqual(areaProblems({ ...demo, NA_ERR_OTHER_GONE }, { area: 'DEMO' }), ['NA_ERR_OTHER_GONE: not NA_ERR_DEMO_<PROBLEM>']);
  assert.deepEqual(areaProblems({}, { area: 'DEMO' }), ['the registry is empty']);
  assert.deepEqual(areaProblems(demo, { area: 'DEMO', atLeast: 3 }), ['2 codes, expected at least 3']);
  assert.deepEqual(areaProblems(demo, { area: 'DEMO', codes: 1 }), ['2 codes, expected 1']);
  assert.deepEqual(areaProblems(demo, { area: 'DEMO', atLeast: 2, codes: 2 }), []);
});

test('phantomCodes: codes of the area a README documents that do not exist', () => {
  const readme = '| `NA_ERR_DEMO_GONE` | … |\n| `NA_ERR_DEMO_REMOVED` | … |\nsee NA_ERR_OTHER_X and NA_ERR_DEMOX_Y, codes are NA_ERR_DEMO_<PROBLEM>';
  assert.deepEqual(phantomCodes(demo, readme, 'DEMO'), ['NA_ERR_DEMO_REMOVED']);
  assert.deepEqual(phantomCodes(demo, 'NA_ERR_DEMO_BAD_PORT, NA_ERR_DEMO_GONE', 'DEMO'), []);
});
