/**
 * Figure 3 of the poster: mixed workloads with queries at the node 3 hops from the tail (the head
 * of the chain of four), NetCRAQ against NetChain on the same rig, same run (rig.ts).
 *
 * The generator cycles through up to four request frames: 0, 25, 50, 75 and 100 % WRITEs
 * (16-byte value), the rest READs of KEY. `-wNN` writes other hot keys than the one read (craq_gen
 * moves each write over W_KEYS placed keys, so writes do not queue CRAQ_MAX_DIRTY deep on one key),
 * `-wNN-same-key` writes the key that is read (reads in a batch find it dirty: a version query to
 * the tail). Every write has a new request id. Per case: `ok_ops_per_s` (replies with status OK; a
 * write answered RETRY does not count), `ops_per_s` (all replies), the dirty-version counts
 * (`dirty_versions_per_s`: versions the head stored dirty, one per write accepted;
 * `dirty_reads_per_s`: reads the head sent to the tail as a version query;
 * `dirty_full_retries_per_s`: writes refused with CRAQ_MAX_DIRTY versions in flight;
 * `dirty_held_mean` / `dirty_held_max`: dirty versions the head held, sampled every 250 ms;
 * `unanswered_per_s`: frames the rig lost, each leaving a version dirty for the run).
 *
 * `ok_ops_per_path_cpu_s`: OK replies per CPU-second of the whole path (craq-gen's thread and
 * ksoftirqd, rig.ts), which other tenants' share of the CPUs does not move.
 *
 * Account of each ratio (what a write costs in each mode): w100 gives the path CPU time of a
 * write (W), w0 of a read (R), both per mode (a write at the head of four runs 7 node programs and
 * 8 switch traversals in NetCRAQ, where the tail's ACK comes back up to the head, and 4 and 5 in
 * NetChain, whose tail answers the writer); the rig runs one operation's whole path on one
 * CPU, so a mix at write share w costs w W + (1 - w) R per operation and the ratio the rig allows is
 * (w W_nc + (1 - w) R_nc) / (w W_cr + (1 - w) R_cr) (`model-*` `ratio_rig_model`). The same with
 * the nodes' program time per operation (kernel run-time stats, one more run per case) is the
 * ratio a free rig would allow (`ratio_program_model`); `node_runs_per_op` / `switch_runs_per_op`
 * count the program runs an operation costs. `-w100-req-id-0`: writes with request id 0, which no
 * node records in its key's request ring, craq_key.reqs (bpf/craq's at-most-once record): `request_record_*_per_write` is
 * what recording a request adds to a write.
 */
import type { BenchContext } from '../lib/harness.js';
import { stats } from '../lib/harness.js';
import { KEY, W_KEYS } from './rig.js';
import type { CraqRig, Run } from './rig.js';

const LENGTH = 4;
const HEAD = 0;
const WHERE = `chain${LENGTH}-d${LENGTH - 1}`;

interface MixCase {
  readonly w: number;
  readonly sameKey: boolean;
  /** Writes with request id 0 (not recorded in craq_key.reqs): the at-most-once record's cost. */
  readonly anonymous?: boolean;
  readonly netchain: boolean;
  readonly subject: string;
  readonly hexes: string[];
}

/** Frames for a write share of w/4: writes first, then reads, in a cycle of four (one for w0/w100). */
function mixFrames(quarters: number, write: string, read: string): string[] {
  if (quarters === 0) return [read];
  if (quarters === 4) return [write];
  return [...Array<string>(quarters).fill(write), ...Array<string>(4 - quarters).fill(read)];
}

export const mixName = (netchain: boolean, w: number, sameKey: boolean, anonymous = false): string =>
  `${netchain ? 'netchain' : 'netcraq'}-${WHERE}-w${w}${sameKey ? '-same-key' : ''}${anonymous ? '-req-id-0' : ''}`;

