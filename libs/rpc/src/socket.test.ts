import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseGroup, probeSocket } from './socket.js';
import { NA_ERR_RPC_UNKNOWN_GROUP } from './errors.js';
import { makeStaleSocket, tempDir } from './test/fixtures.js';

const GROUPS = 'root:x:0:\nnetaccel:x:998:alice,bob\n# comment\nbroken-line\ndocker:x:999:\n';

test('parseGroup: gid numbers, numeric strings and names from a group file', () => {
  assert.equal(parseGroup(998, GROUPS), 998);
  assert.equal(parseGroup('1234', GROUPS), 1234);
  assert.equal(parseGroup('netaccel', GROUPS), 998);
  assert.equal(parseGroup('docker', GROUPS), 999);
  assert.throws(() => parseGroup('wheel', GROUPS, '/etc/group'), (e: unknown) => NA_ERR_RPC_UNKNOWN_GROUP.is(e) && e.message === 'socketGroup: no group named "wheel" in /etc/group');
});

test('probeSocket tells a live socket from a stale one and from no file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const live = join(dir, 'live.sock');
    const srv = createServer((c) => c.destroy()).listen(live);
    await once(srv, 'listening');
    assert.equal(await probeSocket(live, 1000), 'live');
    srv.close();

    const stale = join(dir, 'stale.sock');
    await makeStaleSocket(stale);
    assert.equal(await probeSocket(stale, 1000), 'stale');
    assert.equal(await probeSocket(join(dir, 'none.sock'), 1000), 'gone');
  } finally {
    await cleanup();
  }
});
