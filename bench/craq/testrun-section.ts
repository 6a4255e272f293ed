/**
 * bench/craq's cost-per-operation section: what one clean read costs each chain node's program,
 * by BPF_PROG_TEST_RUN (no veth, no switch, no generator). A test run with `repeat` hands the
 * program the frame it rewrote the time before, so craq-bench-progs' `craq_tr` restores the
 * request frame each time and tail-calls the node's craq_node; craq_tr alone (empty slot) is
 * measured too and subtracted. The frames are the real ones: a client READ at the node, and for
 * NetChain the head's output (the READ forwarded with its trailer) into the middle, the middle's
 * into the tail.
 *
 * Figures: `node_ns_per_read` per role and mode, and per subject the node-program time a read
 * entering there costs the chain (NetCRAQ: the node's answer; NetChain: the forwards on the way
 * plus the tail's answer), as `chain_reads_per_core_s` = 1e9 / that; the switch hop's and the
 * sink's program costs for the rig's own share. Goals as in the rate section (head >= 4).
 */
import { BpfObject } from '@netaccel/bpf';
import { craq } from '@netaccel/protocol';
import { NO_PEER, craqClientFrame, encodeU32, placedKey } from '@netaccel/bpf-programs/craq';
import type { CraqConfig, CraqPeer } from '@netaccel/bpf-programs/craq';
import { CraqNodeObject } from '@netaccel/bpf-programs/craq/testing';
import type { BenchContext } from '../lib/harness.js';
import { stats } from '../lib/harness.js';

const GEN_MAX = 128;
const PORT = craq.CRAQ_DEFAULT_PORT;
const ROLE = ['head', 'middle', 'tail'] as const;
const KEY = craq.craqKey('/registry/leases/kube-node-lease/bench');
const PEERS: CraqPeer[] = [1, 2, 3].map((i) => ({ ip4: `10.79.0.${i}`, ip6: '::', mac: `02:79:00:00:00:0${i}`, port: PORT }));
const CLIENT = { mac: '02:79:00:00:00:64', ip: '10.79.0.100', port: 40000 };

function config(i: number, netchain: boolean): CraqConfig {
  return { enabled: true, netchain, head: i === 0, tail: i === 2, epoch: 1, port: PORT, self: PEERS[i]!, pred: i > 0 ? PEERS[i - 1]! : NO_PEER, succ: i < 2 ? PEERS[i + 1]! : NO_PEER, tail_: PEERS[2]! };
}

/** gen_config's value (struct gen_cfg): the frame in slot 0. */
function genConfig(frame: Uint8Array): Buffer {
  if (frame.length > GEN_MAX) throw new Error(`testrun: a ${frame.length}-byte frame does not fit gen_config (${GEN_MAX})`);
  const b = Buffer.alloc(4 * GEN_MAX + 4 * 4 + 4 + 4); // frame[4][128], len[4], n, wkeys
  b.set(frame, 0);
  b.writeUInt32LE(frame.length, 4 * GEN_MAX);
  b.writeUInt32LE(1, 4 * GEN_MAX + 16);
  return b;
}

