/**
 * bench/craq's cost-per-operation section: what one clean read costs each chain node's program,
 * by BPF_PROG_TEST_RUN (no veth, no switch, no generator). A test run with `repeat` hands the
 * program the frame it rewrote the time before, so craq-bench-progs' `craq_tr` restores the
 * request frame each time and tail-calls the node's craq_node; craq_tr alone (empty slot) is
 * measured too and subtracted. The cases run in turn, round after round, and each figure is the
 * least of its `rounds` averages over `repeat` runs: a test run can be preempted or lose its vCPU
 * (2 CPUs shared by many), which only adds time. The frames are the real ones: a client READ at
 * the node, and for NetChain the head's output (the READ forwarded with its trailer) into the next
 * node, and so on to the tail. Chains of four (the poster's setup: queries 3 hops from the tail)
 * and of three; subjects name the chain and the distance from the tail (`chain4-d3` = the head of
 * four).
 *
 * Figures: `ns_per_op` per node, role and mode, and per subject the node-program time a read
 * entering there costs the chain (NetCRAQ: the node's answer; NetChain: the forwards on the way
 * plus the tail's answer), as `chain_reads_per_core_s` = 1e9 / that; the switch hop's and the
 * sink's program costs for the rig's own share. Goals: readGoal (head >= 4).
 */
import { BpfObject } from '@netaccel/bpf';
import { craq } from '@netaccel/protocol';
import { NO_PEER, craqClientFrame, encodeU32, placedKey } from '@netaccel/bpf-programs/craq';
import type { CraqConfig, CraqPeer } from '@netaccel/bpf-programs/craq';
import { CraqNodeObject } from '@netaccel/bpf-programs/craq/testing';
import type { BenchContext } from '../lib/harness.js';
import { stats } from '../lib/harness.js';
import { GEN_MAX, encodeGenConfig } from './gen-config.js';

const PORT = craq.CRAQ_DEFAULT_PORT;
const KEY = craq.craqKey('/registry/leases/kube-node-lease/bench');
const PEERS: CraqPeer[] = [1, 2, 3, 4].map((i) => ({ ip4: `10.79.0.${i}`, ip6: '::', mac: `02:79:00:00:00:0${i}`, port: PORT }));
const CLIENT = { mac: '02:79:00:00:00:64', ip: '10.79.0.100', port: 40000 };
/** Chain lengths measured: four (the poster's: queries 3 hops from the tail) and three. */
const LENGTHS = [4, 3] as const;

function config(i: number, length: number, netchain: boolean): CraqConfig {
  const last = length - 1;
  return { enabled: true, netchain, head: i === 0, tail: i === last, epoch: 1, port: PORT, self: PEERS[i]!, pred: i > 0 ? PEERS[i - 1]! : NO_PEER, succ: i < last ? PEERS[i + 1]! : NO_PEER, tail_: PEERS[last]! };
}

/** Subject of node i in a chain of `length`: its distance from the tail. */
export const distanceName = (length: number, i: number): string => `chain${length}-d${length - 1 - i}`;

export async function runCraqTestRun(ctx: BenchContext, progsPath: string, opts: { repeat: number; rounds: number }, log: (m: string) => void): Promise<void> {
  const objects: { close(): void }[] = [];
  try {
    const progs = BpfObject.openFile(progsPath);
    objects.push(progs);
    progs.load();
    const nodes = PEERS.map(() => CraqNodeObject.load());
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
    for (const length of LENGTHS) {
      for (let i = 0; i < length; i++) cases.push({ name: `netcraq-${distanceName(length, i)}`, frame: read(i), node: { o: nodes[i]!, cfg: config(i, length, false), expect: 'READ_CLEAN' } });
      // NetChain: each node's input is its predecessor's output
      let frame = read(0);
      for (let i = 0; i < length; i++) {
        const tail = i === length - 1;
        cases.push({ name: `netchain-${distanceName(length, i)}-${tail ? 'answer' : 'forward'}`, frame, node: { o: nodes[i]!, cfg: config(i, length, true), expect: tail ? 'READ_CLEAN' : 'READ_FORWARD' } });
        nodes[i]!.setConfig(config(i, length, true));
        if (!tail) frame = nodes[i]!.run(frame).data;
      }
      // a client READ straight at the NetChain tail (a read 0 hops from it)
      cases.push({ name: `netchain-${distanceName(length, length - 1)}-client`, frame: read(length - 1), node: { o: nodes[length - 1]!, cfg: config(length - 1, length, true), expect: 'READ_CLEAN' } });
    }
    const arm = (c: Case): void => {
      template.update(encodeU32(0), encodeGenConfig({ frames: [c.frame] }));
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
    for (const length of LENGTHS) {
      for (let i = 0; i < length; i++) {
        const d = distanceName(length, i);
        // NetChain: the forwards from node i to the tail, and the tail's answer (its own client's at d0)
        let chain = i === length - 1 ? g(`netchain-${d}-client`) : g(`netchain-${distanceName(length, length - 1)}-answer`);
        for (let j = i; j < length - 1; j++) chain += g(`netchain-${distanceName(length, j)}-forward`);
        ctx.figure(`testrun-netcraq-${d}`, 'chain_reads_per_core_s', Math.round(1e9 / g(`netcraq-${d}`)), 'reads/s');
        ctx.figure(`testrun-netchain-${d}`, 'chain_reads_per_core_s', Math.round(1e9 / chain), 'reads/s');
      }
    }
    for (const length of LENGTHS) {
      for (let i = 0; i < length; i++) {
        const d = distanceName(length, i);
        ctx.compare('chain_reads_per_core_s', `testrun-netcraq-${d}`, `testrun-netchain-${d}`, readGoal(length, i));
      }
    }
  } finally {
    for (const o of objects.reverse()) o.close();
  }
}

/**
 * NetCRAQ / NetChain clean-read goal at node i of a chain of `length`: the issue's >= 4 at the
 * head (the poster's 4.08x, queries 3 hops from the tail; the issue also asks it of a chain of
 * three), and for the others what their hop counts allow with a margin (d2 >= 2, d1 >= 1.5),
 * the tail no worse than NetChain's (>= 0.9).
 */
export function readGoal(length: number, i: number): string {
  const d = length - 1 - i;
  if (i === 0) return '>= 4';
  return d === 2 ? '>= 2' : d === 1 ? '>= 1.5' : '>= 0.9';
}
