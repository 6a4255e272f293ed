/**
 * Katran beside xlb in the test-run section (issue 12): Katran's balancer program, built at bench
 * time from the anchors folder and programmed the way its control plane (KatranLb) does, so that
 * both balancers run in the same loop, on the same packets, net of the same floor.
 *
 * The anchors folder is not part of this repository (Katran is GPL-2.0; nothing of it is copied
 * here): `NETACCEL_ANCHORS` names it, default `../shared/anchors` beside the repository. When
 * `<anchors>/katran/src/katran/lib/bpf/balancer.bpf.c` is not there, the section says so (log and
 * a figure) and measures xlb alone.
 *
 * Build: exactly Katran's own (katran/lib/Makefile-bpf with no feature -D flags: IPIP encap, no
 * GUE, no inline decap): its sources are copied into `$TMPDIR/netaccel-bench-katran-<hash>/`,
 * `include/` gets katran/lib/linux_includes, then `clang -O2 -emit-llvm … | llc -march=bpf`.
 * The object is cached by the sources' hash.
 *
 * Maps, as KatranLb fills them for one IPv4 TCP VIP (layouts checked against the object's BTF
 * sizes before use):
 *   lru_mapping[cpu]  one LRU hash per possible CPU (flow_key 40 B -> real_pos_lru 16 B),
 *                     `lruEntries` each (KatranLb's default 8M split over 2 forwarding cores)
 *   vip_map           {vip, port, proto} -> {flags 0, vip_num 0}
 *   reals[1..8]       the backends (index 0 is Katran's "no real")
 *   ch_rings          RING_SIZE slots of vip 0 -> reals round robin (Maglev's content does not
 *                     change the lookup's cost)
 *   ctl_array[0]      the default router's MAC (where IPIP frames go)
 * Katran's flood guard (more than MAX_CONN_RATE new flows per second per CPU stops LRU inserts)
 * is reset before every block of new flows, outside the timed calls: resetConnRate().
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfMap, BpfObject } from '@netaccel/bpf';
import type { BpfProgram } from '@netaccel/bpf';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's root (bench/xlb/../..). */
const REPO = resolve(here, '..', '..');
const BALANCER = join('katran', 'lib', 'bpf', 'balancer.bpf.c');

/** Katran's constants of the default build (balancer_consts.h). */
export const KATRAN = Object.freeze({
  ringSize: 65537,
  maxVips: 512,
  newConnRateCntr: 2, // stats[MAX_VIPS + 2]
  reals: 8,
  /** KatranLb's default LruSize (8,000,000) over 2 forwarding cores. */
  lruEntries: 4_000_000,
  routerMac: '00:00:de:ad:be:af', // Katran's test default MAC
});

export interface KatranAnchor {
  /** The anchors folder looked at. */
  readonly anchors: string;
  /** <anchors>/katran when its balancer source is there, else undefined. */
  readonly dir: string | undefined;
  /** Katran's commit as RESULTS.md names it ('unknown' when it does not). */
  readonly commit: string;
}

