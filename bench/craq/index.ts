/**
 * NetCRAQ benchmark (issue 14). Sections, in order (CRAQ_BENCH_SECTIONS=testrun,rate,e2e):
 *   testrun  cost per operation of craq_node by role and mode, BPF_PROG_TEST_RUN (testrun-section.ts)
 *   rate     the poster's figures 2 and 3 on a chain of three XDP nodes (this file, below)
 *   e2e      placement latency through the real craq-scheduler, and reads of the hot keys through
 *            @netaccel/craq vs etcd3 on a real etcd cluster (e2e-section.ts)
 *
 *   node --import tsx bench/run.ts craq        (= make bench NAME=craq; root)
 *   CRAQ_BENCH_SECONDS=2 CRAQ_BENCH_ROUNDS=3   duration of one measurement, rounds (medians)
 *   CRAQ_BENCH_MIXED_ROUNDS=2                   rounds of the mixed workloads (14 cases)
 *   CRAQ_BENCH_E2E_SECONDS=2 CRAQ_BENCH_E2E_ROUNDS=2 CRAQ_BENCH_E2E_CONCURRENCY=16 CRAQ_BENCH_E2E_NICE=-5
 *
 * Rate section: maximum clean-read rate at each node of a chain of three XDP nodes, by distance
 * from the tail, NetCRAQ (every node answers a clean read) against NetChain (chain replication:
 * reads travel to the tail), in one run on the same chain.
 *
 * Rig (namespaces prefix cqb): n1 → n2 → n3 (bpf/craq's craq_node in native XDP on eth0, one
 * object per node) and a client c, joined by a switch node whose ports run craq_switch
 * (redirect by destination MAC, so frames stay xdp_frames end to end). The generator craq-gen
 * runs craq_gen with BPF_PROG_TEST_RUN in live-frame mode on c:eth0: one 82-byte READ of a placed
 * key (64-byte value) to the node under test, transmitted in batches of 64, as fast as the
 * kernel takes them. craq_sink on c:eth0 counts the READ_REPLY frames and drops them.
 * `reads_per_s` = replies counted at the client / generator run time (`path_ns_per_read` its
 * inverse; `rig-switch-loop` the same without a chain node: generator → switch → sink).
 * `reads_per_node_cpu_s` = replies / the time the kernel's run-time stats (bpf_enable_stats)
 * charge to the three nodes' craq_node programs, from one more run per case with the stats on
 * (they read the clock twice per program run, every program: the other runs have them off):
 * the chain's read capacity per core of program time, without the generator, switch, sink and
 * veth costs that both modes share.
 *
 * Figure 3 (mixed workloads): at the head (2 hops from the tail), the generator cycles through
 * request frames with 0, 25, 50 and 75% WRITEs (16-byte value): `-wNN` writes another hot key
 * than the one read (as when the writes of a skewed workload spread over keys), `-wNN-same-key`
 * writes the key that is read (every read in a batch finds it dirty); `ok_ops_per_s`
 * counts replies with status OK (a write answered RETRY because CRAQ_MAX_DIRTY versions were in
 * flight does not count); `dirty_reads_per_s` are reads the head had to send to the tail as a
 * version query, `dirty_full_retries_per_s` the writes it refused.
 *
 * What bounds the figures: on veths every receive runs in the softirq of whoever transmitted,
 * so the generator's CPU carries the whole path (generator, switch hops, nodes, sink), closed
 * loop; the figure is 1 / (CPU time of one read's whole path), on 2 CPUs shared with other
 * tenants. A NetChain read at the head costs three node programs and four switch hops, a
 * NetCRAQ read one and two; generator and sink cost the same in both. Modes and nodes run
 * interleaved in each round (order rotated); figures are medians over rounds.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { BpfObject, enableRunTimeStats } from '@netaccel/bpf';
import { Lab } from '@netaccel/netlab';
import type { LabSpec } from '@netaccel/netlab';
import { craq } from '@netaccel/protocol';
import { NO_PEER, craqClientFrame, encodeU32, placedKey, sumCounters } from '@netaccel/bpf-programs/craq';
import type { CraqConfig, CraqPeer } from '@netaccel/bpf-programs/craq';
import { CraqNodeObject } from '@netaccel/bpf-programs/craq/testing';
import type { BenchContext, Benchmark } from '../lib/harness.js';
import { stats } from '../lib/harness.js';
import { runCraqE2e } from './e2e-section.js';
import { runCraqTestRun } from './testrun-section.js';
import { buildCraqTools } from './tools.js';

const PORT = craq.CRAQ_DEFAULT_PORT;
const NODES = ['n1', 'n2', 'n3'] as const;
/** Subjects by node: head is 2 hops from the tail, middle 1, tail 0. */
const ROLE = ['head', 'middle', 'tail'] as const;
const IP = { n1: '10.79.0.1', n2: '10.79.0.2', n3: '10.79.0.3', c: '10.79.0.100' } as const;
const KEY = craq.craqKey('/registry/leases/kube-node-lease/bench');
/** The key the mixed workloads write (reads stay on KEY), unless a case writes KEY itself. */
const KEY_W = craq.craqKey('/registry/leases/kube-node-lease/bench-w');
/** The mixed workloads' writes to other keys cycle over this many key ids from KEY_W's (craq_gen). */
const W_KEYS = 64;
const wKeyId = (j: number): bigint => (KEY_W.keyId + BigInt(j)) & 0xffffffffffffffffn;
const EPOCH = 1;

