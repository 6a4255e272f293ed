/**
 * BPF layer: the controller's data-plane code on the real xlb.bpf.o (real maps, programs run
 * with BPF_PROG_TEST_RUN), loaded in this process (InProcessDataPlane). Atomic table switches are
 * checked after every single map operation; forwarding is checked with packets.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { buildPacket, tcp, tcpSyn, TCP_FLAGS } from '@netaccel/protocol';
import { decodeU32, decodeVipKey, decodeVipMeta, encodeU32, encodeVipKey, XLB_BALANCER, XLB_DROP } from '@netaccel/bpf-programs/xlb';
import type { XlbMapName } from '@netaccel/bpf-programs/xlb';
import { objectPath, pinThreadToCpu } from '@netaccel/bpf-programs/xlb/testing';
import { InProcessDataPlane } from '@netaccel/dataplane';
import type { MapAccess } from '@netaccel/dataplane';
import { XlbDataPlane } from './data-plane.js';
import { parseState } from './desired-state.js';
import { NA_ERR_LB_CAPACITY, NA_ERR_LB_STATE_INVALID } from './errors.js';
import { Reconciler, backendKey } from './reconciler.js';
import type { ApplyReport } from './reconciler.js';

const LB_MAC = '02:00:00:00:01:00';
const ROUTER_MAC = '02:00:00:00:00:fe';
const backendMac = (i: number) => `02:00:00:00:10:${i.toString(16).padStart(2, '0')}`;

function stateText(backends: number[], opts: { drain?: number[]; weights?: Record<number, number>; tableSize?: number; vip?: string } = {}): string {
  const bs = backends.map((i) => `{ address: 10.1.0.${i}, mac: "${backendMac(i)}", weight: ${opts.weights?.[i] ?? 1}, draining: ${opts.drain?.includes(i) ?? false} }`);
  return `services: [{ vip: ${opts.vip ?? '10.0.0.1'}, port: 80, mode: l2dsr, tableSize: ${opts.tableSize ?? 65537}, healthCheck: { type: none }, backends: [${bs.join(', ')}] }]`;
}

function syn(sport: number, dst = '10.0.0.1'): Buffer {
  return Buffer.from(buildPacket(tcpSyn({ src: '192.0.2.10', dst, sport, dport: 80, eth: { src: ROUTER_MAC, dst: LB_MAC } })));
}

function ack(sport: number): Buffer {
  return Buffer.from(buildPacket(tcp({ src: '192.0.2.10', dst: '10.0.0.1', sport, dport: 80, flags: TCP_FLAGS.ACK, eth: { src: ROUTER_MAC, dst: LB_MAC } })));
}

interface World {
  maps: InProcessDataPlane<XlbMapName>;
  dp: XlbDataPlane;
  run(packet: Buffer): { verdict: number; backend?: number };
  close(): Promise<void>;
}

/**
 * `m` with its writes replaced (to observe or delay them); its reads go to `m` itself (an
 * InProcessDataPlane keeps its methods on the prototype, which a spread would not copy).
 */
function withWrites(m: MapAccess<XlbMapName>, writes: Pick<MapAccess<XlbMapName>, 'update' | 'updateBatch' | 'updatePacked' | 'delete'>): MapAccess<XlbMapName> {
  return {
    ...m,
    describe: m.describe,
    geometry: (n) => m.geometry(n),
    dump: (n) => m.dump(n),
    dumpPerCpu: (n) => m.dumpPerCpu(n),
    lookupPerCpu: (n, k) => m.lookupPerCpu(n, k),
    lookup: (n, k) => m.lookup(n, k),
    attached: () => m.attached(),
    close: () => m.close(),
    ...writes,
  };
}

function world(inner?: (m: MapAccess<XlbMapName>) => MapAccess<XlbMapName>): World {
  const maps = InProcessDataPlane.open(XLB_BALANCER, objectPath('balancer'));
  const dp = new XlbDataPlane(inner ? inner(maps) : maps);
  const prog = maps.object.program('xlb_xdp');
  return {
    maps,
    dp,
    run(packet) {
      const r = prog.testRun({ data: packet });
      if (r.retval !== 3) return { verdict: r.retval };
      const mac = r.data.subarray(0, 6).toString('hex');
      return { verdict: 3, backend: parseInt(mac.slice(10), 16) };
    },
    close: () => maps.close(),
  };
}

