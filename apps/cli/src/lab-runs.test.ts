/** Unit: `lab down` keeps the newest run folders, never a busy run's, and says where logs stay. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labLogParent, pruneRunDirs, runDirs, runsText, sizeText } from './lab-runs.js';

test('keeps the newest folders and busy runs, removes the rest, and says so', (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'cli-runs-'));
  t.onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
  for (let i = 1; i <= 4; i++) {
    const dir = join(parent, `lab-r${i}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.log'), 'x'.repeat(1000 * i));
    utimesSync(dir, 1_000_000 + i, 1_000_000 + i); // r4 newest
  }
  mkdirSync(join(parent, 'other-r9'));
  assert.deepEqual(runDirs(parent, 'lab').map((r) => [r.runId, r.bytes]), [['r4', 4000], ['r3', 3000], ['r2', 2000], ['r1', 1000]]);
  const r = pruneRunDirs(parent, 'lab', 2, new Set(['r1']));
  assert.deepEqual([r.kept.map((x) => x.runId), r.removed.map((x) => x.runId)], [['r4', 'r3', 'r1'], ['r2']]);
  assert.equal(existsSync(join(parent, 'lab-r2')), false);
  assert.equal(existsSync(join(parent, 'other-r9')), true, 'another prefix is not ours');
  assert.equal(runsText(parent, r, false), `removed 1 earlier run folder (2 kB); logs stay in ${parent}/lab-r4; 3 run folders kept in ${parent} (8 kB, the last 5; netaccel lab down --purge removes them)`);
  const p = pruneRunDirs(parent, 'lab', 0, new Set());
  assert.deepEqual(p.removed.map((x) => x.runId), ['r4', 'r3', 'r1']);
  assert.equal(runsText(parent, p, true), `removed 3 earlier run folders (8 kB); no run folders left in ${parent}`);
  assert.deepEqual(runDirs(join(parent, 'missing'), 'lab'), []);
  assert.deepEqual([sizeText(19_000_000), sizeText(512), labLogParent({ NETLAB_LOG_DIR: '/var/log/x' }), labLogParent({ NETLAB_LOG_DIR: 'rel' })], ['19.0 MB', '512 B', '/var/log/x', join(tmpdir(), 'netaccel-netlab')]);
});
