/**
 * BPF layer: electrode_state and el_log shared as memory (mapped.ts) against the programs run
 * with BPF_PROG_TEST_RUN: Prepares fast-acked then drained through the mapping give the same
 * entries as through the map syscalls, and free the slots; a state published through the
 * mapping is what the fast-ack decides by, and the last_op it advances is kept by publish; the
 * fallback to the syscalls for maps without BPF_F_MMAPABLE (and with the option off).
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { BPF_F_MMAPABLE, BpfMap } from '@netaccel/bpf';
import { ELECTRODE_LAYOUTS, decodeLogEntry, encodeLogEntry, encodeU32 } from './codec.js';
import { ELECTRODE_SLOT } from './constants.js';
import { XDP_VERDICT } from './fixtures.js';
import { paxosFrame, prepare, testGroup } from './frames.js';
import { ElectrodeObject } from './object.js';
import { ElectrodeOffload } from './offload.js';
import type { ElectrodeMaps, PublishedState } from './offload.js';

const FOLLOWER: PublishedState = { view: 3, status: 'normal', self: 1, leader: 0, n: 3, lastOp: 0n, commit: 0n };

function loaded(mmap: boolean, t: { onTestFinished(fn: () => void): void }): ElectrodeObject {
  const el = ElectrodeObject.load({ mmap });
  t.onTestFinished(() => el.close());
  el.offload.configure(testGroup(4));
  return el;
}

/** Runs electrode_xdp on a Prepare from the leader (replica 0) to replica 1. */
function fastAck(el: ElectrodeObject, f: { view: number; op: bigint; commit?: bigint; requests?: number }): number {
  const [l, me] = testGroup(4);
  const msg = prepare({ sender: 0, view: f.view, op: f.op, commit: f.commit ?? f.op - 1n, requests: f.requests ?? 1 + Number(f.op % 3n), opBytes: 24 });
  return el.program('fastAck').testRun({ data: paxosFrame(l!, me!, msg) }).retval;
}

test('fast-acked Prepares drained through the mapping: the syscall path\'s entries, slots freed', (t) => {
  const mem = loaded(true, t);
  const sys = loaded(false, t);
  assert.deepEqual(mem.offload.mapped(), { state: true, log: true });
  assert.deepEqual(sys.offload.mapped(), { state: false, log: false });
  for (const el of [mem, sys]) {
    el.offload.publish(FOLLOWER);
    for (let op = 1n; op <= 12n; op++) assert.equal(fastAck(el, { view: 3, op }), XDP_VERDICT.TX, `op ${op}`);
    assert.equal(el.offload.state()!.lastOp, 12n, 'the fast-ack advanced last_op');
  }
  // what the kernel holds, read with the syscalls before either drains
  const log = mem.map('log');
  const held = Array.from({ length: 12 }, (_, i) => decodeLogEntry(log.lookup(encodeU32((i + 1) % log.maxEntries))!));
  assert.ok(held.every((e) => e.state === ELECTRODE_SLOT.FULL));

  const viaMemory = mem.offload.drain(4n); // the replica has 1..4 already
  const viaSyscalls = sys.offload.drain(4n);
  assert.deepEqual(viaMemory.map((e) => e.op), [5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n]);
  assert.deepEqual(viaMemory, viaSyscalls);
  assert.deepEqual(viaMemory, held.slice(4).map(({ op, view, commit, body }) => ({ op, view, commit, body })));
  assert.ok(viaMemory.every((e) => e.view === 3 && e.commit === e.op - 1n && e.body.length > 0));
  for (let op = 5; op <= 12; op++) assert.equal(decodeLogEntry(log.lookup(encodeU32(op % log.maxEntries))!).state, ELECTRODE_SLOT.FREE, `slot of ${op} freed`);
  assert.equal(decodeLogEntry(log.lookup(encodeU32(1))!).state, ELECTRODE_SLOT.FULL, 'below afterOp + 1, not touched');
  assert.deepEqual(mem.offload.drain(12n), []);

  // a drained copy does not alias the slot: the slot reused by the next Prepare leaves it as it was
  const body = Buffer.from(viaMemory[0]!.body);
  const ring = BigInt(log.maxEntries);
  mem.offload.drain(0n); // 1..4 (the slots the replica had) freed
  mem.offload.publish({ ...FOLLOWER, lastOp: 4n + ring });
  assert.equal(fastAck(mem, { view: 3, op: 5n + ring, requests: 3 }), XDP_VERDICT.TX);
  assert.deepEqual(viaMemory[0]!.body, body);
  assert.deepEqual(mem.offload.drain(4n + ring).map((e) => e.op), [5n + ring]);
});

