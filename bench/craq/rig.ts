/**
 * The rate sections' rig (figures 2 and 3): up to four chain nodes n1..n4 running bpf/craq's
 * craq_node in native XDP on eth0 (one object per node), a client c, and a switch sw whose ports
 * run craq_switch (redirect by destination MAC, so frames stay xdp_frames end to end); namespaces
 * prefix `cqp`. The chain in use is n1..nL (L = 3 or 4, set per run: a node outside the chain is
 * disabled and sees no traffic). craq-gen floods request frames from c:eth0 with
 * BPF_PROG_TEST_RUN in live-frame mode; craq_sink on c:eth0 counts the replies.
 *
 * `generate()` resets the keys to clean, configures the chain and mode, runs craq-gen for the given
 * time and returns what the sink and the nodes counted: OK and other replies, the head's stats,
 * the commits the tail dropped, and, with `timed`, the nodes' and the switch's program runs and
 * time from the kernel's run-time stats (off otherwise: they read the clock twice per program run
 * of every program), and with `sampleDirty` the dirty versions the head held, sampled every 250 ms.
 */
import { rmSync } from 'node:fs';
import { BpfObject, enableRunTimeStats } from '@netaccel/bpf';
import { Lab, cleanStale } from '@netaccel/netlab';
import type { LabSpec } from '@netaccel/netlab';
import { craq } from '@netaccel/protocol';
import { NO_PEER, craqClientFrame, encodeKeyId, encodeU32, placedKey, sumCounters } from '@netaccel/bpf-programs/craq';
import type { CraqConfig, CraqPeer } from '@netaccel/bpf-programs/craq';
import { CraqNodeObject } from '@netaccel/bpf-programs/craq/testing';
import type { CraqBenchTools } from './tools.js';

export const PREFIX = 'cqp';
export const PORT = craq.CRAQ_DEFAULT_PORT;
export const NODES = ['n1', 'n2', 'n3', 'n4'] as const;
export type ChainLength = 3 | 4;
const IP = { n1: '10.79.0.1', n2: '10.79.0.2', n3: '10.79.0.3', n4: '10.79.0.4', c: '10.79.0.100' } as const;
/** The key every READ asks for. */
export const KEY = craq.craqKey('/registry/leases/kube-node-lease/bench');
/** The first of the keys the mixed workloads write (reads stay on KEY), unless a case writes KEY. */
export const KEY_W = craq.craqKey('/registry/leases/kube-node-lease/bench-w');
/**
 * craq_gen moves each WRITE's key id over this many ids from KEY_W's, in turn: a write frame the rig
 * loses leaves its version dirty for the rest of a run (no repair runs here) and CRAQ_MAX_DIRTY of
 * them make the head refuse that key's writes; over 256 keys a run survives ~1000 losses.
 */
export const W_KEYS = 256;
const wKeyId = (j: number): bigint => (KEY_W.keyId + BigInt(j)) & 0xffffffffffffffffn;
const EPOCH = 1;
const VALUE = new Uint8Array(64).fill(0x61);

const spec: LabSpec = {
  name: 'craqp',
  nodes: { sw: {}, n1: {}, n2: {}, n3: {}, n4: {}, c: {} },
  links: [
    { a: 'sw:p1', b: 'n1:eth0', bAddr: [`${IP.n1}/24`] },
    { a: 'sw:p2', b: 'n2:eth0', bAddr: [`${IP.n2}/24`] },
    { a: 'sw:p3', b: 'n3:eth0', bAddr: [`${IP.n3}/24`] },
    { a: 'sw:p4', b: 'n4:eth0', bAddr: [`${IP.n4}/24`] },
    { a: 'sw:p5', b: 'c:eth0', bAddr: [`${IP.c}/24`] },
  ],
};

/** Node i's config in a chain n1..nL; a node outside the chain is disabled. */
function config(i: number, length: ChainLength, macs: readonly string[], netchain: boolean): CraqConfig {
  const peer = (j: number): CraqPeer => ({ ip4: IP[NODES[j]!], ip6: '::', mac: macs[j]!, port: PORT });
  const last = length - 1;
  return {
    enabled: i <= last,
    netchain,
    head: i === 0,
    tail: i === last,
    epoch: EPOCH,
    port: PORT,
    self: peer(i),
    pred: i > 0 && i <= last ? peer(i - 1) : NO_PEER,
    succ: i < last ? peer(i + 1) : NO_PEER,
    tail_: peer(last),
  };
}

