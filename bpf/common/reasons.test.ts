/**
 * Unit: the reason-table builder (reasons.ts) and the header check (reasons-header.ts) on a
 * small table of their own: what the builder returns, the entries it refuses, and the
 * differences the check reports against an enum read from C text.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { parseEnum } from './header-text.js';
import { reasonHeaderProblems } from './reasons-header.js';
import { reasonTable } from './reasons.js';

const spec = { prefix: 'TOY_R_', key: 'verdict', outcomes: ['pass', 'drop'] } as const;
const toy = () =>
  reasonTable(spec, [
    { name: 'TOY_R_SHORT', value: 1, verdict: 'pass', description: 'shorter than a header' },
    { name: 'TOY_R_FORGED', value: 2, verdict: 'drop', description: 'not from the neighbour' },
  ]);

const HEADER = `
enum toy_reason {
\tTOY_R_NONE = 0, /* unused */
\tTOY_R_SHORT = 1, /* pass: shorter than a header */
\tTOY_R_FORGED = 2, /* drop: not from the neighbour */
\tTOY_R_MAX = 3,
};
`;

describe('reasonTable', () => {
  test('values by short name, full reasons in order, MAX and lookups, all frozen', () => {
    const t = toy();
    assert.deepEqual({ ...t.values }, { SHORT: 1, FORGED: 2 });
    assert.deepEqual(t.reasons, [
      { name: 'TOY_R_SHORT', value: 1, verdict: 'pass', description: 'shorter than a header' },
      { name: 'TOY_R_FORGED', value: 2, verdict: 'drop', description: 'not from the neighbour' },
    ]);
    assert.equal(t.max, 3);
    assert.equal(t.byValue(2)?.name, 'TOY_R_FORGED');
    for (const v of [0, 3, -1, 1.5, Number.NaN]) assert.equal(t.byValue(v), undefined, String(v));
    assert.equal(t.byName('SHORT')?.value, 1);
    assert.equal(t.byName('TOY_R_FORGED')?.verdict, 'drop');
    assert.equal(t.byName('NONE'), undefined);
    assert.equal(t.byName('nope'), undefined);
    for (const o of [t, t.values, t.reasons, t.reasons[0]]) assert.ok(Object.isFrozen(o));
  });

  test('the outcome field is named by the spec (the sidecar says path)', () => {
    const t = reasonTable({ prefix: 'P_', key: 'path', outcomes: ['kernel', 'user'] }, [{ name: 'P_X', value: 1, path: 'user', description: 'x' }]);
    assert.deepEqual(t.byName('X'), { name: 'P_X', value: 1, path: 'user', description: 'x' });
  });

  test('a bad entry is refused when the table is built, naming it', () => {
    const entry = { name: 'TOY_R_A', value: 1, verdict: 'pass', description: 'a' } as const;
    const cases: [string, unknown[], RegExp][] = [
      ['a gap', [entry, { ...entry, name: 'TOY_R_B', value: 3 }], /entry 1 \(TOY_R_B\): value 3, expected 2/],
      ['out of order', [{ ...entry, value: 2 }], /entry 0 \(TOY_R_A\): value 2, expected 1/],
      ['another prefix', [{ ...entry, name: 'OTHER_A' }], /entry 0 \(OTHER_A\): the name is not TOY_R_<NAME>/],
      ['NONE listed', [{ ...entry, name: 'TOY_R_NONE' }], /TOY_R_NONE and TOY_R_MAX are not reasons/],
      ['twice', [entry, { ...entry, value: 2 }], /entry 1 \(TOY_R_A\): the name is listed twice/],
      ['an unknown verdict', [{ ...entry, verdict: 'tx' }], /verdict "tx" is not one of pass, drop/],
      ['no description', [{ ...entry, description: ' ' }], /TOY_R_A\): no description/],
    ];
    for (const [what, list, message] of cases) {
      assert.throws(() => reasonTable(spec, list as never), { name: 'RangeError', message }, what);
    }
    assert.throws(() => reasonTable({ ...spec, prefix: 'toy' }, []), /prefix "toy"/);
  });
});

describe('reasonHeaderProblems', () => {
  const exported = () => {
    const t = toy();
    return { prefix: t.prefix, key: t.key, values: t.values, reasons: t.reasons, max: t.max };
  };

  test('none when the table is the header', () => {
    assert.deepEqual(reasonHeaderProblems(exported(), parseEnum(HEADER, 'toy_reason')), []);
  });

  test('each difference is one line: a comment, a value, a missing reason, MAX, the short names', () => {
    const header = parseEnum(HEADER.replace('drop: not from', 'pass: not from').replace('TOY_R_MAX = 3', 'TOY_R_MAX = 4'), 'toy_reason');
    assert.deepEqual(reasonHeaderProblems(exported(), header), [
      'header ends with TOY_R_MAX = 4, expected TOY_R_MAX = 3',
      'TOY_R_FORGED: header comment "pass: not from the neighbour", the table "drop: not from the neighbour"',
    ]);
    const t = exported();
    const missing = { ...t, reasons: t.reasons.slice(0, 1) };
    assert.deepEqual(reasonHeaderProblems(missing, parseEnum(HEADER, 'toy_reason')), [
      'reason 2: header has TOY_R_FORGED = 2, the table nothing',
      '1 reasons, TOY_R_MAX - 1 = 2',
      'short names [TOY_R_SHORT = 1, TOY_R_FORGED = 2] differ from the reasons [TOY_R_SHORT = 1]',
    ]);
    const renumbered = parseEnum(HEADER.replace('TOY_R_NONE = 0', 'TOY_R_NONE = 1').replace('TOY_R_SHORT = 1', 'TOY_R_SHORT = 5'), 'toy_reason');
    assert.deepEqual(reasonHeaderProblems(t, renumbered), [
      'header starts with TOY_R_NONE = 1, expected TOY_R_NONE = 0',
      'reason 1: header has TOY_R_SHORT = 5, the table TOY_R_SHORT = 1',
    ]);
  });
});