test('drain through the mapping stops at a slot being written, tagged with another op, or too long', (t) => {
  const el = loaded(true, t);
  const log = el.map('log');
  const put = (op: bigint, state: number, len?: number) => {
    const v = encodeLogEntry({ state, view: 2, op, commit: 0n, body: Buffer.from(`op ${op}`) });
    if (len !== undefined) v.writeUInt32LE(len, ELECTRODE_LAYOUTS.logEntry.members.len);
    log.update(encodeU32(Number(op % BigInt(log.maxEntries))), v);
  };
  put(21n, ELECTRODE_SLOT.FULL);
  put(22n, ELECTRODE_SLOT.WRITING);
  put(23n, ELECTRODE_SLOT.FULL);
  assert.deepEqual(el.offload.drain(20n).map((e) => [e.op, e.body.toString()]), [[21n, 'op 21']]);
  put(22n, ELECTRODE_SLOT.FULL);
  assert.deepEqual(el.offload.drain(21n).map((e) => e.op), [22n, 23n]);
  put(31n, ELECTRODE_SLOT.FULL, ELECTRODE_LAYOUTS.logEntry.size); // a length beyond the body: refused, not read
  assert.throws(() => el.offload.drain(30n), /^RangeError: electrode_log_entry\.len: at most 1368/);
});

test('a state published through the mapping is what the fast-ack decides by; its last_op is kept', (t) => {
  const el = loaded(true, t);
  el.offload.publish({ ...FOLLOWER, view: 7, lastOp: 40n, commit: 39n });
  assert.equal(fastAck(el, { view: 7, op: 43n }), XDP_VERDICT.PASS, 'a gap');
  assert.equal(fastAck(el, { view: 6, op: 41n }), XDP_VERDICT.PASS, 'an old view');
  assert.equal(fastAck(el, { view: 7, op: 41n }), XDP_VERDICT.TX);
  assert.equal(el.offload.state()!.lastOp, 41n, 'advanced by the program, read through the mapping');
  // the replica, not drained yet, publishes its commit with its older last op: the kernel's stays
  el.offload.publish({ ...FOLLOWER, view: 7, lastOp: 40n, commit: 40n });
  assert.deepEqual([el.offload.state()!.lastOp, el.offload.state()!.commit], [41n, 40n]);
  assert.equal(fastAck(el, { view: 7, op: 42n }), XDP_VERDICT.TX, 'continues from the kernel\'s last_op');
  assert.equal(el.offload.state()!.lastOp, 42n);
  assert.deepEqual(el.map('state').lookup(encodeU32(0))!.subarray(8, 16).readBigUInt64LE(), 42n, 'the syscall sees the same bytes');

  el.offload.publish({ ...FOLLOWER, view: 7, status: 'view-change', lastOp: 42n });
  assert.equal(fastAck(el, { view: 7, op: 43n }), XDP_VERDICT.PASS, 'not normal: passed up');
  el.offload.publish({ ...FOLLOWER, view: 8, lastOp: 30n, commit: 30n }); // a new view: user space's log is the truth
  assert.deepEqual(el.offload.state(), { ...FOLLOWER, view: 8, lastOp: 30n, commit: 30n, offloads: 7 });
  assert.equal(fastAck(el, { view: 7, op: 31n }), XDP_VERDICT.PASS, 'the old view');
  assert.equal(fastAck(el, { view: 8, op: 31n }), XDP_VERDICT.TX);

  el.offload.setOffloads(0);
  assert.equal(el.offload.offloads(), 0);
  assert.equal(fastAck(el, { view: 8, op: 32n }), XDP_VERDICT.PASS, 'switched off through the mapping');
});

test('maps without BPF_F_MMAPABLE, and the option off: the syscall path, same results', (t) => {
  const L = ELECTRODE_LAYOUTS;
  const make = (name: string, valueSize: number, maxEntries: number, flags = 0, type: 'array' | 'percpu_array' = 'array') => {
    const m = BpfMap.create({ type, name, keySize: 4, valueSize, maxEntries, flags });
    t.onTestFinished(() => m.close());
    return m;
  };
  const maps = (flags: number): ElectrodeMaps => ({
    state: make('pxm_state', L.state.size, 1, flags),
    config: make('pxm_config', L.replica.size, 31),
    log: make('pxm_log', L.logEntry.size, 8, flags),
    stats: make('pxm_stats', 8, 7, 0, 'percpu_array'),
    reasons: make('pxm_reasons', L.counter.size, 20, 0, 'percpu_array'),
  });
  const cases = [
    { offload: new ElectrodeOffload(maps(0)), mapped: false },
    { offload: new ElectrodeOffload(maps(BPF_F_MMAPABLE), { mmap: false }), mapped: false },
    { offload: new ElectrodeOffload(maps(BPF_F_MMAPABLE)), mapped: true },
  ];
  const results = cases.map(({ offload, mapped }) => {
    t.onTestFinished(() => offload.close());
    assert.deepEqual(offload.mapped(), { state: mapped, log: mapped });
    offload.publish({ ...FOLLOWER, lastOp: 9n });
    offload.publish({ ...FOLLOWER, lastOp: 5n }); // never backwards in one normal view
    return [offload.state(), offload.drain(0n)];
  });
  assert.deepEqual(results[0], [{ ...FOLLOWER, lastOp: 9n, offloads: 7 }, []]);
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[2], results[0]);
});
