import { test } from 'vitest';
import assert from 'node:assert/strict';
import { failedBatchLine } from './ip.js';

test('failedBatchLine maps "Command failed -:N" back to the line', () => {
  const lines = ['link set dev lo up', 'route add 10.9.0.0/24 via 10.0.0.9'];
  assert.deepEqual(failedBatchLine('Error: Nexthop has invalid gateway.\nCommand failed -:2\n', lines), { index: 1, text: lines[1] });
  assert.equal(failedBatchLine('RTNETLINK answers: File exists\n', lines), undefined);
});
