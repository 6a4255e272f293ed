/**
 * BPF layer: the fast-ack and the quorum wait through BPF_PROG_TEST_RUN, each fixture run on
 * its own program (electrode_fast_ack, electrode_quorum) and on the dispatcher every replica
 * attaches (electrode_xdp), and compared three ways: with the fixture's expected verdict and
 * reason, with the model's decision (model.ts), and in the maps (ring entry, last_op, bitset
 * slot, counters). Output frames are checked field by field and their checksums verified.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos, verifyChecksums } from '@netaccel/protocol';
import { decodeLogEntry, decodeQuorumSlot, encodeLogEntry, encodeQuorumSlot, encodeState, encodeU32, FREE_LOG_ENTRY } from './codec.js';
import type { QuorumSlot } from './codec.js';
import { ELECTRODE_SLOT, PAXOS_F } from './constants.js';
import { FOLLOWER, LEADER, XDP_VERDICT, fastAckFixtures, quorumFixtures } from './fixtures.js';
import type { ElectrodeFixture } from './fixtures.js';
import { TEST_PORT, paxosFrame, prepareOk, testGroup, udpPayload } from './frames.js';
import { fastAckDecision, parseFrame, quorumDecision, typeReason } from './model.js';
import { ElectrodeObject } from './object.js';
import type { ElectrodeReasonName } from './reasons.js';

const ZERO = encodeU32(0);

function verdictName(retval: number): string {
  return Object.entries(XDP_VERDICT).find(([, v]) => v === retval)?.[0] ?? `retval ${retval}`;
}

/** Reason counters (packets) by short name. */
function reasonCounts(el: ElectrodeObject): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [name, c] of el.offload.counters().reasons) out.set(name.replace(/^ELECTRODE_R_/, ''), c.packets);
  return out;
}

/** The one reason whose counter moved by one (undefined: none moved); fails if more moved. */
function reasonCounted(before: Map<string, bigint>, after: Map<string, bigint>): string | undefined {
  const moved = [...after].filter(([k, v]) => v !== before.get(k));
  assert.ok(moved.length <= 1, `reasons moved: ${moved.map(([k]) => k).join(', ')}`);
  if (moved.length === 0) return undefined;
  assert.equal(moved[0]![1] - before.get(moved[0]![0])!, 1n);
  return moved[0]![0];
}

/** Ethernet/IP/UDP of an untagged frame: the fields the programs rewrite. */
function l2l4(frame: Buffer): { dmac: string; smac: string; src: string; dst: string; sport: number; dport: number; ipLen: number } {
  const hex = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
  const v4 = frame.readUInt16BE(12) === 0x0800;
  const l4 = v4 ? 34 : 54;
  const addr = (at: number, len: number) => frame.subarray(at, at + len).toString('hex');
  return {
    dmac: hex(frame.subarray(0, 6)),
    smac: hex(frame.subarray(6, 12)),
    src: v4 ? addr(26, 4) : addr(22, 16),
    dst: v4 ? addr(30, 4) : addr(38, 16),
    sport: frame.readUInt16BE(l4),
    dport: frame.readUInt16BE(l4 + 2),
    ipLen: v4 ? frame.readUInt16BE(16) : frame.readUInt16BE(18) + 40,
  };
}