const spec: LabSpec = {
  name: 'craqb',
  nodes: { sw: {}, n1: {}, n2: {}, n3: {}, c: {} },
  links: [
    { a: 'sw:p1', b: 'n1:eth0', bAddr: [`${IP.n1}/24`] },
    { a: 'sw:p2', b: 'n2:eth0', bAddr: [`${IP.n2}/24`] },
    { a: 'sw:p3', b: 'n3:eth0', bAddr: [`${IP.n3}/24`] },
    { a: 'sw:p4', b: 'c:eth0', bAddr: [`${IP.c}/24`] },
  ],
};

function config(i: number, macs: readonly string[], netchain: boolean): CraqConfig {
  const peer = (j: number): CraqPeer => ({ ip4: IP[NODES[j]!], ip6: '::', mac: macs[j]!, port: PORT });
  return { enabled: true, netchain, head: i === 0, tail: i === 2, epoch: EPOCH, port: PORT, self: peer(i), pred: i > 0 ? peer(i - 1) : NO_PEER, succ: i < 2 ? peer(i + 1) : NO_PEER, tail_: peer(2) };
}

function macKey(mac: string): Buffer {
  const b = Buffer.alloc(8);
  Buffer.from(mac.split(':').map((x) => parseInt(x, 16))).copy(b, 0);
  return b;
}

async function ifaceOf(lab: Lab, node: string, ifname: string): Promise<{ mac: string; ifindex: number }> {
  const l = (await lab.links(node)).find((x) => x.ifname === ifname);
  if (!l?.address) throw new Error(`${node}:${ifname}: no such interface`);
  return { mac: l.address, ifindex: l.ifindex };
}

