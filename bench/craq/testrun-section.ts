/**
 * bench/craq's cost-per-operation section: what one clean read costs each chain node's program,
 * by BPF_PROG_TEST_RUN (no veth, no switch, no generator). A test run with `repeat` hands the
 * program the frame it rewrote the time before, so craq-bench-progs' `craq_tr` restores the
 * request frame each time and tail-calls the node's craq_node; craq_tr alone (empty slot) is
 * measured too and subtracted. The cases run in turn, round after round, and each figure is the
 * least of its `rounds` averages over `repeat` runs: a test run can be preempted or lose its vCPU
 * (2 CPUs shared by many), which only adds time. The frames are the real ones: a client READ at the node, and for
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
    const read = (i: number): Uint8Array => craqClientFrame(4, CLIENT, { mac: PEERS[i]!.mac, ip: PEERS[i]!.ip4, port: PORT }, { ...craq.craqReadRequest({ key: 'bench', reqId: 1n }), keyId: KEY.keyId, keyCheck: KEY.keyCheck });
    for (const o of nodes) o.putKey(KEY.keyId, placedKey(KEY.keyCheck, 1n, value));
    interface Case {
      readonly name: string;
      readonly frame: Uint8Array;
      /** The node in the slot and its config, or none (craq_tr alone). */
      readonly node?: { readonly o: CraqNodeObject; readonly cfg: CraqConfig; readonly expect: 'READ_CLEAN' | 'READ_FORWARD' };
    }
    const cases: Case[] = [{ name: 'rig-tr-wrapper', frame: read(0) }];
    for (const [i, o] of nodes.entries()) cases.push({ name: `netcraq-${ROLE[i]}`, frame: read(i), node: { o, cfg: config(i, false), expect: 'READ_CLEAN' } });
    // NetChain: each node's input is its predecessor's output
    let frame = read(0);
    for (const [i, o] of nodes.entries()) {
      cases.push({ name: `netchain-${ROLE[i]}-${i === 2 ? 'answer' : 'forward'}`, frame, node: { o, cfg: config(i, true), expect: i === 2 ? 'READ_CLEAN' : 'READ_FORWARD' } });
      o.setConfig(config(i, true));
      if (i < 2) frame = o.run(frame).data;
    }
    // a client READ straight at the NetChain tail (a read 0 hops from it)
    cases.push({ name: 'netchain-tail-client', frame: read(2), node: { o: nodes[2]!, cfg: config(2, true), expect: 'READ_CLEAN' } });
    const arm = (c: Case): void => {
      template.update(encodeU32(0), genConfig(c.frame));
      if (c.node) {
        c.node.o.setConfig(c.node.cfg);
        slot.update(encodeU32(0), encodeU32(c.node.o.prog.fd));
      } else {
        slot.delete(encodeU32(0));
      }
    };
    const once = (repeat: number): number => tr.testRun({ data: Buffer.alloc(GEN_MAX), repeat }).durationNs;
    // each case does what it should, counted by the node
    for (const c of cases.filter((x) => x.node)) {
      arm(c);
      const before = c.node!.o.stats().get(c.node!.expect) ?? 0n;
      once(1000);
      const done = (c.node!.o.stats().get(c.node!.expect) ?? 0n) - before;
      if (done !== 1000n) throw new Error(`testrun ${c.name}: expected 1000 ${c.node!.expect}, the node counted ${done}`);
    }
    // rounds over all cases in turn (a disturbance lands on every case alike); the least of each
    const samples = new Map<string, number[]>();
    for (let r = 0; r < opts.rounds; r++) {
      for (const c of cases) {
        arm(c);
        samples.set(c.name, [...(samples.get(c.name) ?? []), once(opts.repeat)]);
      }
    }
    const wrapper = stats(samples.get('rig-tr-wrapper')!).min;
    const ns = new Map<string, number>();
    for (const c of cases) if (c.node) ns.set(c.name, stats(samples.get(c.name)!).min - wrapper);
    const sw = progs.program('craq_switch');
    const sink = progs.program('craq_sink');
    const onePass = (p: typeof sw, data: Uint8Array): number => stats(Array.from({ length: opts.rounds }, () => p.testRun({ data, repeat: opts.repeat }).durationNs)).min;
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
