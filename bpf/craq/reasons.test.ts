/** Unit: reasons.ts against enum craq_reason / craq_stat in craq_kern_user.h, entry by entry. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { reasonHeaderProblems } from '../common/reasons-header.js';
import { craqHeaderText, parseEnum } from './header-text.js';
import { CRAQ_REASON, CRAQ_REASONS, CRAQ_REASON_MAX, CRAQ_STAT, CRAQ_STAT_MAX, craqReason, craqReasonByName } from './reasons.js';

const text = craqHeaderText('craq_kern_user.h');

test('every reason of the header is in reasons.ts with its value, verdict and description', () => {
  const table = { prefix: 'CRAQ_R_', key: 'verdict', values: CRAQ_REASON, reasons: CRAQ_REASONS, max: CRAQ_REASON_MAX };
  assert.deepEqual(reasonHeaderProblems(table, parseEnum(text, 'craq_reason')), []);
});

test('the stat table matches enum craq_stat', () => {
  const header = parseEnum(text, 'craq_stat');
  assert.deepEqual(header.map((e) => [e.name, e.value]), [...Object.entries(CRAQ_STAT).map(([k, v]) => [`CRAQ_S_${k}`, v]), ['CRAQ_S_MAX', CRAQ_STAT_MAX]]);
});

test('lookups by value and by name', () => {
  assert.equal(craqReason(CRAQ_REASON.FORGED)?.verdict, 'drop');
  assert.equal(craqReason(0), undefined);
  assert.equal(craqReasonByName('NOT_PLACED')?.verdict, 'pass');
  assert.equal(craqReasonByName('CRAQ_R_STALE')?.value, 14);
  assert.equal(craqReasonByName('NOPE'), undefined);
});
