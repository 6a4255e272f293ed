/**
 * Unit: drop-reasons.ts against enum xlb_drop_reason in xlb_kern_user.h (the one source):
 * names, values, verdicts and descriptions, entry by entry.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { XLB_DROP, XLB_DROP_MAX, XLB_DROP_REASONS, dropReason, dropReasonByName } from './drop-reasons.js';
import { headerText, parseEnum } from './header-text.js';

const header = parseEnum(headerText('xlb_kern_user.h'), 'xlb_drop_reason');

describe('drop reasons', () => {
  test('the header enum has NONE = 0, then the reasons, then XLB_DROP_MAX', () => {
    assert.equal(header[0]?.name, 'XLB_DROP_NONE');
    assert.equal(header[0]?.value, 0);
    const last = header[header.length - 1];
    assert.equal(last?.name, 'XLB_DROP_MAX');
    assert.equal(last?.value, XLB_DROP_MAX);
    assert.equal(header.length, XLB_DROP_REASONS.length + 2);
  });

  test('every reason of the header is in drop-reasons.ts with its value, verdict and description', () => {
    const reasons = header.slice(1, -1);
    assert.deepEqual(
      XLB_DROP_REASONS.map((r) => ({ name: r.name, value: r.value, comment: `${r.verdict}: ${r.description}` })),
      reasons.map((r) => ({ name: r.name, value: r.value, comment: r.comment })),
    );
  });

  test('values are 1..XLB_DROP_MAX-1 without gaps (drop_stats is an array)', () => {
    assert.deepEqual(XLB_DROP_REASONS.map((r) => r.value), Array.from({ length: XLB_DROP_MAX - 1 }, (_, i) => i + 1));
  });

  test('XLB_DROP short names agree with the table', () => {
    assert.deepEqual(
      Object.entries(XLB_DROP).map(([k, v]) => [`XLB_DROP_${k}`, v]),
      XLB_DROP_REASONS.map((r) => [r.name, r.value]),
    );
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
