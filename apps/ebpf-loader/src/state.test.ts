import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NA_ERR_LOADER_STATE } from './errors.js';
import { StateStore, emptyState, parseState } from './state.js';
import type { StateData } from './state.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'loader-state-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sample: StateData = {
  version: 1,
  objects: [{
    id: 'selftest-0123456789ab', name: 'selftest', path: '/o/selftest.bpf.o', sha256: 'a'.repeat(64), globals: { drop_udp_port: '3500' }, owner: 'x',
    loadedAt: '2026-01-01T00:00:00.000Z', pinDir: '/sys/fs/bpf/netaccel/objects/selftest-0123456789ab', status: 'active',
    programs: [{ name: 'selftest_xdp', section: 'xdp', type: 6, typeName: 'xdp', kernelId: 17, tag: '00' }],
    maps: [{ name: 'verdict_stats', kernelId: 5, type: 6, typeName: 'percpu_array', keySize: 4, valueSize: 16, maxEntries: 5, flags: 0, keyType: '__u32', valueType: 'selftest_counter' }],
  }],
  attachments: [{
    linkId: 'l-0000abcd', programId: 'selftest-0123456789ab/selftest_xdp', kernelProgramId: 17, mode: 'xdp-native', iface: { name: 'eth0', ifindex: 2 },
    pinPath: '/sys/fs/bpf/netaccel/links/l-0000abcd', createdAt: '2026-01-01T00:00:00.000Z', status: 'pending',
  }],
};

test('a missing file is an empty state; save then load gives the same state; writes leave no temporary file', () => {
  const store = new StateStore(join(dir, 'a'));
  assert.deepEqual(store.load(), emptyState());
  store.save(sample);
  assert.deepEqual(store.load(), sample);
  assert.deepEqual(readdirSync(join(dir, 'a')), ['state.json']);
});

test('a corrupt state file is refused naming the file and the fields', () => {
  const store = new StateStore(join(dir, 'b'));
  store.save(sample);
  writeFileSync(store.file, '{ not json');
  assert.throws(() => store.load(), (e: unknown) => NA_ERR_LOADER_STATE.is(e) && e.message.startsWith(`state file ${store.file}: is not JSON: `));
  const bad = JSON.parse(JSON.stringify(sample));
  bad.objects[0].sha256 = 'xyz';
  bad.attachments[0].mode = 'xdp-turbo';
  assert.throws(() => parseState(bad, 'f.json'), (e: unknown) => NA_ERR_LOADER_STATE.is(e) && /^state file f\.json: objects\[0\]\.sha256: .*; attachments\[0\]\.mode: /.test(e.message));
  assert.throws(() => parseState({ version: 2, objects: [], attachments: [] }, 'f.json'), (e: unknown) => NA_ERR_LOADER_STATE.is(e) && /version/.test(e.message));
});
