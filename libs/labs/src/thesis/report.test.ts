/** Unit: the thesis report's figures a person reads: one unit per column (issue 13, item 6). */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { reportHtml, stepSeconds } from './report.js';
import { sampleReport } from '../testing/index.js';

test('step durations are all in seconds: not "13.1 s" beside "4179 ms"', () => {
  assert.deepEqual([300, 4179, 13_100].map(stepSeconds), ['0.3 s', '4.2 s', '13.1 s']);
  const html = reportHtml(sampleReport({ steps: [{ title: 'build', ms: 300 }, { title: 'traffic', ms: 13_100 }, { title: 'kill', ms: 4179 }] }), 'text');
  const steps = /<pre>([^<]*build[^<]*)<\/pre>/.exec(html)![1]!;
  assert.equal(steps, ['   0.3 s  build', '  13.1 s  traffic', '   4.2 s  kill'].join('\n'));
});