/** The active table of VIP 10.0.0.1:80/tcp as the kernel has it now, or undefined if absent. */
function kernelActiveTable(maps: InProcessDataPlane<XlbMapName>, size: number): number[] | undefined {
  const meta = maps.object.map('vips').lookup(encodeVipKey({ address: '10.0.0.1', port: 80, protocol: 'tcp' }));
  if (!meta) return undefined;
  const m = decodeVipMeta(meta);
  const tables = maps.object.map('maglev_tables');
  const maglevSize = tables.maxEntries / (2 * maps.object.map('vip_stats').maxEntries);
  const base = (m.vipIndex * 2 + m.activeSlot) * maglevSize;
  const out: number[] = [];
  for (let p = 0; p < size; p++) out.push(decodeU32(tables.lookup(encodeU32(base + p))!));
  return out;
}

const backendOf = (maps: InProcessDataPlane<XlbMapName>, index: number): string => {
  const v = maps.object.map('backends').lookup(encodeU32(index))!;
  return `${v[0]}.${v[1]}.${v[2]}.${v[3]}`;
};

test('atomic switch: after every map write the active table is a complete old or new table', async () => {
  const SIZE = 1009;
  let check: (() => void) | undefined;
  let ops: string[] = [];
  const w = world((m) => withWrites(m, {
    async update(n, k, v) {
      await m.update(n, k, v);
      ops.push(n);
      check?.();
    },
    async updateBatch(n, k, v) {
      await m.updateBatch(n, k, v);
      ops.push(`${n}[${k.length}]`);
      check?.();
    },
    async updatePacked(n, count, k, v) {
      await m.updatePacked(n, count, k, v);
      ops.push(`${n}[${count}]`);
      check?.();
    },
    async delete(n, k) {
      await m.delete(n, k);
      ops.push(`-${n}`);
      check?.();
    },
  }));
  try {
    const rec = new Reconciler({ dataPlane: w.dp, config: { localMac: LB_MAC }, quiesceMs: 1 });
    await rec.init();
    const asNames = (t: number[] | undefined) => t?.map((i) => (i === 0 ? 'none' : backendOf(w.maps, i)));
    const states = [[1, 2, 3, 4], [1, 2, 3, 4, 5], [1, 3, 4, 5], [2, 3], [1, 2, 3, 4, 5, 6, 7, 8]];
    let previous: string[] | undefined;
    for (const s of states) {
      // the complete table the new state gives, computed by a reference controller
      const ref = world();
      const refRec = new Reconciler({ dataPlane: ref.dp, config: { localMac: LB_MAC } });
      await refRec.init();
      refRec.setDesired(parseState(stateText(s, { tableSize: SIZE }), 'ref'));
      await refRec.settled();
      const want = kernelActiveTable(ref.maps, SIZE)!.map((i) => (i === 0 ? 'none' : backendOf(ref.maps, i)));
      await ref.close();
      let seen = 0;
      check = () => {
        const now = asNames(kernelActiveTable(w.maps, SIZE));
        if (now === undefined) return; // the VIP is not installed yet: packets pass
        const ok = JSON.stringify(now) === JSON.stringify(want) || JSON.stringify(now) === JSON.stringify(previous);
        assert.ok(ok, `after ${ops.at(-1)}: the active table is neither the old nor the new complete table`);
        seen++;
      };
      ops = [];
      rec.setDesired(parseState(stateText(s, { tableSize: SIZE }), 'test'));
      await rec.settled();
      check = undefined;
      assert.equal(rec.lastError, undefined);
      assert.ok(seen > 0);
      assert.deepEqual(asNames(kernelActiveTable(w.maps, SIZE)), want);
      // table writes come before the flip, which is the pass's one `vips` update
      const flipAt = ops.indexOf('vips');
      assert.ok(flipAt > ops.findIndex((o) => o.startsWith('maglev_tables')), ops.join(' '));
      assert.equal(ops.filter((o) => o === 'vips').length, 1, ops.join(' '));
      previous = want;
    }
  } finally {
    await w.close();
  }
});

