import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileAdoptionStore, metaKeyOf, serviceIdOf, tableDigest } from './adoption.js';
import type { AdoptionRecord } from './adoption.js';

function dir(t: { onTestFinished(fn: () => unknown): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'lb-adoption-'));
  t.onTestFinished(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const RECORD: AdoptionRecord = {
  format: 1,
  savedAt: '2026-12-07T08:00:00.000Z',
  dataPlane: 'ebpf-loader /run/netaccel/ebpf-loader.sock',
  vips: [{ id: '10.0.0.1:80/tcp', vipIndex: 0, activeSlot: 1, metaKey: '0|l2dsr|1009', digest: 'x' }],
  backends: [{ key: '10.0.0.1:80/tcp|10.1.0.1:0', index: 1, inTable: true }],
};

test('the record file: saved whole (no temporary left), read back; absent: none', (t) => {
  const d = dir(t);
  const store = new FileAdoptionStore(join(d, 'sub', 'adoption.json'));
  assert.equal(store.load(), undefined);
  store.save(RECORD);
  assert.deepEqual(store.load(), RECORD);
  assert.deepEqual(readdirSync(join(d, 'sub')), ['adoption.json']);
});

test('a malformed or foreign record is not used (the tables are rewritten) and says so', (t) => {
  const d = dir(t);
  const file = join(d, 'adoption.json');
  const lines: unknown[] = [];
  const log = { warn: (o: unknown, m: string) => lines.push([o, m]) } as never;
  for (const text of ['{ not json', JSON.stringify({ ...RECORD, format: 2 }), JSON.stringify({ format: 1, vips: {} })]) {
    writeFileSync(file, text);
    assert.equal(new FileAdoptionStore(file, log).load(), undefined, text);
  }
  assert.equal(lines.length, 3);
  assert.match(JSON.stringify(lines[1]), /expected format 1/);
});

test('digests, meta keys and service ids as the reconciler names them', () => {
  const a = Uint32Array.from([1, 2, 3]);
  assert.equal(tableDigest(a), tableDigest(Uint32Array.from([1, 2, 3])));
  assert.notEqual(tableDigest(a), tableDigest(Uint32Array.from([1, 2, 4])));
  assert.equal(metaKeyOf({ flags: 1, mode: 'ipip', tableSize: 251 }), '1|ipip|251');
  assert.equal(serviceIdOf({ address: '2001:db8::1', port: 443, protocol: 'tcp' }), '[2001:db8::1]:443/tcp');
  assert.equal(serviceIdOf({ address: '10.0.0.1', port: 53, protocol: 'udp' }), '10.0.0.1:53/udp');
});