export async function runCraqBench(ctx: BenchContext, log: (m: string) => void = (m) => console.error(`bench: craq: ${m}`)): Promise<void> {
  const seconds = Number(process.env.CRAQ_BENCH_SECONDS ?? 2);
  const rounds = Number(process.env.CRAQ_BENCH_ROUNDS ?? 3);
  const mixedRounds = Number(process.env.CRAQ_BENCH_MIXED_ROUNDS ?? 2);
  const tools = buildCraqTools();
  const lab = new Lab(spec, { prefix: 'cqb' });
  const objects: { close(): void }[] = [];
  const pins: string[] = [];
  const pin = (p: { pin(path: string): void }, name: string): string => {
    const path = `/sys/fs/bpf/cqb-${process.pid}-${name}`;
    rmSync(path, { force: true });
    p.pin(path);
    pins.push(path);
    return path;
  };
  try {
    await lab.up();
    const progs = BpfObject.openFile(tools.progs);
    objects.push(progs);
    progs.load();
    const macs = await Promise.all(NODES.map(async (n) => (await ifaceOf(lab, n, 'eth0')).mac));
    const clientMac = (await ifaceOf(lab, 'c', 'eth0')).mac;
    const nodes = NODES.map(() => CraqNodeObject.load(tools.node));
    objects.push(...nodes);
    const value = new Uint8Array(64).fill(0x61);
    for (const [i, n] of NODES.entries()) {
      nodes[i]!.setConfig(config(i, macs, false));
      nodes[i]!.putKey(KEY.keyId, placedKey(KEY.keyCheck, 1n, value));
      await lab.exec(n, ['ip', '-force', 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'pinned', pin(nodes[i]!.prog, n)], { sysfs: 'host' });
    }
    const sw = pin(progs.program('craq_switch'), 'switch');
    const fdb = progs.map('fdb');
    for (const [j, mac] of [...macs, clientMac].entries()) {
      const port = await ifaceOf(lab, 'sw', `p${j + 1}`);
      fdb.update(macKey(mac), encodeU32(port.ifindex));
      await lab.exec('sw', ['ip', '-force', 'link', 'set', 'dev', `p${j + 1}`, 'xdpdrv', 'pinned', sw], { sysfs: 'host' });
    }
    await lab.exec('c', ['ip', '-force', 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'pinned', pin(progs.program('craq_sink'), 'sink')], { sysfs: 'host' });

    // requests for KEY (placed by id; the key text is not needed)
    const frameHex = (i: number, msg: craq.CraqMessage, key = KEY): string =>
      Buffer.from(craqClientFrame(4, { mac: clientMac, ip: IP.c, port: 40000 }, { mac: macs[i]!, ip: IP[NODES[i]!], port: PORT }, { ...msg, keyId: key.keyId, keyCheck: key.keyCheck })).toString('hex');
    const readHex = (i: number): string => frameHex(i, craq.craqReadRequest({ key: 'bench', reqId: 1n }));
    // the rig alone: a READ_REPLY as n1 would send it, generator → switch → sink (a 16-byte value:
    // the generator's frames are at most 128 bytes; XDP frames are not copied on veths)
    const req = { ...craq.craqReadRequest({ key: 'bench', reqId: 1n }), keyId: KEY.keyId, keyCheck: KEY.keyCheck };
    const loopHex = Buffer.from(craqClientFrame(4, { mac: macs[0]!, ip: IP.n1, port: PORT }, { mac: clientMac, ip: IP.c, port: 40000 }, craq.craqReply(req, craq.CraqStatus.OK, { version: 1n, value: value.subarray(0, 16) }))).toString('hex');
    // UDP checksum 0 (none, bytes 40-41): craq_gen rewrites the key id of these
    const writeHex = (i: number, key = KEY_W): string => {
      const hex = frameHex(i, craq.craqWriteRequest({ key: 'bench', reqId: 2n, value: new Uint8Array(16).fill(0x77) }), key);
      return `${hex.slice(0, 80)}0000${hex.slice(84)}`;
    };
    // the tail's commits, drained by craq-gen while it runs (the scheduler does it in production)
    const ring = pin(nodes[2]!.map('craq_commits'), 'commits');
    const counter = (k: number): bigint => sumCounters(progs.map('stats').lookupPerCpu(encodeU32(k)) ?? []).packets;

    interface Run {
      /** ns spent in the three nodes' craq_node programs (kernel run-time stats). */
      readonly nodeNs: number;
      readonly ok: number;
      readonly other: number;
      readonly seconds: number;
      readonly stat: (name: 'READ_QUERY' | 'RETRY') => number;
    }
    const generate = async (netchain: boolean, hexes: string[], label: string, timed = false, wkeys = 1): Promise<Run> => {
      // every measurement starts from clean keys: a frame the rig drops (a full veth ring) can
      // leave a write dirty at the head until the control plane repairs it (bpf/craq/README.md)
      for (const [j, o] of nodes.entries()) {
        o.setConfig(config(j, macs, netchain));
        o.putKey(KEY.keyId, placedKey(KEY.keyCheck, 1n, value));
        for (let j = 0; j < W_KEYS; j++) o.putKey(wKeyId(j), placedKey(KEY_W.keyCheck, 1n, value));
      }
      const ok0 = counter(0);
      const other0 = counter(4);
      const head0 = nodes[0]!.stats();
      const lost0 = nodes[2]!.reasons().get('RINGBUF') ?? 0n;
      // the kernel's run-time stats read the clock twice per program run of every program (a
      // paravirtual clock here: more than craq_node's own time), so only the runs that measure
      // the nodes' program time have them on
      const runTime = timed ? enableRunTimeStats() : undefined;
      const ns0 = nodes.reduce((a, o) => a + o.prog.info().runTimeNs, 0n);
      let r;
      try {
        r = await lab.exec('c', [tools.gen, tools.progs, 'eth0', String(seconds), String(wkeys), ring, ...hexes], { timeoutMs: (seconds + 30) * 1000, sysfs: 'host' });
      } finally {
        runTime?.close();
      }
      const out = JSON.parse(r.stdout) as { frames: number; seconds: number };
      const ok = Number(counter(0) - ok0);
      const other = Number(counter(4) - other0);
      const head1 = nodes[0]!.stats();
      const nodeNs = Number(nodes.reduce((a, o) => a + o.prog.info().runTimeNs, 0n) - ns0);
      const lost = (nodes[2]!.reasons().get('RINGBUF') ?? 0n) - lost0;
      log(`${netchain ? 'netchain' : 'netcraq'} ${label}: ${ok} OK + ${other} other replies / ${out.frames} frames in ${out.seconds.toFixed(2)} s = ${(ok / out.seconds).toFixed(0)} OK/s${lost > 0n ? `, ${lost} commits dropped by the tail (ring buffer full)` : ''}`);
      return { nodeNs, ok, other, seconds: out.seconds, stat: (name) => Number((head1.get(name) ?? 0n) - (head0.get(name) ?? 0n)) };
    };
    /** [reads per second, reads per second of the nodes' program time (timed runs only)] */
    const measure = async (netchain: boolean, i: number, timed = false): Promise<[number, number]> => {
      const run = await generate(netchain, [readHex(i)], `${ROLE[i]!}${timed ? ' (run-time stats on)' : ''}`, timed);
      const reads = run.ok + run.other;
      return [reads / run.seconds, run.nodeNs > 0 ? reads / (run.nodeNs / 1e9) : 0];
    };

    // warm-up, and a check that both modes answer at every node
    for (const nc of [false, true]) for (const i of [0, 1, 2]) if ((await measure(nc, i))[0] <= 0) throw new Error(`craq bench: no replies (${nc ? 'netchain' : 'netcraq'}, ${ROLE[i]})`);
    const samples = new Map<string, number[]>();
    const perCpu = new Map<string, number[]>();
    const cases = [false, true].flatMap((nc) => [0, 1, 2].map((i) => ({ nc, i, subject: `${nc ? 'netchain' : 'netcraq'}-${ROLE[i]}` })));
    // with them, what the rig costs without a chain node: one switch traversal (two veth hops), generator and sink
    const LOOP = { nc: false, i: -1, subject: 'rig-switch-loop' };
    const withLoop = [...cases, LOOP];
    for (let round = 0; round < rounds; round++) {
      const order = [...withLoop.slice(round % withLoop.length), ...withLoop.slice(0, round % withLoop.length)];
      for (const c of order) {
        const v = c === LOOP ? await generate(false, [loopHex], 'rig loop (no chain node)').then((r) => (r.ok + r.other) / r.seconds) : (await measure(c.nc, c.i))[0];
        samples.set(c.subject, [...(samples.get(c.subject) ?? []), v]);
      }
    }
    // the nodes' program time: one more run of each case with the kernel's run-time stats on
    for (const c of cases) perCpu.set(c.subject, [(await measure(c.nc, c.i, true))[1]]);
    for (const c of withLoop) ctx.figure(c.subject, 'reads_per_s', Math.round(stats(samples.get(c.subject)!).median), 'reads/s');
    for (const c of cases) ctx.figure(c.subject, 'reads_per_node_cpu_s', Math.round(stats(perCpu.get(c.subject)!).median), 'reads/s');
    for (const c of [...cases.map((x) => x.subject), 'rig-switch-loop']) {
      const f = ctx.figures.find((x) => x.subject === c && x.metric === 'reads_per_s')!;
      ctx.figure(c, 'path_ns_per_read', Math.round(1e9 / f.value), 'ns');
    }
    for (const c of cases) ctx.figure(c.subject, 'node_ns_per_read', Math.round(1e9 / ctx.figures.find((x) => x.subject === c.subject && x.metric === 'reads_per_node_cpu_s')!.value), 'ns');
    for (const role of ROLE) {
      ctx.compare('reads_per_s', `netcraq-${role}`, `netchain-${role}`, role === 'head' ? '>= 4' : role === 'middle' ? '>= 1.5' : '>= 0.9');
    }
    ctx.compare('reads_per_s', 'netcraq-head', 'netcraq-tail', '>= 0.9');
    for (const role of ROLE) ctx.compare('reads_per_node_cpu_s', `netcraq-${role}`, `netchain-${role}`, role === 'head' ? '>= 4' : role === 'middle' ? '>= 1.5' : '>= 0.9');
    // figure 3: mixed workloads at the head (farthest from the tail), OK answers per second
    const MIXES: [string, (w: (i: number) => string) => string[]][] = [
      ['w0', () => [readHex(0)]],
      ['w25', (w) => [w(0), readHex(0), readHex(0), readHex(0)]],
      ['w50', (w) => [w(0), readHex(0)]],
      ['w75', (w) => [w(0), w(0), w(0), readHex(0)]],
    ];
    const mixed = new Map<string, { ok: number[]; queries: number[]; retries: number[] }>();
    const mixCases = MIXES.flatMap(([w, hexes]) =>
      [false, true].flatMap((nc) => [
        { w, nc, wkeys: W_KEYS, hexes: hexes((i) => writeHex(i)), subject: `${nc ? 'netchain' : 'netcraq'}-head-${w}` },
        ...(w === 'w0' ? [] : [{ w: `${w} same key`, nc, wkeys: 1, hexes: hexes((i) => writeHex(i, KEY)), subject: `${nc ? 'netchain' : 'netcraq'}-head-${w}-same-key` }]),
      ]),
    );
    for (let round = 0; round < mixedRounds; round++) {
      const order = [...mixCases.slice(round % mixCases.length), ...mixCases.slice(0, round % mixCases.length)];
      for (const c of order) {
        const run = await generate(c.nc, c.hexes, `head, ${c.w}`, false, c.wkeys);
        const m = mixed.get(c.subject) ?? { ok: [], queries: [], retries: [] };
        m.ok.push(run.ok / run.seconds);
        m.queries.push(run.stat('READ_QUERY') / run.seconds);
        m.retries.push(run.stat('RETRY') / run.seconds);
        mixed.set(c.subject, m);
      }
    }
    for (const c of mixCases) {
      const m = mixed.get(c.subject)!;
      ctx.figure(c.subject, 'ok_ops_per_s', Math.round(stats(m.ok).median), 'ops/s');
      ctx.figure(c.subject, 'dirty_reads_per_s', Math.round(stats(m.queries).median), 'reads/s');
      ctx.figure(c.subject, 'dirty_full_retries_per_s', Math.round(stats(m.retries).median), 'ops/s');
    }
    for (const [w] of MIXES) ctx.compare('ok_ops_per_s', `netcraq-head-${w}`, `netchain-head-${w}`, '>= 2');
    for (const [w] of MIXES.slice(1)) ctx.compare('ok_ops_per_s', `netcraq-head-${w}-same-key`, `netchain-head-${w}-same-key`, '>= 2');
    const answered = nodes.map((o) => o.stats().get('READ_CLEAN') ?? 0n);
    log(`clean reads answered per node over the run: ${answered.join(', ')}`);
  } finally {
    await lab.down().catch(() => undefined);
    for (const p of pins) rmSync(p, { force: true });
    for (const o of objects.reverse()) o.close();
  }
}

