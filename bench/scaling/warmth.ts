/**
 * How the cost of one xlb run depends on how often its program runs (README "Why the cost per
 * request rises"): the same connection-table hit (an ACK of an established flow, L2 DSR, IPv4)
 * through BPF_PROG_TEST_RUN, repeat=1 on a fresh packet per call (the output differs from the
 * input), the calling thread pinned to CPU 0, in three ways that take turns in blocks:
 *
 * - `one-program`: every call to one balancer's program (its code and maps stay warm);
 * - `four-programs`: the calls taken in turn by four programs, each loaded with its own maps (four
 *   balancers on one CPU under the same total load: each runs a quarter as often);
 * - `one-program-other-work`: one program, with `OTHER_WORK_KIB` of memory written between two
 *   calls (what wrk, nginx and the kernel do between two packets of a balancer on a shared CPU).
 *
 *   node --import tsx bench/scaling/warmth.ts        (root: BPF)
 *
 * Prints the median over rounds of each way's median kernel-measured run time, and its ratio to
 * `one-program` in the same round. The harness's own cost (the timer, bh disabling) is in every
 * figure alike.
 */
import { TCP_FLAGS, buildPacket, tcp } from '@netaccel/protocol';
import { CLIENT, MAC, XlbObject, pinThreadToCpu, worldEntries, worldVip, xlbWorld } from '@netaccel/bpf-programs/xlb/testing';
import { stats } from '../lib/harness.js';

const PROGRAMS = 4;
const ROUNDS = 15;
const BLOCK = 200;
const OTHER_WORK_KIB = 2048;
const XDP_TX = 3;

const WAYS = ['one-program', 'four-programs', 'one-program-other-work'] as const;
type Way = (typeof WAYS)[number];

function main(): void {
  const world = xlbWorld();
  const progs: XlbObject[] = [];
  const restore = pinThreadToCpu(0);
  try {
    for (let i = 0; i < PROGRAMS; i++) {
      const x = XlbObject.load('balancer');
      progs.push(x);
      x.install(worldEntries(world, x.maglevSize));
    }
    const vip = worldVip(world, 'l2-v4').key.address;
    const pkt = (flags: number): Uint8Array => buildPacket(tcp({ src: CLIENT.v4, dst: vip, sport: 30000, dport: 80, flags, payload: 'katran tst', eth: { src: MAC.router, dst: MAC.lb } }));
    for (const x of progs) {
      const open = x.run(pkt(TCP_FLAGS.SYN));
      if (open.verdict !== 'TX') throw new Error(`the flow's SYN gave ${open.verdict}`);
    }
    const hit = pkt(TCP_FLAGS.ACK);
    const other = Buffer.alloc(OTHER_WORK_KIB * 1024);
    let fill = 0;
    const call = (x: XlbObject): number => {
      const r = x.run(hit);
      if (r.retval !== XDP_TX) throw new Error(`a hit gave ${r.verdict}`);
      return r.durationNs;
    };
    const perRound = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
    const ratios = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const samples = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
      for (let block = 0; block < 10; block++) {
        for (const way of WAYS) {
          const out = samples.get(way)!;
          for (let i = 0; i < BLOCK; i++) {
            if (way === 'four-programs') out.push(call(progs[i % PROGRAMS]!));
            else {
              if (way === 'one-program-other-work') other.fill(fill++ & 255);
              out.push(call(progs[0]!));
            }
          }
        }
      }
      const base = stats(samples.get('one-program')!).median;
      for (const way of WAYS) {
        const m = stats(samples.get(way)!).median;
        perRound.get(way)!.push(m);
        ratios.get(way)!.push(m / base);
      }
    }
    process.stdout.write(`xlb L2 DSR ct-hit, BPF_PROG_TEST_RUN repeat=1, CPU 0, ${ROUNDS} rounds of ${10 * BLOCK} calls per way\n`);
    for (const way of WAYS) {
      process.stdout.write(`${way.padEnd(24)} ${stats(perRound.get(way)!).median.toFixed(0).padStart(6)} ns   x${stats(ratios.get(way)!).median.toFixed(2)} of one-program (rounds: ${stats(ratios.get(way)!).min.toFixed(2)}..${stats(ratios.get(way)!).max.toFixed(2)})\n`);
    }
  } finally {
    for (const x of progs) x.close();
    restore();
  }
}

main();
