/**
 * BPF layer: InProcessDataPlane on the real xlb.bpf.o — typed globals and map sizes set before
 * load, a full Maglev table written packed in one call, lists, per-CPU values, dumps, and the
 * refusals (a map the descriptor lacks, a map outside it, sizes that do not fit) before anything
 * is written.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { XLB_BALANCER } from '@netaccel/bpf-programs/xlb';
import { objectPath } from '@netaccel/bpf-programs/xlb/testing';
import { NA_ERR_DATAPLANE_INVALID, NA_ERR_DATAPLANE_OBJECT } from './errors.js';
import { InProcessDataPlane } from './in-process.js';

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

test('globals and map sizes are set before load; a 65,537-entry table is one packed call; lists, per-CPU values and dumps', async (t) => {
  const dp = InProcessDataPlane.open(XLB_BALANCER, objectPath('balancer'), { globals: { gue_port: 6080 }, mapSizes: { conntrack: 4096 } });
  t.onTestFinished(() => dp.close());
  assert.equal(Number(dp.object.getGlobal('gue_port')), 6080);
  assert.equal(dp.geometry('conntrack').maxEntries, 4096);
  assert.deepEqual(dp.geometry('maglev_tables'), { keySize: 4, valueSize: 4, maxEntries: dp.object.map('maglev_tables').maxEntries, perCpu: false });

  const n = 65_537;
  const keys = Buffer.alloc(4 * n);
  const values = Buffer.alloc(4 * n);
  for (let i = 0; i < n; i++) {
    keys.writeUInt32LE(n + i, 4 * i); // the second slot of VIP 0
    values.writeUInt32LE(1 + (i % 7), 4 * i);
  }
  await dp.updatePacked('maglev_tables', n, keys, values);
  for (const i of [0, 1, 30_000, n - 1]) assert.equal((await dp.lookup('maglev_tables', u32(n + i)))!.readUInt32LE(), 1 + (i % 7), `entry ${i}`);
  assert.equal((await dp.lookup('maglev_tables', u32(0)))!.readUInt32LE(), 0, 'the first slot untouched');

  await dp.updateBatch('backends', [u32(1), u32(2)], [Buffer.alloc(dp.geometry('backends').valueSize, 1), Buffer.alloc(dp.geometry('backends').valueSize, 2)]);
  assert.equal((await dp.lookup('backends', u32(2)))![0], 2);

  assert.equal(await dp.lookup('vips', Buffer.alloc(dp.geometry('vips').keySize)), undefined, 'an absent hash key');
  await dp.delete('vips', Buffer.alloc(dp.geometry('vips').keySize));

  const stats = dp.geometry('vip_stats');
  assert.equal(stats.perCpu, true);
  await dp.update('vip_stats', u32(3), Buffer.alloc(stats.valueSize, 0x11));
  const perCpu = (await dp.lookupPerCpu('vip_stats', u32(3)))!;
  assert.ok(perCpu.length >= 1);
  for (const v of perCpu) assert.deepEqual(v, Buffer.alloc(stats.valueSize, 0x11), 'one value written to every CPU');
  let seen = 0;
  for await (const e of dp.dumpPerCpu('vip_stats')) if (e.key.readUInt32LE() === 3) seen = e.values.length;
  assert.equal(seen, perCpu.length);
  let backends = 0;
  for await (const e of dp.dump('backends')) if (e.value[0] !== 0) backends++;
  assert.equal(backends, 2);
  assert.equal(await dp.attached(), false, 'loaded only');
});

test('refusals: a map the object lacks, a map outside the descriptor, packed sizes, a bad global — before anything is written', async (t) => {
  assert.throws(
    () => InProcessDataPlane.open({ name: 'xlb', program: 'xlb_xdp', maps: ['vips', 'nope'] }, objectPath('balancer')),
    (e: unknown) => NA_ERR_DATAPLANE_OBJECT.is(e) && /no map nope \(the xlb descriptor needs it\)$/.test(e.message),
  );
  assert.throws(
    () => InProcessDataPlane.open(XLB_BALANCER, objectPath('balancer'), { globals: { gue_port: 70_000 } }),
    (e: unknown) => NA_ERR_DATAPLANE_OBJECT.is(e) && e.message.endsWith('globals.gue_port: expected 0..65535, got 70000'),
  );
  const dp = InProcessDataPlane.open({ name: 'xlb-tables', program: 'xlb_xdp', maps: ['maglev_tables'] as const }, objectPath('balancer'));
  t.onTestFinished(() => dp.close());
  await assert.rejects(dp.update('backends' as 'maglev_tables', u32(1), u32(1)), (e: unknown) => NA_ERR_DATAPLANE_INVALID.is(e) && /not in the xlb-tables descriptor/.test(e.message));
  await assert.rejects(dp.updatePacked('maglev_tables', 2, Buffer.alloc(8), Buffer.alloc(7)), (e: unknown) => NA_ERR_DATAPLANE_INVALID.is(e) && e.message === 'map maglev_tables: values: expected 2 × 4 bytes, got 7');
  await assert.rejects(dp.updatePacked('maglev_tables', 2, Buffer.alloc(9), Buffer.alloc(8)), (e: unknown) => NA_ERR_DATAPLANE_INVALID.is(e) && e.message === 'map maglev_tables: keys: expected 2 × 4 bytes, got 9');
  await assert.rejects(dp.updateBatch('maglev_tables', [u32(1)], [Buffer.alloc(5)]), (e: unknown) => NA_ERR_DATAPLANE_INVALID.is(e) && e.message === 'map maglev_tables: values[0] has 5 bytes, expected 4');
  assert.equal((await dp.lookup('maglev_tables', u32(1)))!.readUInt32LE(), 0, 'nothing written');
});
