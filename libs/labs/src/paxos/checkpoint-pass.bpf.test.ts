/**
 * BPF layer: libs/paxos' checkpoint state transfer (CHECKPOINT 13, GET_CHECKPOINT 14, wire
 * format in libs/protocol paxos) through the Electrode XDP programs the lab's and the bench's
 * replicas attach, with BPF_PROG_TEST_RUN: at a follower and at a leader, on the fast-ack, the
 * quorum wait and the dispatcher, each is passed up to user space unchanged, counted as
 * OTHER_TYPE as the model (bpf/electrode model.ts) decides, and changes no replica state.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import { ElectrodeObject, encodeState, encodeU32, parseFrame, typeReason } from '@netaccel/bpf-programs/electrode';
import { FOLLOWER, LEADER, TEST_PORT, XDP_VERDICT, paxosFrame, testGroup } from '@netaccel/bpf-programs/electrode/testing';

let el: ElectrodeObject;
beforeAll(() => {
  el = ElectrodeObject.load();
  el.offload.configure(testGroup(4));
});
afterAll(() => el?.close());

const chunk = (sender: number, view: number): Buffer =>
  paxos.encodePaxos({ type: paxos.PaxosType.Checkpoint, sender, view, op: 4096n, total: 5000, checksum: 0x1234abcd, offset: 1354, data: Buffer.alloc(paxos.PAXOS_MAX_CHUNK, 0x5a) });
const ask = (sender: number, view: number): Buffer => paxos.encodePaxos({ type: paxos.PaxosType.GetCheckpoint, sender, view, op: 4096n, offset: 1354 });

function otherType(): bigint {
  return el.offload.counters().reasons.get('ELECTRODE_R_OTHER_TYPE')?.packets ?? 0n;
}

test('CHECKPOINT and GET_CHECKPOINT pass the fast-ack, the quorum wait and the dispatcher untouched, as OTHER_TYPE, at a follower and a leader', () => {
  const [r0, r1] = testGroup(4);
  const cases = [
    { who: 'follower', state: FOLLOWER, frames: [paxosFrame(r0!, r1!, chunk(0, 5)), paxosFrame(r0!, r1!, ask(0, 5))] },
    { who: 'leader', state: LEADER, frames: [paxosFrame(r1!, r0!, chunk(1, 5)), paxosFrame(r1!, r0!, ask(1, 5))] },
  ];
  let runs = 0;
  for (const { who, state, frames } of cases) {
    for (const frame of frames) {
      const parsed = parseFrame(frame, TEST_PORT);
      assert.ok(parsed.kind === 'message', `${who}: the model parses it`);
      assert.equal(typeReason(parsed.msg.type), 'OTHER_TYPE', 'the model leaves it to user space');
      for (const program of ['fastAck', 'quorum', 'xdp'] as const) {
        el.map('state').update(encodeU32(0), encodeState(state));
        const before = otherType();
        const r = el.program(program).testRun({ data: frame });
        const what = `${who} ${program} ${paxos.paxosTypeName(frame[42 + 5]!)}`;
        assert.equal(r.retval, XDP_VERDICT.PASS, what);
        assert.deepEqual(r.data, frame, `${what}: unchanged`);
        assert.equal(otherType(), before + 1n, `${what}: counted OTHER_TYPE`);
        assert.deepEqual(el.offload.state(), { ...state }, `${what}: no replica state changed`);
        runs++;
      }
    }
  }
  assert.equal(runs, 12);
});
