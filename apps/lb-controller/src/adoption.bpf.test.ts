/**
 * BPF layer: a restarted controller adopts the data plane its predecessor left (adoption.ts) on
 * the real xlb.bpf.o, loaded in this process: with the record it writes nothing when the desired
 * state is unchanged, and it repairs what does not match (a changed desired table, a backend
 * record changed in the map, a live slot other than the recorded one). Every map write is counted.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBackend, decodeU32, decodeVipMeta, encodeBackend, encodeU32, encodeVipKey, encodeVipMeta, XLB_BALANCER } from '@netaccel/bpf-programs/xlb';
import type { XlbMapName } from '@netaccel/bpf-programs/xlb';
import { objectPath } from '@netaccel/bpf-programs/xlb/testing';
import { InProcessDataPlane } from '@netaccel/dataplane';
import { FileAdoptionStore } from './adoption.js';
import { XlbDataPlane } from './data-plane.js';
import { parseState } from './desired-state.js';
import { Reconciler } from './reconciler.js';
import type { ApplyReport } from './reconciler.js';
import { countingMaps } from './testing/counting-maps.js';

const LB_MAC = '02:00:00:00:01:00';
const SIZE = 1009;
const VIPS = ['10.0.0.1', '10.0.0.2'] as const;
const mac = (i: number) => `02:00:00:00:10:${i.toString(16).padStart(2, '0')}`;

/** Two VIPs, four backends each (weights per VIP), no health checks. */
function state(weights: Partial<Record<(typeof VIPS)[number], number[]>> = {}): string {
  const svc = (vip: (typeof VIPS)[number], first: number): string => {
    const bs = [0, 1, 2, 3].map((j) => `{ address: 10.1.0.${first + j}, mac: "${mac(first + j)}", weight: ${weights[vip]?.[j] ?? 1} }`);
    return `{ vip: ${vip}, port: 80, mode: l2dsr, tableSize: ${SIZE}, healthCheck: { type: none }, backends: [${bs.join(', ')}] }`;
  };
  return `services: [${svc('10.0.0.1', 1)}, ${svc('10.0.0.2', 11)}]`;
}

interface World {
  readonly maps: InProcessDataPlane<XlbMapName>;
  readonly file: string;
  /** A controller on the maps with the record file; its writes and pass reports. */
  controller(): Promise<{ rec: Reconciler; writes: string[]; reports: ApplyReport[] }>;
  live(vip: string): { meta: ReturnType<typeof decodeVipMeta>; table: number[] };
}

