/**
 * Namespace layer: the three offloads on real traffic. A leader (r0) and two followers (r1, r2)
 * on one switched segment (bridge br0 in `sw`); each replica runs electrode_xdp on its eth0 and
 * the leader electrode_broadcast on TC egress, each replica with its own loaded object (maps) in
 * this process; the programs are pinned and attached inside the namespaces with iproute2. The
 * replicas' sockets are small UDP peers (fixtures/udp-peer.mjs); the Prepares come from
 * @netaccel/protocol's codec.
 *
 * All on: the leader sends each Prepare once, to r1; the broadcast clones it to r2; both
 * followers log it and answer with XDP_TX; the leader's socket gets exactly one PrepareOK per op
 * (the one completing the quorum, FAST|QUORUM) and the followers' sockets nothing; each ring
 * drained through ElectrodeOffload equals what was sent. Then with the fast-ack and quorum wait
 * off the Prepares reach both followers' sockets (broadcast still on), and a gap is passed up
 * and filled by the retransmission. The sw ports facing the replicas carry a trivial XDP program
 * (selftest, nothing dropped): a veth delivers XDP_TX frames only to a peer with XDP. The veths
 * keep TX checksum offload on (the default): the leader's Prepares leave with a partial UDP
 * checksum, which the broadcast's bpf_l4_csum_replace keeps right for every copy, and the
 * fast-ack computes the PrepareOK's checksum from scratch (electrode-paxos.ns.test.ts runs with
 * it off).
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject } from '@netaccel/bpf';
import { createLab } from '@netaccel/netlab';
import type { LabProcess, LabSpec } from '@netaccel/netlab';
import { paxos } from '@netaccel/protocol';
import { ELECTRODE_OFF, PAXOS_F } from './constants.js';
import { prepare } from './frames.js';
import { ELECTRODE_BPF_DIR, ElectrodeObject } from './object.js';
import type { PublishedState } from './offload.js';

const PORT = 7470;
const ADDR = ['10.78.0.1', '10.78.0.2', '10.78.0.3'];
const REPLICAS = ['r0', 'r1', 'r2'] as const;
const PEER = fileURLToPath(new URL('./fixtures/udp-peer.mjs', import.meta.url));
const PIN = `/sys/fs/bpf/nel-${process.pid}`;
const VIEW = 1;

const spec: LabSpec = {
  name: 'electrode',
  nodes: { sw: {}, r0: {}, r1: {}, r2: {} },
  links: REPLICAS.map((r, i) => ({ a: `${r}:eth0`, b: `sw:p${i}`, aAddr: `${ADDR[i]}/24` })),
  bridges: [{ node: 'sw', name: 'br0', ports: ['p0', 'p1', 'p2'] }],
};

interface Received {
  from: string;
  msg: paxos.PaxosMessage;
}

function parseOutput(text: string): Received[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{"from"'))
    .map((l) => JSON.parse(l) as { from: string; hex: string })
    .map((r) => ({ from: r.from, msg: paxos.decodePaxos(Buffer.from(r.hex, 'hex')) }));
}

describe('Electrode offloads on real traffic (leader + 2 followers)', () => {
  const lab = createLab(spec, { prefix: 'nel' });
  const objects: ElectrodeObject[] = [];
  let pass: BpfObject | undefined;
  const sent = new Map<bigint, Buffer>();

  const state = (i: number, lastOp: bigint): PublishedState => ({ view: VIEW, status: 'normal', self: i, leader: 0, n: 3, lastOp, commit: 0n });

  beforeAll(async () => {
    rmSync(PIN, { recursive: true, force: true });
    mkdirSync(PIN, { recursive: true });
    await lab.up();
    // the pass-through XDP program on the switch ports (XDP_TX from the followers reaches them)
    pass = BpfObject.openFile(join(ELECTRODE_BPF_DIR, 'build/selftest/selftest.bpf.o'));
    pass.setGlobal('drop_udp_port', 0);
    pass.load();
    pass.program('selftest_xdp').pin(`${PIN}/pass`);
    for (const p of ['p0', 'p1', 'p2']) await lab.exec('sw', ['ip', 'link', 'set', 'dev', p, 'xdpdrv', 'pinned', `${PIN}/pass`], { sysfs: 'host' });

    const links = await Promise.all(REPLICAS.map((r) => lab.links(r)));
    const eth0 = links.map((l) => l.find((x) => x.ifname === 'eth0')!);
    for (const [i, r] of REPLICAS.entries()) {
      const el = ElectrodeObject.load();
      objects.push(el);
      // ifindex: this replica's own eth0 (the copies of the leader leave through it)
      el.offload.configure(REPLICAS.map((_, j) => ({ address: ADDR[j]!, port: PORT, mac: eth0[j]!.address!, ifindex: eth0[i]!.ifindex })));
      el.offload.publish(state(i, 0n));
      el.program('xdp').pin(`${PIN}/${r}-xdp`);
      await lab.exec(r, ['ip', 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'pinned', `${PIN}/${r}-xdp`], { sysfs: 'host' });
      if (i === 0) {
        el.program('broadcast').pin(`${PIN}/${r}-bcast`);
        await lab.exec(r, ['tc', 'qdisc', 'add', 'dev', 'eth0', 'clsact']);
        await lab.exec(r, ['tc', 'filter', 'add', 'dev', 'eth0', 'egress', 'bpf', 'direct-action', 'pinned', `${PIN}/${r}-bcast`], { sysfs: 'host' });
      }
    }
    // ARP entries first, so that no Prepare waits for a neighbour (the clones carry their MAC)
    await lab.ping('r0', ADDR[1]!);
    await lab.ping('r0', ADDR[2]!);
  }, 60_000);

  afterAll(async () => {
    try {
      await lab.down();
    } finally {
      for (const el of objects) el.close();
      pass?.close();
      rmSync(PIN, { recursive: true, force: true });
    }
  });

  /** Runs the followers' sockets, then the leader's, which sends `payloads` to r1. */
  async function round(payloads: Buffer[], listenMs = 700): Promise<{ leader: Received[]; followers: Received[][] }> {
    const followers: LabProcess[] = [];
    for (const r of ['r1', 'r2'] as const) {
      followers.push(
        await lab.spawn(r, [process.execPath, PEER, ADDR[REPLICAS.indexOf(r)]!, String(PORT), '0'], {
          name: `sock-${r}-${Date.now()}`,
          ready: { log: /"listening":true/ },
        }),
      );
    }
    const leader = await lab.exec('r0', [process.execPath, PEER, ADDR[0]!, String(PORT), String(listenMs), ADDR[1]!, String(PORT), ...payloads.map((p) => p.toString('hex'))]);
    // the leader listened listenMs after its last send: whatever reaches the followers is in
    for (const f of followers) await f.stop();
    return { leader: parseOutput(leader.stdout), followers: followers.map((f) => parseOutput(f.output())) };
  }

  const prepares = (from: bigint, to: bigint): Buffer[] => {
    const out: Buffer[] = [];
    for (let op = from; op <= to; op++) {
      const p = prepare({ sender: 0, view: VIEW, op, commit: 0n, requests: 2, opBytes: 24 });
      sent.set(op, p.subarray(32));
      out.push(p);
    }
    return out;
  };

  test('all offloads on: one send per Prepare reaches both followers, one PrepareOK per op reaches the leader, rings hold what was sent', async () => {
    const [leader, f1, f2] = objects as [ElectrodeObject, ElectrodeObject, ElectrodeObject];
    leader.offload.publish(state(0, 5n)); // the leader has ops 1..5 in its log
    const before = leader.offload.counters().stats;

    const { leader: got, followers } = await round(prepares(1n, 5n));

    const acks = got.map((r) => ({ from: r.from, ...(r.msg as paxos.PrepareOkMessage) })).sort((a, b) => Number(a.op - b.op));
    assert.deepEqual(
      acks.map((a) => ({ type: a.type, view: a.view, op: a.op, flags: a.flags })),
      [1n, 2n, 3n, 4n, 5n].map((op) => ({ type: paxos.PaxosType.PrepareOk, view: VIEW, op, flags: PAXOS_F.FAST | PAXOS_F.QUORUM })),
      'exactly one PrepareOK per op, the quorum-completing one',
    );
    for (const a of acks) assert.equal(a.from, ADDR[a.sender], 'sent by the follower it names');
    assert.deepEqual(followers, [[], []], 'the followers\' sockets saw no Prepare: the kernel handled them');

    for (const f of [f1, f2]) {
      const drained = f.offload.drain(0n);
      assert.deepEqual(drained.map((e) => [e.op, e.view, e.commit, e.body.toString('hex')]), [1n, 2n, 3n, 4n, 5n].map((op) => [op, VIEW, 0n, sent.get(op)!.toString('hex')]));
      assert.deepEqual(f.offload.drain(0n), [], 'drained slots are free');
      assert.equal(f.offload.state()!.lastOp, 5n);
      assert.equal(f.offload.counters().stats.FAST_ACKS, 5n);
    }
    const after = leader.offload.counters().stats;
    assert.equal(after.BCAST_PREPARES - before.BCAST_PREPARES, 5n, 'five Prepares broadcast');
    assert.equal(after.BCAST_CLONES - before.BCAST_CLONES, 5n, 'one clone each (to r2)');
    assert.equal(after.QUORUMS - before.QUORUMS, 5n);
    assert.equal(after.ACKS_FILTERED - before.ACKS_FILTERED, 5n, 'the second follower\'s PrepareOKs were filtered');
  });

  test('fast-ack and quorum wait off: the broadcast Prepares reach both followers\' sockets', async () => {
    const [leader, f1, f2] = objects as [ElectrodeObject, ElectrodeObject, ElectrodeObject];
    leader.offload.publish(state(0, 7n));
    for (const f of [f1, f2]) f.offload.setOffloads(ELECTRODE_OFF.BROADCAST);

    const { leader: got, followers } = await round(prepares(6n, 7n));

    assert.deepEqual(got, [], 'no follower answered (their user space is a plain socket here)');
    for (const [k, f] of followers.entries()) {
      assert.deepEqual(f.map((r) => [r.from, r.msg.type, (r.msg as { op: bigint }).op]), [[ADDR[0], paxos.PaxosType.Prepare, 6n], [ADDR[0], paxos.PaxosType.Prepare, 7n]], `r${k + 1}`);
    }
    for (const f of [f1, f2]) {
      assert.deepEqual(f.offload.drain(5n), [], 'nothing logged');
      assert.equal(f.offload.counters().reasons.get('ELECTRODE_R_OFFLOAD_OFF')!.packets, 2n);
    }
  });

  test('a gap is passed up; the retransmission after the missing op is fast-acked', async () => {
    const [leader, f1, f2] = objects as [ElectrodeObject, ElectrodeObject, ElectrodeObject];
    for (const [i, f] of [f1, f2].entries()) {
      f.offload.publish(state(i + 1, 7n)); // user space processed 6 and 7
      f.offload.setOffloads(ELECTRODE_OFF.ALL);
    }
    leader.offload.publish(state(0, 9n));
    const [p8, p9] = prepares(8n, 9n) as [Buffer, Buffer];

    const { leader: got, followers } = await round([p9, p8, p9]);

    assert.deepEqual(
      followers.map((f) => f.map((r) => (r.msg as { op: bigint }).op)),
      [[9n], [9n]],
      'op 9 before 8: a gap, passed up to both followers',
    );
    assert.deepEqual(got.map((r) => (r.msg as { op: bigint }).op).sort(), [8n, 9n], 'ops 8 and 9 reach their quorum once each');
    for (const f of [f1, f2]) {
      assert.deepEqual(f.offload.drain(7n).map((e) => e.op), [8n, 9n]);
      assert.equal(f.offload.counters().reasons.get('ELECTRODE_R_GAP')!.packets, 1n);
    }
  });
});