function macKey(mac: string): Buffer {
  const b = Buffer.alloc(8);
  Buffer.from(mac.split(':').map((x) => parseInt(x, 16))).copy(b, 0);
  return b;
}

export interface RunSpec {
  readonly length: ChainLength;
  readonly netchain: boolean;
  /** Request frames (hex), sent in turn. */
  readonly hexes: readonly string[];
  readonly label: string;
  readonly seconds: number;
  /** Kernel run-time stats on (program time of the nodes and the switch). */
  readonly timed?: boolean;
  /** WRITE frames cycle their key id over this many keys (1: not). */
  readonly wkeys?: number;
  /** craq-gen's frames per live-frame batch (craq-gen.c GEN_BATCH: 16). */
  readonly batch?: number;
  /** Writes carry request id 0: no node records them in craq_key.reqs (the at-most-once record's cost). */
  readonly anonymous?: boolean;
  /** Sample the dirty versions the head holds (KEY and the written keys) every 250 ms. */
  readonly sampleDirty?: boolean;
}

export interface Run {
  readonly ok: number;
  readonly other: number;
  readonly frames: number;
  readonly seconds: number;
  /**
   * CPU time of the whole path: craq-gen's thread (generator, and every hop run in its softirq)
   * and the ksoftirqd threads (hops the kernel deferred to them; they serve other tenants too).
   */
  readonly cpuSeconds: number;
  /** The head's craq_stats over the run, by name. */
  readonly headStat: (name: 'READ_CLEAN' | 'READ_QUERY' | 'WRITE' | 'RETRY' | 'WRITE_REPLY') => number;
  /** Timed runs: craq_node runs and ns summed over the chain's nodes; craq_switch runs and ns. */
  readonly nodeRuns: number;
  readonly nodeNs: number;
  readonly switchRuns: number;
  readonly switchNs: number;
  /** Mean and max over samples of the dirty versions held at the head (sampleDirty). */
  readonly dirtyMean: number;
  readonly dirtyMax: number;
  readonly ringDropped: number;
  /** Frames sent that got no reply (lost in the rig: a full veth ring). */
  readonly unanswered: number;
}

export class CraqRig {
  readonly lab = new Lab(spec, { prefix: PREFIX });
  #objects: { close(): void }[] = [];
  #pins: string[] = [];
  #nodes: CraqNodeObject[] = [];
  #progs: BpfObject | undefined;
  #macs: string[] = [];
  #clientMac = '';
  #rings: string[] = [];
  /** Untimed runs during which the kernel's run-time stats were on all the same (another process held them). */
  statsHeldElsewhere = 0;

  constructor(
    private readonly tools: CraqBenchTools,
    private readonly log: (m: string) => void,
  ) {}