test('packets follow the table: L2 DSR to the backends\' MACs, spread by weight; draining and removal', async () => {
  const restore = pinThreadToCpu(0);
  const w = world();
  try {
    const rec = new Reconciler({ dataPlane: w.dp, config: { localMac: LB_MAC } });
    await rec.init();
    rec.setDesired(parseState(stateText([1, 2, 3, 4]), 'test'));
    await rec.settled();
    const count = (from: number, n: number) => {
      const c = new Map<number, number>();
      for (let p = from; p < from + n; p++) {
        const r = w.run(syn(p));
        assert.equal(r.verdict, 3);
        c.set(r.backend!, (c.get(r.backend!) ?? 0) + 1);
      }
      return c;
    };
    const even = count(10000, 4000);
    assert.deepEqual([...even.keys()].sort(), [1, 2, 3, 4]);
    for (const n of even.values()) assert.ok(Math.abs(n - 1000) < 150, `${[...even]}`);

    // weights 1:3 between backends 1 and 2
    rec.setDesired(parseState(stateText([1, 2], { weights: { 1: 1, 2: 3 } }), 'test'));
    await rec.settled();
    const weighted = count(20000, 4000);
    assert.ok(Math.abs(weighted.get(2)! / 4000 - 0.75) < 0.04, `${[...weighted]}`);

    // a flow established on backend 2 keeps it while 2 drains; new flows avoid 2
    rec.setDesired(parseState(stateText([1, 2, 3, 4]), 'test'));
    await rec.settled();
    let sport = 30000;
    while (w.run(syn(sport)).backend !== 2) sport++;
    assert.equal(w.run(ack(sport)).backend, 2);
    rec.setDrain(backendKey('10.0.0.1:80/tcp', { address: '10.1.0.2', port: 0 }), true);
    await rec.settled();
    assert.equal(w.run(ack(sport)).backend, 2, 'the established flow stays on the draining backend');
    const drained = count(40000, 2000);
    assert.equal(drained.get(2), undefined, `${[...drained]}`);
    const svc = rec.services.get('10.0.0.1:80/tcp')!;
    assert.equal([...svc.backends.values()].find((b) => b.spec.address === '10.1.0.2')!.inTable, false);

    // removing backend 2: its record is invalidated, the flow moves to a backend that exists
    rec.setDrain(backendKey('10.0.0.1:80/tcp', { address: '10.1.0.2', port: 0 }), undefined);
    rec.setDesired(parseState(stateText([1, 3, 4]), 'test'));
    await rec.settled();
    assert.ok([1, 3, 4].includes(w.run(ack(sport)).backend!));
    const drops = await w.dp.readDrops();
    assert.equal(drops.get(XLB_DROP.NO_BACKEND)!.packets, 0n);
    const vipStats = await w.dp.readStats('vip_stats', svc.vipIndex);
    assert.ok(vipStats.packets > 10000n && vipStats.newFlows > 10000n);
  } finally {
    restore();
    await w.close();
  }
});

test('diffing: a change writes only the entries that differ from the spare slot', async () => {
  const w = world();
  try {
    const reports: number[] = [];
    const rec = new Reconciler({ dataPlane: w.dp, config: { localMac: LB_MAC }, quiesceMs: 0, onApplied: (r) => reports.push(r.entriesWritten) });
    await rec.init();
    const all = Array.from({ length: 20 }, (_, i) => i + 1);
    for (const s of [all, all.slice(1), all, all.slice(1)]) {
      rec.setDesired(parseState(stateText(s), 'test'));
      await rec.settled();
    }
    // first: slot 0 whole (the spare slot 1 gets the same table in the background); then diffs only
    assert.equal(reports[0], 65537);
    assert.equal(rec.backgroundEntriesWritten, 65537, 'the spare slot was filled once, in the background');
    assert.ok(reports[1]! < 65537 / 10 && reports[1]! > 0, String(reports));
    assert.ok(reports[2]! < 65537 / 10 && reports[2]! > 0, String(reports));
    assert.equal(reports[3], 0, 'the spare slot already holds the table');
  } finally {
    await w.close();
  }
});