/** Where the anchors are: `NETACCEL_ANCHORS`, else ../shared/anchors beside the repository. */
export function findKatran(env: NodeJS.ProcessEnv = process.env): KatranAnchor {
  const anchors = resolve(env.NETACCEL_ANCHORS && env.NETACCEL_ANCHORS !== '' ? env.NETACCEL_ANCHORS : join(REPO, '..', 'shared', 'anchors'));
  const dir = join(anchors, 'katran');
  if (!existsSync(join(dir, 'src', BALANCER))) return { anchors, dir: undefined, commit: 'unknown' };
  let commit = 'unknown';
  try {
    commit = /commit \*\*([0-9a-f]{7,40})\*\*/.exec(readFileSync(join(dir, 'RESULTS.md'), 'utf8'))?.[1] ?? 'unknown';
  } catch {
    // no RESULTS.md: the commit stays unknown
  }
  return { anchors, dir, commit };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Builds Katran's balancer.bpf.o with its own flags (or finds it in the cache); returns its path. */
export function buildKatran(katranDir: string): string {
  const src = join(katranDir, 'src');
  const lib = join(src, 'katran', 'lib');
  const inputs = [...filesUnder(join(lib, 'bpf')), ...filesUnder(join(lib, 'linux_includes'))];
  const hash = createHash('sha256');
  for (const f of inputs) hash.update(f.slice(src.length)).update(readFileSync(f));
  const dir = join(tmpdir(), `netaccel-bench-katran-${hash.digest('hex').slice(0, 12)}`);
  const obj = join(dir, 'balancer.bpf.o');
  if (existsSync(obj)) return obj;
  const work = join(dir, `work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'katran', 'lib'), { recursive: true });
  cpSync(join(lib, 'bpf'), join(work, 'katran', 'lib', 'bpf'), { recursive: true });
  cpSync(join(lib, 'linux_includes'), join(work, 'katran', 'lib', 'linux_includes'), { recursive: true });
  cpSync(join(lib, 'linux_includes'), join(work, 'include'), { recursive: true });
  // Katran's Makefile-bpf: clang -emit-llvm | llc -march=bpf, no feature defines
  const flags = '-I./usr/include -I./include -I. -DDEBUG -D__KERNEL__ -Wno-unused-value -Wno-pointer-sign -Wno-compare-distinct-pointer-types -O2 -emit-llvm -c -g';
  try {
    execFileSync('bash', ['-c', `set -o pipefail; clang ${flags} ${BALANCER} -o - | llc -march=bpf -filetype=obj -o balancer.bpf.o`], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (!statSync(join(work, 'balancer.bpf.o'), { throwIfNoEntry: false })?.size) throw new Error('llc wrote no object');
  } catch (err) {
    const e = err as { stderr?: Buffer; message?: string };
    rmSync(work, { recursive: true, force: true });
    throw new Error(`katran: building ${BALANCER} failed:\n${e.stderr?.toString() ?? e.message ?? String(err)}`);
  }
  renameSync(join(work, 'balancer.bpf.o'), `${obj}.${process.pid}`);
  renameSync(`${obj}.${process.pid}`, obj);
  rmSync(work, { recursive: true, force: true });
  return obj;
}

const ipv4 = (a: string): Buffer => Buffer.from(a.split('.').map(Number));
const mac = (m: string): Buffer => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};

/** Katran's one VIP and backends, as the bench programs them. */
export interface KatranSetup {
  readonly vip: string; // IPv4
  readonly port: number;
  readonly lruEntries: number;
}

/** Katran loaded and programmed; run() is one BPF_PROG_TEST_RUN call. */
export class KatranRig {
  readonly prog: BpfProgram;
  readonly #obj: BpfObject;
  readonly #lrus: BpfMap[];
  readonly #stats: BpfMap;

  private constructor(obj: BpfObject, lrus: BpfMap[]) {
    this.#obj = obj;
    this.#lrus = lrus;
    this.prog = obj.program('balancer_ingress');
    this.#stats = obj.map('stats');
  }

  static load(object: string, setup: KatranSetup): KatranRig {
    const obj = BpfObject.openFile(object);
    const lrus: BpfMap[] = [];
    try {
      obj.load();
      const sizes: Record<string, [number, number]> = {
        vip_map: [20, 8],
        reals: [4, 20],
        ch_rings: [4, 4],
        ctl_array: [4, 8],
        fallback_cache: [40, 16],
        stats: [4, 16],
      };
      for (const [name, [k, v]] of Object.entries(sizes)) {
        const m = obj.map(name);
        if (m.keySize !== k || m.valueSize !== v) throw new Error(`katran: ${name}: expected key ${k} B and value ${v} B, the object has ${m.keySize}/${m.valueSize}`);
      }
      const mapping = obj.map('lru_mapping');
      const cpus = obj.map('stats').cpus;
      for (let cpu = 0; cpu < cpus; cpu++) {
        const lru = BpfMap.create({ type: 'lru_hash', name: `katran_lru${cpu}`, keySize: 40, valueSize: 16, maxEntries: setup.lruEntries });
        lrus.push(lru);
        mapping.update(u32(cpu), u32(lru.fd));
      }
      const vk = Buffer.alloc(20);
      ipv4(setup.vip).copy(vk, 0);
      vk.writeUInt16BE(setup.port, 16);
      vk[18] = 6; // TCP
      obj.map('vip_map').update(vk, Buffer.alloc(8)); // flags 0, vip_num 0
      for (let i = 1; i <= KATRAN.reals; i++) {
        const rd = Buffer.alloc(20);
        ipv4(`10.0.0.${i}`).copy(rd, 0);
        obj.map('reals').update(u32(i), rd);
      }
      const ring = Buffer.alloc(KATRAN.ringSize * 4);
      const keys = Buffer.alloc(KATRAN.ringSize * 4);
      for (let i = 0; i < KATRAN.ringSize; i++) {
        keys.writeUInt32LE(i, i * 4);
        ring.writeUInt32LE((i % KATRAN.reals) + 1, i * 4);
      }
      obj.map('ch_rings').updateBatchPacked(KATRAN.ringSize, keys, ring);
      const ctl = Buffer.alloc(8);
      mac(KATRAN.routerMac).copy(ctl, 0);
      obj.map('ctl_array').update(u32(0), ctl);
      return new KatranRig(obj, lrus);
    } catch (err) {
      for (const l of lrus) l.close();
      obj.close();
      throw err;
    }
  }

  /** Zeroes Katran's new-connection rate counter (its flood guard), on every CPU. */
  resetConnRate(): void {
    this.#stats.updatePerCpu(u32(KATRAN.maxVips + KATRAN.newConnRateCntr), Buffer.alloc(16));
  }

  close(): void {
    this.#obj.close();
    for (const l of this.#lrus) l.close();
  }
}
