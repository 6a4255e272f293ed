/**
 * BPF layer: the TypeScript binding against the compiled object: every struct's layout against
 * the BTF, the maps' key/value sizes and entries, and ElectrodeOffload on real maps: publish
 * (offload switches kept, last_op never backwards within a view), drain (op order, stops at the
 * first op the ring does not hold, frees what it returns and leftovers), and a small ring
 * filled by the fast-ack itself: full, the next Prepare falls back to user space, drained, the
 * slots are reused.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BpfObject, Btf, CodecRegistry, checkStructLayout, mapBtfTypes } from '@netaccel/bpf';
import { headerReader, structNames } from '../common/header-text.js';
import { ELECTRODE_LAYOUTS, encodeLogEntry, encodeState, encodeU32 } from './codec.js';
import { ELECTRODE_BUILD_DEFAULTS, ELECTRODE_OFF, ELECTRODE_SLOT, ELECTRODE_STAT_MAX } from './constants.js';
import { XDP_VERDICT } from './fixtures.js';
import { paxosFrame, prepare, testGroup } from './frames.js';
import { ElectrodeObject, electrodeObjectPath } from './object.js';
import { ELECTRODE_STRUCT_CODECS, registerElectrodeCodecs } from './struct-codecs.js';
import type { PublishedState } from './offload.js';
import { ELECTRODE_R_MAX } from './reasons.js';

const L = ELECTRODE_LAYOUTS;

describe('layouts and maps against the BTF', () => {
  let obj: BpfObject;
  beforeAll(() => {
    obj = BpfObject.openFile(electrodeObjectPath());
  });
  afterAll(() => obj?.close());

  test('every struct of electrode_kern_user.h has a codec layout, and they agree with the BTF', () => {
    assert.deepEqual(structNames(headerReader(import.meta.url)('electrode_kern_user.h')), Object.values(L).map((l) => l.name).sort());
    const btf = Btf.fromFile(electrodeObjectPath());
    // paxos_hdr is only ever a pointer into packet data, so it has no BTF; its layout is checked
    // against the wire codec's offsets (codec.test.ts) and by _Static_assert in the header
    for (const layout of Object.values(L).filter((x) => x.name !== 'paxos_hdr')) assert.deepEqual(checkStructLayout(btf, layout), [], layout.name);
  });

  test('a CodecRegistry with Electrode\'s codecs: the registered codec for each map value, sizes checked against the BTF, round trips', () => {
    const registry = new CodecRegistry();
    registerElectrodeCodecs(registry);
    registerElectrodeCodecs(registry); // a second registration keeps the first
    assert.deepEqual(registry.names(), Object.keys(ELECTRODE_STRUCT_CODECS).sort());
    const btf = obj.btf();
    for (const map of ['electrode_state', 'el_config', 'el_log', 'el_quorum']) {
      const t = mapBtfTypes(btf, map);
      assert.ok(Object.values(ELECTRODE_STRUCT_CODECS).includes(registry.codecFor(btf, t.value!)), `${map}: the registered codec`);
    }
    const c = registry.codecFor(btf, mapBtfTypes(btf, 'el_config').value!);
    const r = { address: 'fd00::7', port: 7470, mac: '02:00:00:00:00:07', ifindex: 3 };
    assert.deepEqual(c.decode(c.encode(r)), r);
    assert.equal(c.decode(c.encode(null)), null);
  });

  test('maps: key and value sizes, entries', () => {
    const maps: Record<string, [number, number, number]> = {
      electrode_state: [4, L.state.size, 1],
      el_config: [4, L.replica.size, ELECTRODE_BUILD_DEFAULTS.ELECTRODE_MAX_REPLICAS],
      el_log: [4, L.logEntry.size, ELECTRODE_BUILD_DEFAULTS.ELECTRODE_RING_SIZE],
      el_quorum: [4, L.quorumSlot.size, ELECTRODE_BUILD_DEFAULTS.ELECTRODE_QUORUM_WINDOW],
      el_stats: [4, 8, ELECTRODE_STAT_MAX],
      el_reasons: [4, L.counter.size, ELECTRODE_R_MAX],
    };
    const defaults = !/-DELECTRODE_/.test(readFileSync(new URL('../build/.cflags', import.meta.url), 'utf8'));
    assert.deepEqual(obj.maps().map((m) => m.name).filter((n) => !n.startsWith('.')).sort(), Object.keys(maps).sort());
    for (const [name, [k, v, n]] of Object.entries(maps)) {
      const m = obj.map(name);
      assert.deepEqual([m.keySize, m.valueSize], [k, v], name);
      if (defaults || name === 'electrode_state' || name === 'el_stats' || name === 'el_reasons') assert.equal(m.maxEntries, n, `${name} entries`);
    }
  });
});

describe.each([
  { path: 'shared memory', mmap: true },
  { path: 'map syscalls', mmap: false },
])('ElectrodeOffload on real maps, through $path', ({ mmap }) => {
  let el: ElectrodeObject;
  const st = (over: Partial<PublishedState> = {}): PublishedState => ({ view: 2, status: 'normal', self: 1, leader: 0, n: 3, lastOp: 10n, commit: 9n, ...over });
  beforeAll(() => {
    el = ElectrodeObject.load({ offloads: ELECTRODE_OFF.FAST_ACK, mmap });
  });
  afterAll(() => el?.close());

  test('the path in use', () => {
    assert.deepEqual(el.offload.mapped(), { state: mmap, log: mmap });
  });

  test('publish: the first writes the constructor\'s offloads, later ones keep the map\'s', () => {
    assert.equal(el.offload.state(), undefined);
    assert.equal(el.offload.broadcasting(), false);
    el.offload.publish(st());
    assert.deepEqual(el.offload.state(), { ...st(), offloads: ELECTRODE_OFF.FAST_ACK });
    el.offload.setOffloads(ELECTRODE_OFF.ALL);
    el.offload.publish(st({ self: 0, commit: 10n })); // the leader's commit is written (its quorum wait reads it)
    assert.equal(el.offload.offloads(), ELECTRODE_OFF.ALL);
    assert.equal(el.offload.broadcasting(), true);
    assert.equal(el.offload.state()!.commit, 10n);
  });

  test('a follower\'s commit number alone: not written by the syscalls (saved), written to memory; the kernel\'s last_op stays', () => {
    const st = (over: Partial<PublishedState>): PublishedState => ({ view: 5, status: 'normal', self: 1, leader: 0, n: 3, lastOp: 10n, commit: 9n, ...over });
    el.offload.publish(st({ lastOp: 30n, commit: 20n }));
    const at = () => [el.offload.state()!.lastOp, el.offload.state()!.commit];
    assert.deepEqual(at(), [30n, 20n]);
    el.offload.publish(st({ lastOp: 30n, commit: 25n }));
    assert.deepEqual(at(), [30n, mmap ? 25n : 20n], mmap ? 'a store, no syscall' : 'no write');
    // the kernel fast-acks 31; user space, not drained yet, publishes a new commit number
    el.map('state').update(encodeU32(0), encodeState({ ...el.offload.state()!, lastOp: 31n }));
    el.offload.publish(st({ lastOp: 30n, commit: 26n }));
    assert.deepEqual(at(), [31n, mmap ? 26n : 20n], 'the kernel\'s last_op stays');
    el.offload.publish(st({ lastOp: 32n, commit: 26n })); // last_op moved past the kernel's: written, with the commit
    assert.deepEqual(at(), [32n, 26n]);
  });

  test('publish never moves last_op backwards within a view in normal status, and does across views', () => {
    el.offload.publish(st({ lastOp: 20n }));
    el.offload.publish(st({ lastOp: 15n })); // the kernel logged 16..20, user space has not drained
    assert.equal(el.offload.state()!.lastOp, 20n);
    el.offload.publish(st({ view: 3, lastOp: 15n })); // a new view: user space's log is the truth
    assert.equal(el.offload.state()!.lastOp, 15n);
    el.offload.publish(st({ view: 3, status: 'view-change', lastOp: 12n }));
    assert.equal(el.offload.state()!.lastOp, 12n);
  });

  test('publish, setOffloads and configure refuse bad input and write nothing', () => {
    const before = el.offload.state();
    assert.throws(() => el.offload.publish(st({ self: 3 })), /^RangeError: state\.self: expected an integer 0\.\.2, got 3/);
    assert.throws(() => el.offload.publish(st({ n: 32 })), /state\.n/);
    assert.throws(() => el.offload.publish(st({ lastOp: -1n })), /state\.lastOp/);
    assert.throws(() => el.offload.setOffloads(9), /offloads: expected ELECTRODE_OFF bits 0\.\.7, got 9/);
    const g = testGroup(4);
    assert.throws(() => el.offload.configure([g[0]!, { ...g[1]!, port: 9 }]), /replicas\[1\]\.port: every replica of a group uses one port \(7470\), got 9/);
    assert.throws(() => el.offload.configure([]), /replicas: expected 1\.\.31 replicas, got 0/);
    assert.throws(() => el.offload.drain(-1n), /afterOp/);
    assert.deepEqual(el.offload.state(), before);
  });

  test('drain: op order from afterOp + 1, stops at the first op the ring lacks, frees what it returns', () => {
    const log = el.map('log');
    const ring = BigInt(log.maxEntries);
    const put = (op: bigint, state: number = ELECTRODE_SLOT.FULL) =>
      log.update(encodeU32(Number(op % ring)), encodeLogEntry({ state, view: 2, op, commit: op - 1n, body: Buffer.from(`op ${op}`) }));
    for (const op of [31n, 32n, 33n, 35n]) put(op);
    const got = el.offload.drain(30n);
    assert.deepEqual(got.map((e) => [e.op, e.view, e.commit, e.body.toString()]), [31n, 32n, 33n].map((op) => [op, 2, op - 1n, `op ${op}`]));
    assert.deepEqual(el.offload.drain(30n), [], 'freed');
    assert.deepEqual(el.offload.drain(34n).map((e) => e.op), [35n]);

    put(41n, ELECTRODE_SLOT.WRITING); // a CPU is still copying 41
    put(42n);
    assert.deepEqual(el.offload.drain(40n), [], 'stops at an entry being written');
    put(41n);
    assert.deepEqual(el.offload.drain(40n).map((e) => e.op), [41n, 42n]);

    put(50n); // a leftover: user space already has 50 (afterOp 50 + ring - 0 lands on its slot)
    assert.deepEqual(el.offload.drain(50n + ring - 1n), [], 'the leftover is not returned');
    assert.deepEqual(el.offload.drain(49n), [], 'and was freed');
  });

  test('counters list every reason and counter', () => {
    const c = el.offload.counters();
    assert.equal(c.reasons.size, ELECTRODE_R_MAX - 1);
    assert.equal(Object.keys(c.stats).length, ELECTRODE_STAT_MAX);
  });
});

describe('the ring filled by the fast-ack', () => {
  let el: ElectrodeObject;
  beforeAll(() => {
    el = ElectrodeObject.load();
    el.offload.configure(testGroup(4));
    el.offload.publish({ view: 1, status: 'normal', self: 1, leader: 0, n: 3, lastOp: 0n, commit: 0n });
  });
  afterAll(() => el?.close());

  test('full: the next Prepare falls back to user space; drained: the slots are reused; nothing lost', () => {
    const ring = BigInt(el.offload.ringSize);
    const [l, f] = testGroup(4);
    const run = (op: bigint) => el.program('fastAck').testRun({ data: paxosFrame(l!, f!, prepare({ sender: 0, view: 1, op, commit: 0n })) }).retval;
    for (let op = 1n; op <= ring; op++) assert.equal(run(op), XDP_VERDICT.TX, `op ${op}`);
    assert.equal(run(ring + 1n), XDP_VERDICT.PASS, 'the slot of ring + 1 holds op 1: ring full');
    assert.equal(el.offload.counters().reasons.get('ELECTRODE_R_RING_FULL')!.packets, 1n);
    assert.equal(el.offload.state()!.lastOp, ring, 'last_op stays: the Prepare is user space\'s now');
    const drained = el.offload.drain(0n);
    assert.deepEqual(drained.map((e) => e.op), Array.from({ length: Number(ring) }, (_, i) => BigInt(i + 1)));
    assert.equal(run(ring + 1n), XDP_VERDICT.TX, 'the retransmission of ring + 1 after the drain');
    assert.deepEqual(el.offload.drain(ring).map((e) => e.op), [ring + 1n]);
    assert.equal(el.offload.state()!.lastOp, ring + 1n);
  });

  test('close runs once; afterwards the binding refuses', async () => {
    await el.offload.close();
    await el.offload.close();
    assert.throws(() => el.offload.drain(0n), /ElectrodeOffload: closed/);
  });
});