test('refused states leave the running tables unchanged', async () => {
  const w = world();
  try {
    const rec = new Reconciler({ dataPlane: w.dp, config: { localMac: LB_MAC } });
    await rec.init();
    rec.setDesired(parseState(stateText([1, 2, 3]), 'test'));
    await rec.settled();
    const before = kernelActiveTable(w.maps, 65537);
    assert.throws(() => rec.setDesired(parseState(stateText([1], { tableSize: 131071 }), 'big')), (e: unknown) => NA_ERR_LB_STATE_INVALID.is(e) && /tableSize: expected at most 65537/.test(e.message));
    assert.throws(() => rec.setDesired(parseState('services: [{ vip: 10.0.0.9, port: 80, mode: nat }]', 'nat')), /needs dataPlane.natSourceV4/);
    const many = Array.from({ length: 65 }, (_, i) => `{ vip: 10.0.1.${i}, port: 80, mode: ipip, healthCheck: { type: none } }`).join(', ');
    assert.throws(() => rec.setDesired(parseState(`services: [${many}]`, 'many')), (e: unknown) => NA_ERR_LB_CAPACITY.is(e));
    await rec.settled();
    assert.deepEqual(kernelActiveTable(w.maps, 65537), before);
    assert.equal(rec.desired.services[0]!.backends.length, 3);
  } finally {
    await w.close();
  }
});