export async function runCraqMixed(ctx: BenchContext, rig: CraqRig, o: { seconds: number; rounds: number }, log: (m: string) => void): Promise<void> {
  const cases: MixCase[] = [];
  for (const quarters of [0, 1, 2, 3, 4]) {
    for (const netchain of [false, true]) {
      const w = quarters * 25;
      cases.push({ w, sameKey: false, netchain, subject: mixName(netchain, w, false), hexes: mixFrames(quarters, rig.writeHex(HEAD), rig.readHex(HEAD)) });
      if (quarters > 0 && quarters < 4) cases.push({ w, sameKey: true, netchain, subject: mixName(netchain, w, true), hexes: mixFrames(quarters, rig.writeHex(HEAD, KEY), rig.readHex(HEAD)) });
      if (quarters === 4) cases.push({ w, sameKey: false, anonymous: true, netchain, subject: mixName(netchain, w, false, true), hexes: mixFrames(quarters, rig.writeHex(HEAD), rig.readHex(HEAD)) });
    }
  }
  const run = (c: MixCase, timed: boolean): Promise<Run> =>
    rig.generate({ length: LENGTH, netchain: c.netchain, hexes: c.hexes, label: `head, w${c.w}${c.sameKey ? ' same key' : ''}${c.anonymous ? ' request id 0' : ''}${timed ? ' (run-time stats on)' : ''}`, seconds: o.seconds, timed, wkeys: c.sameKey ? 1 : W_KEYS, anonymous: c.anonymous, sampleDirty: !timed });
  const samples = new Map<string, Run[]>();
  for (let round = 0; round < o.rounds; round++) {
    const order = [...cases.slice(round % cases.length), ...cases.slice(0, round % cases.length)];
    for (const c of order) samples.set(c.subject, [...(samples.get(c.subject) ?? []), await run(c, false)]);
  }
  const med = (rs: readonly Run[], f: (r: Run) => number): number => stats(rs.map(f)).median;
  for (const c of cases) {
    const rs = samples.get(c.subject)!;
    ctx.figure(c.subject, 'ok_ops_per_s', Math.round(med(rs, (r) => r.ok / r.seconds)), 'ops/s');
    ctx.figure(c.subject, 'ops_per_s', Math.round(med(rs, (r) => (r.ok + r.other) / r.seconds)), 'ops/s');
    ctx.figure(c.subject, 'ok_ops_per_path_cpu_s', Math.round(med(rs, (r) => r.ok / r.cpuSeconds)), 'ops/s');
    ctx.figure(c.subject, 'path_cpu_ns_per_op', Math.round(med(rs, (r) => (r.cpuSeconds * 1e9) / (r.ok + r.other))), 'ns');
    ctx.figure(c.subject, 'dirty_versions_per_s', Math.round(med(rs, (r) => r.headStat('WRITE') / r.seconds)), 'versions/s');
    ctx.figure(c.subject, 'dirty_reads_per_s', Math.round(med(rs, (r) => r.headStat('READ_QUERY') / r.seconds)), 'reads/s');
    ctx.figure(c.subject, 'dirty_full_retries_per_s', Math.round(med(rs, (r) => r.headStat('RETRY') / r.seconds)), 'ops/s');
    ctx.figure(c.subject, 'dirty_held_mean', Math.round(med(rs, (r) => r.dirtyMean) * 100) / 100, 'versions');
    ctx.figure(c.subject, 'dirty_held_max', med(rs, (r) => r.dirtyMax), 'versions');
    ctx.figure(c.subject, 'unanswered_per_s', Math.round(med(rs, (r) => r.unanswered / r.seconds)), 'frames/s');
    const dropped = rs.reduce((a, r) => a + r.ringDropped, 0);
    if (dropped > 0) log(`${c.subject}: the tail dropped ${dropped} commits (ring buffer full)`);
  }
  // the nodes' program time per operation: one more run of each other-key case with the stats on
  const timed = new Map<string, Run>();
  for (const c of cases.filter((x) => !x.sameKey)) timed.set(c.subject, await run(c, true));
  for (const [subject, r] of timed) {
    const ops = r.ok + r.other;
    if (ops === 0) throw new Error(`craq bench: ${subject}: no replies in the timed run`);
    ctx.figure(subject, 'node_ns_per_op', Math.round(r.nodeNs / ops), 'ns');
    ctx.figure(subject, 'node_runs_per_op', Math.round((r.nodeRuns / ops) * 100) / 100, 'runs');
    ctx.figure(subject, 'switch_runs_per_op', Math.round((r.switchRuns / ops) * 100) / 100, 'runs');
    ctx.figure(subject, 'switch_ns_per_op', Math.round(r.switchNs / ops), 'ns');
  }
  for (const metric of ['ok_ops_per_s', 'ok_ops_per_path_cpu_s']) {
    for (const w of [0, 25, 50, 75]) ctx.compare(metric, mixName(false, w, false), mixName(true, w, false), '>= 2');
    for (const w of [25, 50, 75]) ctx.compare(metric, mixName(false, w, true), mixName(true, w, true), '>= 2');
    // writes only: CRAQ's write runs 7 node programs where chain replication's runs 4 (NetChain:
    // the tail answers), so NetCRAQ should lose, by at most the hop count's 4/7
    ctx.compare(metric, mixName(false, 100, false), mixName(true, 100, false), '>= 0.57');
  }

  // the account: the ratio the rig's path costs allow, and the one the nodes' program costs allow
  const fig = (subject: string, metric: string): number => ctx.figures.find((f) => f.subject === subject && f.metric === metric)!.value;
  const pathNs = (nc: boolean, w: number): number => fig(mixName(nc, w, false), 'path_cpu_ns_per_op');
  const nodeNs = (nc: boolean, w: number): number => fig(mixName(nc, w, false), 'node_ns_per_op');
  for (const nc of [false, true]) {
    const mode = nc ? 'netchain' : 'netcraq';
    // what recording the request (craq_key.reqs, at-most-once) adds to a write's path
    ctx.figure(`${mode}-${WHERE}-write`, 'request_record_cpu_ns_per_write', Math.round(pathNs(nc, 100) - fig(mixName(nc, 100, false, true), 'path_cpu_ns_per_op')), 'ns');
    ctx.figure(`${mode}-${WHERE}-write`, 'request_record_node_ns_per_write', Math.round(nodeNs(nc, 100) - fig(mixName(nc, 100, false, true), 'node_ns_per_op')), 'ns');
    ctx.figure(`${mode}-${WHERE}-read`, 'path_cpu_ns_per_op', Math.round(pathNs(nc, 0)), 'ns');
    ctx.figure(`${mode}-${WHERE}-write`, 'path_cpu_ns_per_op', Math.round(pathNs(nc, 100)), 'ns');
    ctx.figure(`${mode}-${WHERE}-read`, 'node_ns_per_op', nodeNs(nc, 0), 'ns');
    ctx.figure(`${mode}-${WHERE}-write`, 'node_ns_per_op', nodeNs(nc, 100), 'ns');
  }
  for (const w of [25, 50, 75]) {
    const s = w / 100;
    const mix = (f: (nc: boolean, w: number) => number, nc: boolean): number => s * f(nc, 100) + (1 - s) * f(nc, 0);
    const rigModel = mix(pathNs, true) / mix(pathNs, false);
    const progModel = mix(nodeNs, true) / mix(nodeNs, false);
    const measured = fig(mixName(false, w, false), 'ok_ops_per_path_cpu_s') / fig(mixName(true, w, false), 'ok_ops_per_path_cpu_s');
    ctx.figure(`model-${WHERE}-w${w}`, 'ratio_rig_model', Math.round(rigModel * 1000) / 1000, 'x');
    ctx.figure(`model-${WHERE}-w${w}`, 'ratio_program_model', Math.round(progModel * 1000) / 1000, 'x');
    // the same with writes that record no request (request id 0)
    const anon = (f: (nc: boolean, w: number) => number, nc: boolean): number => s * fig(mixName(nc, 100, false, true), f === pathNs ? 'path_cpu_ns_per_op' : 'node_ns_per_op') + (1 - s) * f(nc, 0);
    ctx.figure(`model-${WHERE}-w${w}`, 'ratio_rig_model_req_id_0', Math.round((anon(pathNs, true) / anon(pathNs, false)) * 1000) / 1000, 'x');
    log(`w${w}: measured ${measured.toFixed(3)}x OK ops per path CPU-s; the rig's path costs allow ${rigModel.toFixed(3)}x, the nodes' program costs ${progModel.toFixed(3)}x`);
  }
}