export async function runCraqTestRun(ctx: BenchContext, progsPath: string, opts: { repeat: number; rounds: number }, log: (m: string) => void): Promise<void> {
  const objects: { close(): void }[] = [];
  try {
    const progs = BpfObject.openFile(progsPath);
    objects.push(progs);
    progs.load();
    const nodes = ROLE.map(() => CraqNodeObject.load());
    objects.push(...nodes);
    const value = new Uint8Array(64).fill(0x61);
    const tr = progs.program('craq_tr');
    const slot = progs.map('tr_progs');
    const template = progs.map('gen_config');
    /** ns per run of craq_tr with `node` in the slot (or none), the frame restored each time. */
    const measure = (frame: Uint8Array, node: CraqNodeObject | undefined, expect: string): number => {
      template.update(encodeU32(0), genConfig(frame));
      if (node) slot.update(encodeU32(0), encodeU32(node.prog.fd));
      else slot.delete(encodeU32(0));
      const before = node?.stats();
      const samples: number[] = [];
      for (let r = 0; r < opts.rounds; r++) samples.push(tr.testRun({ data: Buffer.alloc(GEN_MAX), repeat: opts.repeat }).durationNs);
      if (node && before) {
        const after = node.stats();
        const done = (after.get(expect as never) ?? 0n) - (before.get(expect as never) ?? 0n);
        if (done !== BigInt(opts.repeat * opts.rounds)) throw new Error(`testrun: expected ${opts.repeat * opts.rounds} ${expect}, the node counted ${done}`);
      }
      return stats(samples).median;
    };
    const read = (i: number): Uint8Array => craqClientFrame(4, CLIENT, { mac: PEERS[i]!.mac, ip: PEERS[i]!.ip4, port: PORT }, { ...craq.craqReadRequest({ key: 'bench', reqId: 1n }), keyId: KEY.keyId, keyCheck: KEY.keyCheck });
    for (const o of nodes) o.putKey(KEY.keyId, placedKey(KEY.keyCheck, 1n, value));

    const wrapper = measure(read(0), undefined, '');
    const ns = new Map<string, number>();
    for (const [i, o] of nodes.entries()) {
      o.setConfig(config(i, false));
      ns.set(`netcraq-${ROLE[i]}`, measure(read(i), o, 'READ_CLEAN') - wrapper);
    }
    // NetChain: each node's input is its predecessor's output
    let frame = read(0);
    for (const [i, o] of nodes.entries()) {
      o.setConfig(config(i, true));
      ns.set(`netchain-${ROLE[i]}-${i === 2 ? 'answer' : 'forward'}`, measure(frame, o, i === 2 ? 'READ_CLEAN' : 'READ_FORWARD') - wrapper);
      if (i < 2) frame = o.run(frame).data;
    }
    // a client READ straight at the NetChain tail (a read 0 hops from it)
    ns.set('netchain-tail-client', measure(read(2), nodes[2]!, 'READ_CLEAN') - wrapper);
    const sw = progs.program('craq_switch');
    const sink = progs.program('craq_sink');
    const onePass = (p: typeof sw, data: Uint8Array): number => stats(Array.from({ length: opts.rounds }, () => p.testRun({ data, repeat: opts.repeat }).durationNs)).median;
    ns.set('rig-switch-hop', onePass(sw, read(0)));
    ns.set('rig-sink', onePass(sink, nodes[0]!.run(read(0)).data));
    ns.set('rig-tr-wrapper', wrapper);
    for (const [s, v] of ns) {
      log(`testrun ${s}: ${v.toFixed(1)} ns`);
      ctx.figure(`testrun-${s}`, 'ns_per_op', Math.round(v * 10) / 10, 'ns');
    }
    const g = (s: string): number => ns.get(s)!;
    const chainNs: Record<string, [number, number]> = {
      head: [g('netcraq-head'), g('netchain-head-forward') + g('netchain-middle-forward') + g('netchain-tail-answer')],
      middle: [g('netcraq-middle'), g('netchain-middle-forward') + g('netchain-tail-answer')],
      tail: [g('netcraq-tail'), g('netchain-tail-client')],
    };
    for (const role of ROLE) {
      const [a, b] = chainNs[role]!;
      ctx.figure(`testrun-netcraq-${role}`, 'chain_reads_per_core_s', Math.round(1e9 / a), 'reads/s');
      ctx.figure(`testrun-netchain-${role}`, 'chain_reads_per_core_s', Math.round(1e9 / b), 'reads/s');
    }
    for (const role of ROLE) {
      ctx.compare('chain_reads_per_core_s', `testrun-netcraq-${role}`, `testrun-netchain-${role}`, role === 'head' ? '>= 4' : role === 'middle' ? '>= 1.5' : '>= 0.9');
    }
  } finally {
    for (const o of objects.reverse()) o.close();
  }
}