test('a restarted controller adopts the VIPs it finds and switches them atomically', async () => {
  const w = world();
  try {
    const first = new Reconciler({ dataPlane: w.dp, config: { localMac: LB_MAC } });
    await first.init();
    first.setDesired(parseState(stateText([1, 2, 3, 4]), 'test'));
    await first.settled();
    const meta0 = decodeVipMeta(w.maps.object.map('vips').lookup(encodeVipKey({ address: '10.0.0.1', port: 80, protocol: 'tcp' }))!);
    // a second VIP the new state no longer has
    const second = new Reconciler({ dataPlane: w.dp, config: { localMac: LB_MAC } });
    await second.init();
    second.setDesired(parseState(stateText([1, 2, 3, 4, 5]), 'test'));
    await second.settled();
    const meta1 = decodeVipMeta(w.maps.object.map('vips').lookup(encodeVipKey({ address: '10.0.0.1', port: 80, protocol: 'tcp' }))!);
    assert.equal(meta1.vipIndex, meta0.vipIndex);
    assert.notEqual(meta1.activeSlot, meta0.activeSlot, 'written into the spare slot, then flipped');
    const names = new Set(kernelActiveTable(w.maps, 65537)!.map((i) => backendOf(w.maps, i)));
    assert.deepEqual([...names].sort(), ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5']);
    const keys = [...w.maps.object.map('vips').keys()].map((k) => decodeVipKey(k).address);
    assert.deepEqual(keys, ['10.0.0.1']);
    // the first controller's backend records are invalid now; only the second's are valid
    assert.equal((await w.dp.validBackends()).length, 5);
  } finally {
    await w.close();
  }
});

test('a change back to the previous backends takes the previous table without a build: nothing written, the same table', async () => {
  const w = world();
  try {
    const reports: ApplyReport[] = [];
    const rec = new Reconciler({ dataPlane: w.dp, config: { localMac: LB_MAC }, quiesceMs: 0, onApplied: (r) => reports.push(r) });
    await rec.init();
    const all = Array.from({ length: 20 }, (_, i) => i + 1);
    const apply = async (backends: number[]) => {
      rec.setDesired(parseState(stateText(backends), 'test'));
      await rec.settled();
      return reports.at(-1)!;
    };
    await apply(all);
    const first = kernelActiveTable(w.maps, 65537)!;
    // an operator drain and its undoing (backend 5 keeps its index): the undrain takes the first table again
    const key5 = backendKey([...rec.services.keys()][0]!, { address: '10.1.0.5', port: 0 });
    rec.setDrain(key5, true);
    await rec.settled();
    assert.equal(reports.at(-1)!.tablesReused, 0);
    assert.ok(![...new Set(kernelActiveTable(w.maps, 65537))].some((i) => backendOf(w.maps, i) === '10.1.0.5'), 'the drained backend has no entry');
    rec.setDrain(key5, undefined);
    await rec.settled();
    assert.deepEqual([reports.at(-1)!.tablesBuilt, reports.at(-1)!.tablesReused, reports.at(-1)!.entriesWritten], [1, 1, 0]);
    assert.deepEqual(kernelActiveTable(w.maps, 65537), first);
    // a backend added, then removed: the removal takes the first table again (the spare slot holds it)
    const added = await apply([...all, 21]);
    assert.deepEqual([added.tablesBuilt, added.tablesReused], [1, 0]);
    assert.ok(added.entriesWritten > 0);
    const back = await apply(all);
    assert.deepEqual([back.tablesBuilt, back.tablesReused, back.entriesWritten], [1, 1, 0]);
    assert.deepEqual(kernelActiveTable(w.maps, 65537), first);
    // backend 21 again: it comes back at another index, so its table is built (the previous one
    // names the old index, whose record is invalid now)
    const again = await apply([...all, 21]);
    assert.deepEqual([again.tablesBuilt, again.tablesReused], [1, 0]);
    const names = new Set([...new Set(kernelActiveTable(w.maps, 65537))].map((i) => backendOf(w.maps, i)));
    assert.deepEqual([...names].sort(), [...all, 21].map((i) => `10.1.0.${i}`).sort(), 'every entry names a record of the wanted backends');
  } finally {
    await w.close();
  }
});

test('a controller taking over a used data plane zeroes the stats rows of the indexes it gives out before the flip names them', async () => {
  let ops: string[] = [];
  const w = world((m) => withWrites(m, {
    async update(n, k, v) {
      // stats resets answer late (a slow loader): the flip must still wait for them
      if (n === 'backend_stats' || n === 'vip_stats') await new Promise((r) => setTimeout(r, 20));
      await m.update(n, k, v);
      ops.push(n);
    },
    updateBatch: (n, k, v) => m.updateBatch(n, k, v),
    updatePacked: (n, c, k, v) => m.updatePacked(n, c, k, v),
    delete: (n, k) => m.delete(n, k),
  }));
  try {
    const first = new Reconciler({ dataPlane: w.dp, config: { localMac: LB_MAC }, quiesceMs: 0 });
    await first.init();
    first.setDesired(parseState(stateText([1, 2, 3]), 'test'));
    await first.settled();
    // counts left in every row a next controller may give out
    for (let i = 1; i <= 20; i++) await w.maps.update('backend_stats', encodeU32(i), Buffer.alloc(40, 1));
    for (let i = 0; i < 4; i++) await w.maps.update('vip_stats', encodeU32(i), Buffer.alloc(40, 1));
    const next = new Reconciler({ dataPlane: w.dp, config: { localMac: LB_MAC }, quiesceMs: 0 });
    await next.init(); // no record: the valid records left are stale, the data plane is taken over
    ops = [];
    next.setDesired(parseState(stateText([4, 5], { vip: '10.0.0.2' }), 'test'));
    await next.settled();
    const svc = next.services.get('10.0.0.2:80/tcp')!;
    const flipAt = ops.indexOf('vips');
    assert.ok(flipAt > 0, ops.join(' '));
    const before = ops.slice(0, flipAt);
    assert.equal(before.filter((o) => o === 'backend_stats').length, 2, ops.join(' '));
    assert.equal(before.filter((o) => o === 'vip_stats').length, 1, ops.join(' '));
    const zero = { packets: 0n, bytes: 0n, newFlows: 0n, replyPackets: 0n, replyBytes: 0n };
    for (const b of svc.backends.values()) assert.deepEqual(await w.dp.readStats('backend_stats', b.index), zero, `backend index ${b.index}`);
    assert.deepEqual(await w.dp.readStats('vip_stats', svc.vipIndex), zero);
    assert.ok((await w.dp.readStats('backend_stats', 20)).packets > 0n, 'an index not given out keeps its counts');
  } finally {
    await w.close();
  }
});
