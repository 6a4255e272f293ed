// `make lab` runs scripts/demo.ts; this runs it the same way and holds it to its report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listNetns } from '@netaccel/netlab';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

test('the demonstration runs, passes its checks and leaves nothing behind', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/demo.ts')], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  for (const what of ['every HTTP request through XDP answered', 'UDP to port 5001 all delivered', 'UDP to port 9 dropped in XDP', 'metrics exported']) {
    assert.match(r.stdout, new RegExp(`ok  ${what}`));
  }
  assert.match(r.stdout, /netaccel_xdp_verdict_packets\{verdict="drop"\} 500/);
  const run = /logs of this run: \S*\/(nalab-[a-z0-9]+)/.exec(r.stdout)?.[1];
  assert.ok(run, 'the report names the run');
  assert.deepEqual(listNetns().filter((n) => n.startsWith(`${run}-`)), [], 'namespaces left behind');
});
