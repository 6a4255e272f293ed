/**
 * Unit: drop-reasons.ts against enum xlb_drop_reason in xlb_kern_user.h (the one source):
 * names, values, verdicts and descriptions, entry by entry (common/reasons-header.ts).
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { reasonHeaderProblems } from '../common/reasons-header.js';
import { XLB_DROP, XLB_DROP_MAX, XLB_DROP_REASONS, dropReason, dropReasonByName } from './drop-reasons.js';
import { headerText, parseEnum } from './header-text.js';

const header = parseEnum(headerText('xlb_kern_user.h'), 'xlb_drop_reason');

describe('drop reasons', () => {
  test('every reason of the header is in drop-reasons.ts with its value, verdict and description', () => {
    const table = { prefix: 'XLB_DROP_', key: 'verdict', values: XLB_DROP, reasons: XLB_DROP_REASONS, max: XLB_DROP_MAX };
    assert.deepEqual(reasonHeaderProblems(table, header), []);
  });

  test('lookups by value and by name', () => {
    assert.equal(dropReason(XLB_DROP.FRAGMENT)?.name, 'XLB_DROP_FRAGMENT');
    assert.equal(dropReason(0), undefined);
    assert.equal(dropReason(XLB_DROP_MAX), undefined);
    assert.equal(dropReasonByName('NAT_PORTS_EXHAUSTED')?.value, 9);
    assert.equal(dropReasonByName('XLB_DROP_TRUNCATED')?.verdict, 'pass');
    assert.equal(dropReasonByName('NOPE'), undefined);
  });
});