describe('fast-ack (follower)', () => {
  let el: ElectrodeObject;
  let ring: number;
  beforeAll(() => {
    el = ElectrodeObject.load();
    el.offload.configure(testGroup(4));
    ring = el.map('log').maxEntries;
  });
  afterAll(() => el?.close());

  const prepareSlots = (f: ElectrodeFixture) => {
    for (const op of [10n, 11n, 12n, 13n]) el.map('log').update(encodeU32(Number(op % BigInt(ring))), FREE_LOG_ENTRY);
    if (f.ringHolds !== undefined) {
      el.map('log').update(encodeU32(Number(((f.ringHolds % BigInt(ring)) + BigInt(ring)) % BigInt(ring))), encodeLogEntry({ state: ELECTRODE_SLOT.FULL, view: 5, op: f.ringHolds < 0n ? 0n : f.ringHolds, commit: 0n, body: Buffer.from('old') }));
    }
  };

  for (const program of ['fastAck', 'xdp'] as const) {
    // the fixture list depends on the ring size only for the ring-full case's op; 512 by default
    for (const f of fastAckFixtures(512)) {
      test(`${program}: ${f.name}`, () => {
        assert.equal(ring, 512, 'fixtures assume the default ELECTRODE_RING_SIZE');
        el.map('state').update(ZERO, encodeState(f.state));
        prepareSlots(f);
        const before = reasonCounts(el);
        const acksBefore = el.offload.counters().stats.FAST_ACKS;

        const r = el.program(program).testRun({ data: f.frame });

        // the fixture's expectation
        assert.equal(verdictName(r.retval), f.verdict);
        assert.equal(reasonCounted(before, reasonCounts(el)), f.reason);
        // the model's decision
        const parsed = parseFrame(f.frame, TEST_PORT);
        let model: { verdict: string; reason?: ElectrodeReasonName };
        if (parsed.kind === 'not-mine') model = { verdict: 'PASS' };
        else if (parsed.kind === 'malformed') model = { verdict: 'PASS', reason: 'MALFORMED' };
        else if (typeReason(parsed.msg.type)) {
          model = { verdict: 'PASS', reason: typeReason(parsed.msg.type)! };
          assert.deepEqual(el.offload.state(), { ...f.state }, 'left to user space: no replica state changed');
          for (const op of [10n, 11n, 12n, 13n]) assert.equal(decodeLogEntry(el.map('log').lookup(encodeU32(Number(op % BigInt(ring))))!).state, ELECTRODE_SLOT.FREE, 'nothing logged');
        }
        else {
          const d = fastAckDecision(f.state, parsed.msg, () => f.ringHolds === undefined);
          model = { verdict: d.verdict === 'tx' ? 'TX' : 'PASS', ...(d.reason ? { reason: d.reason } : {}) };
          assert.equal(el.offload.state()!.lastOp, d.lastOp, 'last_op as the model says');
          if (d.logged) {
            const e = decodeLogEntry(el.map('log').lookup(encodeU32(Number(d.logged.op % BigInt(ring))))!);
            assert.deepEqual({ ...e, body: e.body.toString('hex') }, { state: ELECTRODE_SLOT.FULL, view: d.logged.view, op: d.logged.op, commit: d.logged.commit, body: d.logged.body.toString('hex') });
          }
        }
        assert.deepEqual({ verdict: verdictName(r.retval), ...(f.reason ? { reason: f.reason } : {}) }, model);

        if (f.verdict === 'TX') {
          assert.equal(el.offload.counters().stats.FAST_ACKS, acksBefore + 1n);
          const inF = l2l4(f.frame);
          const out = l2l4(r.data);
          assert.deepEqual(
            { dmac: out.dmac, smac: out.smac, src: out.src, dst: out.dst, sport: out.sport, dport: out.dport },
            { dmac: inF.smac, smac: inF.dmac, src: inF.dst, dst: inF.src, sport: inF.dport, dport: inF.sport },
          );
          const ack = paxos.decodePaxos(udpPayload(r.data));
          assert.deepEqual(ack, { type: paxos.PaxosType.PrepareOk, sender: 1, view: 5, op: 11n, flags: PAXOS_F.FAST });
          assert.equal(r.data.length, 14 + out.ipLen, 'frame trimmed to the PrepareOK');
          assert.equal(out.ipLen, (r.data.readUInt16BE(12) === 0x0800 ? 20 : 40) + 8 + 32);
          const sums = verifyChecksums(r.data);
          assert.ok(sums.ok && sums.checks.length >= 1, JSON.stringify(sums.checks));
        } else {
          assert.deepEqual(r.data, f.frame, 'passed unchanged');
        }
      });
    }
  }
});