const bench: Benchmark = {
  name: 'craq',
  description:
    'NetCRAQ (bpf/craq) clean-read rate per node of a 3-node XDP chain vs distance from the tail, against NetChain mode of the same program, same run: ' +
    'live-frame READ flood (craq-gen, BPF_F_TEST_XDP_LIVE_FRAMES) from a client namespace through an XDP switch; replies counted in XDP at the client; medians over interleaved rounds. ' +
    'Bound: one read\'s whole path runs in the generator\'s softirq on 2 shared CPUs. ' +
    'Also: craq_node ns per operation by role (BPF_PROG_TEST_RUN); placement latency through the real craq-scheduler (heat in Redis); end to end reads of the placed keys via @netaccel/craq vs etcd3 (serializable, linearizable) on a 3-member etcd. Method: bench/craq/index.ts, README.md',
  needsRoot: true,
  async run(ctx: BenchContext): Promise<void> {
    execFileSync('sh', ['-c', 'command -v clang && command -v gcc && command -v etcd && command -v redis-server'], { stdio: 'ignore' });
    const sections = (process.env.CRAQ_BENCH_SECTIONS ?? 'testrun,rate,e2e').split(',');
    if (sections.includes('testrun')) await runCraqTestRun(ctx, buildCraqTools().progs, { repeat: 10_000, rounds: 40 }, (m) => console.error(`bench: craq: ${m}`));
    if (sections.includes('rate')) await runCraqBench(ctx);
    if (sections.includes('e2e')) {
      const n = (name: string, d: number): number => Number(process.env[name] ?? d);
      await runCraqE2e(ctx, { seconds: n('CRAQ_BENCH_E2E_SECONDS', 2), rounds: n('CRAQ_BENCH_E2E_ROUNDS', 2), concurrency: n('CRAQ_BENCH_E2E_CONCURRENCY', 16), hotKeys: 4, pinKeys: 2 }, (m) => console.error(`bench: craq: ${m}`));
    }
  },
};

export default bench;