function world(t: { onTestFinished(fn: () => unknown): void }): World {
  const maps = InProcessDataPlane.open(XLB_BALANCER, objectPath('balancer'));
  const dir = mkdtempSync(join(tmpdir(), 'lb-adopt-'));
  t.onTestFinished(async () => {
    await maps.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'adoption.json');
  const maglevSize = maps.object.map('maglev_tables').maxEntries / (2 * maps.object.map('vip_stats').maxEntries);
  return {
    maps,
    file,
    async controller() {
      const writes: string[] = [];
      const reports: ApplyReport[] = [];
      const rec = new Reconciler({ dataPlane: new XlbDataPlane(countingMaps(maps, writes)), config: { localMac: LB_MAC }, quiesceMs: 0, adoption: new FileAdoptionStore(file), sweepDelayMs: 0, onApplied: (r) => reports.push(r) });
      await rec.init();
      return { rec, writes, reports };
    },
    live(vip) {
      const meta = decodeVipMeta(maps.object.map('vips').lookup(encodeVipKey({ address: vip, port: 80, protocol: 'tcp' }))!);
      const base = (meta.vipIndex * 2 + meta.activeSlot) * maglevSize;
      const tables = maps.object.map('maglev_tables');
      return { meta, table: Array.from({ length: SIZE }, (_, p) => decodeU32(tables.lookup(encodeU32(base + p))!)) };
    },
  };
}

const indexes = (rec: Reconciler): Record<string, number> => Object.fromEntries([...rec.services.values()].flatMap((s) => [...s.backends.values()].map((b) => [b.key, b.index] as const)));

test('a controller restarted against the maps its predecessor left adopts them: no table, record or VIP written, the same indexes and live slots', async (t) => {
  const w = world(t);
  const first = await w.controller();
  first.rec.setDesired(parseState(state(), 'test'));
  await first.rec.settled();
  assert.equal(first.rec.lastError, undefined);
  const before = VIPS.map((v) => w.live(v));
  assert.ok(first.writes.some((x) => x.startsWith('updatePacked maglev_tables')), 'the first controller wrote the tables');

  const second = await w.controller();
  second.rec.setDesired(parseState(state(), 'test'));
  await second.rec.settled();
  assert.equal(second.rec.lastError, undefined);
  // the run-time config is the one write (xlb_config, one entry); nothing else
  assert.deepEqual(second.writes, ['update xlb_config']);
  assert.equal(second.reports[0]!.entriesWritten, 0);
  assert.deepEqual(VIPS.map((v) => w.live(v)), before, 'live slots and tables as they were');
  assert.deepEqual(indexes(second.rec), indexes(first.rec), 'every backend kept its index');
  for (const s of second.rec.services.values()) assert.ok([...s.backends.values()].every((b) => b.inTable), `${s.spec.id}: its backends are in the table (announceable)`);

  // a change after the adoption goes through the spare slot as usual
  second.rec.setDesired(parseState(state({ '10.0.0.1': [1, 1, 1, 0] }), 'test'));
  await second.rec.settled();
  const after = w.live('10.0.0.1');
  assert.notEqual(after.meta.activeSlot, before[0]!.meta.activeSlot);
  assert.ok(!after.table.includes(indexes(second.rec)['10.0.0.1:80/tcp|10.1.0.4:0']!), 'the backend of weight 0 left the table');
});

test('an adopting controller repairs what does not match: a changed desired table, a backend record changed in the map, a live slot other than recorded', async (t) => {
  const w = world(t);
  const first = await w.controller();
  first.rec.setDesired(parseState(state(), 'test'));
  await first.rec.settled();
  const idx = indexes(first.rec);
  const before = VIPS.map((v) => w.live(v));
  // while no controller runs: a backend record of 10.0.0.2 changes in the map, and 10.0.0.2's
  // live slot flips to the other one (as a crash between a flip and the record would leave it)
  const b12 = idx['10.0.0.2:80/tcp|10.1.0.12:0']!;
  const backends = w.maps.object.map('backends');
  backends.update(encodeU32(b12), encodeBackend({ ...decodeBackend(backends.lookup(encodeU32(b12))!), mac: '02:00:00:00:99:99' }));
  const vips = w.maps.object.map('vips');
  const k2 = encodeVipKey({ address: '10.0.0.2', port: 80, protocol: 'tcp' });
  vips.update(k2, encodeVipMeta({ ...before[1]!.meta, activeSlot: before[1]!.meta.activeSlot === 0 ? 1 : 0 }));

  const second = await w.controller();
  // and the desired state changed for 10.0.0.1: one backend weighs 2
  second.rec.setDesired(parseState(state({ '10.0.0.1': [2, 1, 1, 1] }), 'test'));
  await second.rec.settled();
  assert.equal(second.rec.lastError, undefined);
  const after = VIPS.map((v) => w.live(v));
  // 10.0.0.1: a new table into its spare slot, flipped; 10.0.0.2: its table written again into
  // the slot now live's spare and flipped; the changed record rewritten, the intact ones not
  assert.notEqual(after[0]!.meta.activeSlot, before[0]!.meta.activeSlot);
  assert.notDeepEqual(after[0]!.table, before[0]!.table);
  const heavy = idx['10.0.0.1:80/tcp|10.1.0.1:0']!;
  assert.ok(after[0]!.table.filter((i) => i === heavy).length > SIZE / 3, 'the backend of weight 2 holds ~2/5 of the table');
  assert.deepEqual(after[1]!.table, before[1]!.table, '10.0.0.2 serves the table it served before the tampering');
  assert.equal(after[1]!.meta.activeSlot, before[1]!.meta.activeSlot, 'written into the other slot and flipped back');
  assert.equal(decodeBackend(backends.lookup(encodeU32(b12))!).mac, mac(12), 'the changed record is rewritten');
  assert.deepEqual(second.writes.filter((x) => x.startsWith('updatePacked maglev_tables')).length >= 2, true, String(second.writes));
  const recordWrites = second.writes.filter((x) => x.includes(' backends'));
  assert.equal(recordWrites.length, 1, `one write of backend records (the changed one): ${String(second.writes)}`);
  assert.deepEqual(indexes(second.rec), idx, 'every backend kept its index');
});

test('without the record a restarted controller rewrites every table and record (and still keeps the VIP indexes)', async (t) => {
  const w = world(t);
  const first = await w.controller();
  first.rec.setDesired(parseState(state(), 'test'));
  await first.rec.settled();
  const before = VIPS.map((v) => w.live(v));
  rmSync(w.file);
  const second = await w.controller();
  second.rec.setDesired(parseState(state(), 'test'));
  await second.rec.settled();
  assert.equal(second.rec.lastError, undefined);
  assert.equal(second.reports[0]!.entriesWritten, 2 * SIZE);
  const after = VIPS.map((v) => w.live(v));
  assert.deepEqual(after.map((a) => a.meta.vipIndex), before.map((b) => b.meta.vipIndex));
  assert.deepEqual(after.map((a) => a.meta.activeSlot), before.map((b) => (b.meta.activeSlot === 0 ? 1 : 0)));
});