  #pin(p: { pin(path: string): void }, name: string): string {
    const path = `/sys/fs/bpf/${PREFIX}-${process.pid}-${name}`;
    rmSync(path, { force: true });
    p.pin(path);
    this.#pins.push(path);
    return path;
  }

  async #iface(node: string, ifname: string): Promise<{ mac: string; ifindex: number }> {
    const l = (await this.lab.links(node)).find((x) => x.ifname === ifname);
    if (!l?.address) throw new Error(`${node}:${ifname}: no such interface`);
    return { mac: l.address, ifindex: l.ifindex };
  }

  async up(): Promise<void> {
    await cleanStale({ prefix: PREFIX });
    await this.lab.up();
    const progs = BpfObject.openFile(this.tools.progs);
    this.#objects.push(progs);
    progs.load();
    this.#progs = progs;
    this.#macs = await Promise.all(NODES.map(async (n) => (await this.#iface(n, 'eth0')).mac));
    this.#clientMac = (await this.#iface('c', 'eth0')).mac;
    this.#nodes = NODES.map(() => CraqNodeObject.load(this.tools.node));
    this.#objects.push(...this.#nodes);
    for (const [i, n] of NODES.entries()) {
      this.#nodes[i]!.setConfig(config(i, 4, this.#macs, false));
      await this.lab.exec(n, ['ip', '-force', 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'pinned', this.#pin(this.#nodes[i]!.prog, n)], { sysfs: 'host' });
    }
    const sw = this.#pin(progs.program('craq_switch'), 'switch');
    const fdb = progs.map('fdb');
    for (const [j, mac] of [...this.#macs, this.#clientMac].entries()) {
      const port = await this.#iface('sw', `p${j + 1}`);
      fdb.update(macKey(mac), encodeU32(port.ifindex));
      await this.lab.exec('sw', ['ip', '-force', 'link', 'set', 'dev', `p${j + 1}`, 'xdpdrv', 'pinned', sw], { sysfs: 'host' });
    }
    await this.lab.exec('c', ['ip', '-force', 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'pinned', this.#pin(progs.program('craq_sink'), 'sink')], { sysfs: 'host' });
    // the possible tails' commits, drained by craq-gen while it runs (the scheduler's job in production)
    this.#rings = this.#nodes.map((o, i) => (i >= 2 ? this.#pin(o.map('craq_commits'), `commits-${NODES[i]}`) : ''));
  }

  /** A client request to node i (placed by id: the key text is not needed). */
  frameHex(i: number, msg: craq.CraqMessage, key = KEY): string {
    return Buffer.from(craqClientFrame(4, { mac: this.#clientMac, ip: IP.c, port: 40000 }, { mac: this.#macs[i]!, ip: IP[NODES[i]!], port: PORT }, { ...msg, keyId: key.keyId, keyCheck: key.keyCheck })).toString('hex');
  }

  readHex(i: number): string {
    return this.frameHex(i, craq.craqReadRequest({ key: 'bench', reqId: 1n }));
  }

  /** A WRITE of a 16-byte value; UDP checksum 0 (none, bytes 40-41): craq_gen rewrites its key and request ids. */
  writeHex(i: number, key = KEY_W): string {
    const hex = this.frameHex(i, craq.craqWriteRequest({ key: 'bench', reqId: 2n, value: new Uint8Array(16).fill(0x77) }), key);
    return `${hex.slice(0, 80)}0000${hex.slice(84)}`;
  }

  /** The rig alone: a READ_REPLY as n1 would send it, generator → switch → sink (16-byte value). */
  loopHex(): string {
    const req = { ...craq.craqReadRequest({ key: 'bench', reqId: 1n }), keyId: KEY.keyId, keyCheck: KEY.keyCheck };
    return Buffer.from(craqClientFrame(4, { mac: this.#macs[0]!, ip: IP.n1, port: PORT }, { mac: this.#clientMac, ip: IP.c, port: 40000 }, craq.craqReply(req, craq.CraqStatus.OK, { version: 1n, value: VALUE.subarray(0, 16) }))).toString('hex');
  }

  #counter(k: number): bigint {
    return sumCounters(this.#progs!.map('stats').lookupPerCpu(encodeU32(k)) ?? []).packets;
  }

  /** Dirty versions at the head over KEY and the written keys (struct craq_key: clean at 8, last at 16). */
  #dirtyAtHead(): number {
    const keys = this.#nodes[0]!.map('craq_keys');
    let n = 0;
    for (const id of [KEY.keyId, ...Array.from({ length: W_KEYS }, (_, j) => wKeyId(j))]) {
      const k = keys.lookup(encodeKeyId(id));
      if (k) n += Number(k.readBigUInt64LE(16) - k.readBigUInt64LE(8));
    }
    return n;
  }

  async generate(r: RunSpec): Promise<Run> {
    // every measurement starts from clean keys: a frame the rig drops (a full veth ring) can
    // leave a write dirty at the head until the control plane repairs it (bpf/craq/README.md)
    for (const [i, o] of this.#nodes.entries()) {
      o.setConfig(config(i, r.length, this.#macs, r.netchain));
      o.putKey(KEY.keyId, placedKey(KEY.keyCheck, 1n, VALUE));
      for (let j = 0; j < W_KEYS; j++) o.putKey(wKeyId(j), placedKey(KEY_W.keyCheck, 1n, VALUE));
    }
    const chain = this.#nodes.slice(0, r.length);
    const tail = chain[r.length - 1]!;
    const sw = this.#progs!.program('craq_switch');
    const ok0 = this.#counter(0);
    const other0 = this.#counter(4);
    const head0 = chain[0]!.stats();
    const reasons0 = chain.map((o) => o.reasons());
    const lost0 = reasons0[r.length - 1]!.get('RINGBUF') ?? 0n;
    const runTime = r.timed ? enableRunTimeStats() : undefined;
    const prog0 = [...chain.map((o) => o.prog.info()), sw.info()];
    const dirty: number[] = [];
    const sampler = r.sampleDirty ? setInterval(() => dirty.push(this.#dirtyAtHead()), 250) : undefined;
    let out: { frames: number; seconds: number; cpu_seconds: number; ksoftirqd_seconds: number };
    try {
      const res = await this.lab.exec('c', [this.tools.gen, this.tools.progs, 'eth0', String(r.seconds), String(r.wkeys ?? 1), this.#rings[r.length - 1]!, ...r.hexes], { timeoutMs: (r.seconds + 30) * 1000, sysfs: 'host', env: { CRAQ_GEN_BATCH: String(r.batch ?? 16), ...(r.anonymous ? { CRAQ_GEN_ANONYMOUS: '1' } : {}) } });
      out = JSON.parse(res.stdout) as typeof out;
    } finally {
      if (sampler) clearInterval(sampler);
      runTime?.close();
    }
    const prog1 = [...chain.map((o) => o.prog.info()), sw.info()];
    const delta = (i: number, f: 'runCount' | 'runTimeNs'): number => Number(prog1[i]![f] - prog0[i]![f]);
    const ok = Number(this.#counter(0) - ok0);
    const other = Number(this.#counter(4) - other0);
    const head1 = chain[0]!.stats();
    const lost = Number((tail.reasons().get('RINGBUF') ?? 0n) - lost0);
    // what the nodes dropped or passed, by reason (a chain message lost to DIRTY_FULL or STALE, ...)
    const dropped = chain.flatMap((o, i) => [...o.reasons()].filter(([k, v]) => v > (reasons0[i]!.get(k) ?? 0n)).map(([k, v]) => `${NODES[i]} ${k} ${v - (reasons0[i]!.get(k) ?? 0n)}`));
    const mode = r.netchain ? 'netchain' : 'netcraq';
    this.log(`${mode} chain of ${r.length}, ${r.label}: ${ok} OK + ${other} other replies / ${out.frames} frames in ${out.seconds.toFixed(2)} s = ${(ok / out.seconds).toFixed(0)} OK/s, ${((ok + other) / (out.cpu_seconds + out.ksoftirqd_seconds)).toFixed(0)} replies per path CPU-s (${out.cpu_seconds.toFixed(2)} + ksoftirqd ${out.ksoftirqd_seconds.toFixed(2)} s)${out.frames > ok + other ? `, ${out.frames - ok - other} unanswered` : ''}${dropped.length > 0 ? `; not answered/forwarded: ${dropped.join(', ')}` : ''}`);
    let nodeRuns = 0;
    let nodeNs = 0;
    for (let i = 0; i < chain.length; i++) {
      nodeRuns += delta(i, 'runCount');
      nodeNs += delta(i, 'runTimeNs');
    }
    // bpf_enable_stats is system-wide: while any process holds it, every program run reads the
    // clock twice (a paravirtual clock here), which the rate runs otherwise avoid
    if (!r.timed && nodeRuns > 0) {
      this.statsHeldElsewhere++;
      this.log(`run-time stats were on during this run (held by another process): ${nodeRuns} node runs counted`);
    }
    return {
      ok,
      other,
      frames: out.frames,
      seconds: out.seconds,
      cpuSeconds: out.cpu_seconds + out.ksoftirqd_seconds,
      headStat: (name) => Number((head1.get(name) ?? 0n) - (head0.get(name) ?? 0n)),
      nodeRuns,
      nodeNs,
      switchRuns: delta(chain.length, 'runCount'),
      switchNs: delta(chain.length, 'runTimeNs'),
      dirtyMean: dirty.length > 0 ? dirty.reduce((a, b) => a + b, 0) / dirty.length : 0,
      dirtyMax: dirty.length > 0 ? Math.max(...dirty) : 0,
      ringDropped: lost,
      unanswered: Math.max(0, out.frames - ok - other),
    };
  }

  /** Clean reads each node answered over the whole rig's life. */
  readsAnswered(): bigint[] {
    return this.#nodes.map((o) => o.stats().get('READ_CLEAN') ?? 0n);
  }

  async down(): Promise<void> {
    await this.lab.down().catch(() => undefined);
    for (const p of this.#pins) rmSync(p, { force: true });
    for (const o of this.#objects.reverse()) o.close();
  }
}