describe('quorum wait (leader)', () => {
  let el: ElectrodeObject;
  beforeAll(() => {
    el = ElectrodeObject.load();
    el.offload.configure(testGroup(4, 0, 5));
  });
  afterAll(() => el?.close());

  for (const program of ['quorum', 'xdp'] as const) {
    test(`${program}: the fixtures in sequence, bitsets carried over`, () => {
      const slots = el.map('quorum');
      for (let i = 0; i < slots.maxEntries; i++) slots.update(encodeU32(i), Buffer.alloc(slots.valueSize));
      const model = new Map<bigint, QuorumSlot>();
      const start = el.offload.counters().stats;
      let quorums = 0n;
      let dropped = 0n;
      for (const f of quorumFixtures()) {
        el.map('state').update(ZERO, encodeState(f.state));
        const before = reasonCounts(el);
        const r = el.program(program).testRun({ data: f.frame });
        assert.equal(verdictName(r.retval), f.verdict, f.name);
        assert.equal(reasonCounted(before, reasonCounts(el)), f.reason, f.name);

        const parsed = parseFrame(f.frame, TEST_PORT);
        assert.equal(parsed.kind, 'message', f.name);
        if (parsed.kind !== 'message') continue;
        const op = parsed.msg.op;
        const d = quorumDecision(f.state, parsed.msg, model.get(op));
        assert.deepEqual({ verdict: d.verdict.toUpperCase(), reason: d.reason }, { verdict: f.verdict, reason: f.reason }, `${f.name}: model`);
        if (d.slot && !d.reason) model.set(op, d.slot);
        if (d.slot && (d.reason === 'ACK_DUPLICATE' || d.reason === 'ACK_QUORUM_DONE')) model.set(op, d.slot);
        const want = model.get(op);
        if (want) {
          const got = decodeQuorumSlot(slots.lookup(encodeU32(Number(op % BigInt(slots.maxEntries))))!);
          assert.deepEqual(got, want, `${f.name}: bitset slot`);
        }
        if (d.quorum) quorums++;
        if (d.verdict === 'drop') dropped++;
        if (d.quorum) {
          const m = paxos.decodePaxos(udpPayload(r.data)) as { flags: number };
          assert.equal(m.flags, PAXOS_F.FAST | PAXOS_F.QUORUM, `${f.name}: QUORUM set`);
          const v4 = r.data.readUInt16BE(12) === 0x0800;
          const csumAt = (v4 ? 34 : 54) + 6;
          if (f.frame.readUInt16BE(csumAt) === 0) assert.equal(r.data.readUInt16BE(csumAt), 0, `${f.name}: no checksum stays none`);
          else assert.ok(verifyChecksums(r.data).ok, `${f.name}: checksums`);
          assert.deepEqual(r.data.subarray(0, csumAt), f.frame.subarray(0, csumAt), `${f.name}: headers untouched`);
        } else {
          assert.deepEqual(r.data, f.frame, `${f.name}: unchanged`);
        }
      }
      const end = el.offload.counters().stats;
      assert.equal(quorums, 3n, 'ops 17, 18, 19 complete once each');
      assert.equal(end.QUORUMS - start.QUORUMS, quorums, 'QUORUMS counter');
      assert.equal(end.ACKS_FILTERED - start.ACKS_FILTERED, dropped, 'ACKS_FILTERED counter: every drop');
    });
  }

  test('window exceeded: a newer op of the view holds the slot, the older PrepareOK is passed up, the slot kept', () => {
    const slots = el.map('quorum');
    const window = BigInt(slots.maxEntries);
    const st = { ...LEADER, lastOp: 5000n };
    el.map('state').update(ZERO, encodeState(st));
    const newer = { view: 5, op: 300n + window, acks: 0b100, done: false };
    slots.update(encodeU32(Number(300n % window)), encodeQuorumSlot(newer));
    const g = testGroup(4, 0, 5);
    const frame = paxosFrame(g[1]!, g[0]!, prepareOk({ sender: 1, view: 5, op: 300n }));
    const before = reasonCounts(el);
    const r = el.program('quorum').testRun({ data: frame });
    assert.equal(verdictName(r.retval), 'PASS');
    assert.equal(reasonCounted(before, reasonCounts(el)), 'ACK_WINDOW');
    const p = parseFrame(frame, TEST_PORT);
    assert.ok(p.kind === 'message');
    assert.equal(quorumDecision(st, p.msg, newer).reason, 'ACK_WINDOW');
    assert.deepEqual(decodeQuorumSlot(slots.lookup(encodeU32(Number(300n % window)))!), newer);
  });

  test('a follower publishes FOLLOWER and a leader LEADER: the codecs round-trip through the map', () => {
    el.map('state').update(ZERO, encodeState(LEADER));
    assert.deepEqual(el.offload.state(), LEADER);
    el.map('state').update(ZERO, encodeState(FOLLOWER));
    assert.deepEqual(el.offload.state(), FOLLOWER);
  });
});
