import { test } from 'vitest';
import assert from 'node:assert/strict';
import { parseReportLine } from './report-line.js';

test('a report line: numbers checked by name; not JSON, not an object, a missing or non-finite number named', () => {
  assert.deepEqual(parseReportLine('gen', '{"ops":3,"note":"x"}', ['ops']), { ops: 3, note: 'x' });
  assert.throws(() => parseReportLine('gen', 'Segmentation fault', ['ops']), /^Error: gen: expected a JSON report, got "Segmentation fault"$/);
  assert.throws(() => parseReportLine('gen', '[1]', ['ops']), /gen: expected a JSON object/);
  assert.throws(() => parseReportLine('gen', '{"ops":"3"}', ['ops']), /gen: report field ops: expected a number, got "3"/);
  assert.throws(() => parseReportLine('gen', '{}', ['ops']), /gen: report field ops: expected a number, got undefined/);
});
