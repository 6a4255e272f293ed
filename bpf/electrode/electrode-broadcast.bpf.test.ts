/**
 * BPF layer: the TC egress broadcast through BPF_PROG_TEST_RUN. The copies bpf_clone_redirect
 * sends really leave: every replica's ifindex in el_config is one end of a veth pair in this
 * namespace whose peer sits in a namespace of this test (`nel-bc-<pid>`), where a packet socket
 * (fixtures/capture.py) catches them. Each case is compared with the model (broadcastDecision):
 * one copy per follower but the first, each with the follower's MAC, address and port and
 * correct checksums and the payload untouched; the original goes on, unchanged, to the first
 * follower; counters and reasons as decided.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatIp, verifyChecksums } from '@netaccel/protocol';
import { encodeReplica, encodeState, encodeU32 } from './codec.js';
import type { ElectrodeState, ReplicaConfig } from './codec.js';
import { ELECTRODE_OFF } from './constants.js';
import { checkpointChunk, commit, getCheckpoint, paxosFrame, prepare, testGroup, udpPayload } from './frames.js';
import { broadcastDecision, firstFollower } from './model.js';
import { ElectrodeObject } from './object.js';

const NS = `nel-bc-${process.pid}`;
const HOST_IF = `nelb${process.pid}a`;
const PEER_IF = `nelb${process.pid}b`;
const CAPTURE = fileURLToPath(new URL('./fixtures/capture.py', import.meta.url));
const ZERO = encodeU32(0);

function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // teardown of something that may not exist
  }
}

/** Removes namespaces and veths of earlier runs of this file that were killed. */
function cleanStale(): void {
  for (const line of sh('ip', 'netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (/^nel-bc-\d+$/.test(name)) quietly(() => sh('ip', 'netns', 'del', name));
  }
  for (const m of sh('ip', '-o', 'link', 'show').matchAll(/^\d+: (nelb\d+a)[@:]/gm)) quietly(() => sh('ip', 'link', 'del', m[1]!));
}

/** Runs `fn` while capturing; resolves with the UDP frames the peer received. */
async function capture(count: number, fn: () => void): Promise<Buffer[]> {
  const timeoutMs = count > 0 ? 3000 : 300;
  const p = spawn('ip', ['netns', 'exec', NS, 'python3', CAPTURE, PEER_IF, String(count), String(timeoutMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => p.on('exit', (code) => resolve(code ?? -1)));
  await new Promise<void>((resolve, reject) => {
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) resolve();
    });
    p.on('exit', () => reject(new Error(`capture exited early: ${err}`)));
  });
  fn();
  const code = await exited;
  assert.equal(code, 0, `capture: ${err}`);
  return out.split('\n').slice(1).filter(Boolean).map((h) => Buffer.from(h, 'hex'));
}

function addrOf(frame: Buffer): { dmac: string; smac: string; dst: string; dport: number } {
  const mac = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
  const v4 = frame.readUInt16BE(12) === 0x0800;
  return {
    dmac: mac(frame.subarray(0, 6)),
    smac: mac(frame.subarray(6, 12)),
    dst: formatIp(v4 ? frame.subarray(30, 34) : frame.subarray(38, 54)),
    dport: frame.readUInt16BE((v4 ? 34 : 54) + 2),
  };
}

describe('broadcast (leader, TC egress)', () => {
  let el: ElectrodeObject;
  let ifindex = 0;

  beforeAll(() => {
    cleanStale();
    sh('ip', 'netns', 'add', NS);
    sh('ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', PEER_IF, 'netns', NS);
    sh('sysctl', '-qw', `net.ipv6.conf.${HOST_IF}.disable_ipv6=1`);
    sh('ip', 'netns', 'exec', NS, 'sysctl', '-qw', `net.ipv6.conf.${PEER_IF}.disable_ipv6=1`);
    sh('ip', 'link', 'set', HOST_IF, 'up');
    sh('ip', '-n', NS, 'link', 'set', PEER_IF, 'up');
    ifindex = Number(readFileSync(`/sys/class/net/${HOST_IF}/ifindex`, 'utf8').trim());
    el = ElectrodeObject.load();
  });
  afterAll(() => {
    el?.close();
    quietly(() => sh('ip', 'link', 'del', HOST_IF));
    quietly(() => sh('ip', 'netns', 'del', NS));
  });

  interface Case {
    name: string;
    state: Partial<ElectrodeState>;
    family: 4 | 6;
    replicas?: number;
    /** Replace the configuration of these replicas. */
    override?: Record<number, ReplicaConfig | undefined>;
    frame: (g: ReplicaConfig[]) => Buffer;
    copies: number[];
    reason?: string;
  }
  const LEADER0: ElectrodeState = { view: 3, status: 'normal', self: 0, leader: 0, n: 3, lastOp: 40n, commit: 39n, offloads: ELECTRODE_OFF.ALL };
  const p = (sender = 0, op = 41n) => prepare({ sender, view: 3, op, commit: 39n, requests: 3, opBytes: 40 });
  const cases: Case[] = [
    { name: 'IPv4, 3 replicas: one copy to follower 2', state: {}, family: 4, frame: (g) => paxosFrame(g[0]!, g[1]!, p()), copies: [2] },
    { name: 'IPv4, 5 replicas: copies to followers 2, 3 and 4', state: { n: 5 }, family: 4, replicas: 5, frame: (g) => paxosFrame(g[0]!, g[1]!, p()), copies: [2, 3, 4] },
    { name: 'IPv6, 3 replicas: one copy', state: {}, family: 6, frame: (g) => paxosFrame(g[0]!, g[1]!, p()), copies: [2] },
    { name: 'IPv4 without UDP checksum: the copy has none either', state: {}, family: 4, frame: (g) => paxosFrame(g[0]!, g[1]!, p(), { checksum: 0 }), copies: [2] },
    { name: 'leader 1: the first follower is 0, the copy goes to 2', state: { self: 1, leader: 1 }, family: 4, frame: (g) => paxosFrame(g[1]!, g[0]!, p(1)), copies: [2] },
    { name: 'broadcast off: no copy', state: { offloads: ELECTRODE_OFF.FAST_ACK | ELECTRODE_OFF.QUORUM }, family: 4, frame: (g) => paxosFrame(g[0]!, g[1]!, p()), copies: [], reason: 'OFFLOAD_OFF' },
    { name: 'a COMMIT to the first follower is not broadcast', state: {}, family: 4, frame: (g) => paxosFrame(g[0]!, g[1]!, commit({ sender: 0, view: 3, commit: 40n })), copies: [], reason: 'OTHER_TYPE' },
    { name: 'a CHECKPOINT chunk of the largest size to the first follower is not broadcast', state: {}, family: 4, frame: (g) => paxosFrame(g[0]!, g[1]!, checkpointChunk({ sender: 0, view: 3, op: 32n, offset: 1354 })), copies: [], reason: 'OTHER_TYPE' },
    { name: 'a CHECKPOINT chunk, IPv6, 5 replicas: not broadcast', state: { n: 5 }, family: 6, replicas: 5, frame: (g) => paxosFrame(g[0]!, g[1]!, checkpointChunk({ sender: 0, view: 3, op: 32n, size: 200, total: 9000 })), copies: [], reason: 'OTHER_TYPE' },
    { name: 'a GET_CHECKPOINT to the first follower is not broadcast', state: {}, family: 4, frame: (g) => paxosFrame(g[0]!, g[1]!, getCheckpoint({ sender: 0, view: 3, op: 32n, offset: 2708 })), copies: [], reason: 'OTHER_TYPE' },
    { name: 'a Prepare to follower 2 (a clone on its way) passes untouched', state: {}, family: 4, frame: (g) => paxosFrame(g[0]!, g[2]!, p()), copies: [] },
    { name: 'during a view change: no copy', state: { status: 'view-change' }, family: 4, frame: (g) => paxosFrame(g[0]!, g[1]!, p()), copies: [], reason: 'NOT_NORMAL' },
    { name: 'a follower does not broadcast', state: { self: 2 }, family: 4, frame: (g) => paxosFrame(g[2]!, g[1]!, p(2)), copies: [], reason: 'ROLE' },
    { name: 'a Prepare not sent by this replica', state: {}, family: 4, frame: (g) => paxosFrame(g[0]!, g[1]!, p(2)), copies: [], reason: 'BAD_SENDER' },
    {
      name: 'follower 2 of the other family: counted as an error, no copy',
      state: {},
      family: 4,
      override: { 2: { address: 'fd77::3', port: 7470, mac: '02:77:00:00:00:03', ifindex: 0 } },
      frame: (g) => paxosFrame(g[0]!, g[1]!, p()),
      copies: [],
    },
    { name: 'follower 3 of 5 not configured: copies to 2 and 4 only', state: { n: 5 }, family: 4, replicas: 5, override: { 3: undefined }, frame: (g) => paxosFrame(g[0]!, g[1]!, p()), copies: [2, 4] },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const group: (ReplicaConfig | undefined)[] = testGroup(c.family, ifindex, c.replicas ?? 3);
      for (const [i, r] of Object.entries(c.override ?? {})) group[Number(i)] = r && { ...r, ifindex };
      const st: ElectrodeState = { ...LEADER0, ...c.state };
      const config = el.map('config');
      for (let i = 0; i < config.maxEntries; i++) {
        const r = group[i];
        config.update(encodeU32(i), r ? encodeReplica(r, `replica ${i}`) : Buffer.alloc(config.valueSize));
      }
      el.map('state').update(ZERO, encodeState(st));
      const frame = c.frame(group as ReplicaConfig[]);
      const model = broadcastDecision(st, group, frame);
      assert.deepEqual(model.copies, c.copies, 'model: copies');
      assert.equal(model.reason, c.reason, 'model: reason');

      const before = el.offload.counters();
      let ret = -1;
      let out: Buffer = Buffer.alloc(0);
      const frames = await capture(c.copies.length, () => {
        const r = el.program('broadcast').testRun({ data: frame });
        ret = r.retval;
        out = r.data;
      });
      const after = el.offload.counters();

      assert.equal(ret, 0, 'TC_ACT_OK: the original goes on');
      assert.deepEqual(out, frame, 'the original leaves as it came, to the first follower');
      assert.equal(frames.length, c.copies.length, 'one copy per follower');
      const first = group[firstFollower(st)]!;
      for (const [k, i] of c.copies.entries()) {
        const r = group[i]!;
        const got = frames[k]!;
        assert.deepEqual(addrOf(got), { dmac: r.mac, smac: addrOf(frame).smac, dst: r.address, dport: r.port }, `copy ${k} to replica ${i}`);
        assert.deepEqual(udpPayload(got), udpPayload(frame), 'payload untouched');
        assert.equal(got.length, frame.length);
        if (frame.readUInt16BE(34 + 6) === 0 && c.family === 4) assert.equal(got.readUInt16BE(34 + 6), 0, 'no UDP checksum stays none');
        const sums = verifyChecksums(got);
        assert.ok(sums.ok, JSON.stringify(sums.checks));
        assert.notEqual(r.address, first.address);
      }
      const d = (k: 'BCAST_PREPARES' | 'BCAST_CLONES' | 'BCAST_ERRORS') => after.stats[k] - before.stats[k];
      assert.deepEqual(
        { prepares: d('BCAST_PREPARES'), clones: d('BCAST_CLONES'), errors: d('BCAST_ERRORS') },
        { prepares: model.mine && !model.reason ? 1n : 0n, clones: BigInt(model.copies.length), errors: BigInt(model.errors.length) },
      );
      const moved = [...after.reasons].filter(([k, v]) => v.packets !== before.reasons.get(k)!.packets).map(([k]) => k.replace(/^ELECTRODE_R_/, ''));
      assert.deepEqual(moved, c.reason ? [c.reason] : []);
    });
  }
});
