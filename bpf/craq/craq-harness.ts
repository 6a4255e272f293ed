/**
 * Loads the NetCRAQ node with libs/bpf for the BPF tests, the namespace test and the benchmark:
 * config and keys written into its maps, frames run with BPF_PROG_TEST_RUN, counters, key
 * state and commits read back. Nothing is pinned; close() releases everything.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject, XDP_ACTION } from '@netaccel/bpf';
import type { BpfMap, BpfProgram } from '@netaccel/bpf';
import { decodeKeyEntry, encodeConfig, encodeKeyEntry, encodeKeyId, encodeU32, slotsOf, sumCounters, withRequests } from './codec.js';
import type { CraqConfig, CraqKeyEntry } from './codec.js';
import { CraqCommitReader } from './commits.js';
import { CRAQ_REASONS, CRAQ_REASON_MAX, CRAQ_STAT, CRAQ_STAT_MAX } from './reasons.js';
import type { CraqReasonName, CraqStatName } from './reasons.js';
import type { XdpVerdict } from './model.js';

function packageDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The compiled node (make -C bpf). */
export const CRAQ_OBJECT_PATH = join(packageDir(dirname(fileURLToPath(import.meta.url))), 'build/craq/craq.bpf.o');
export const CRAQ_PROGRAM = 'craq_node';

export interface CraqRun {
  readonly verdict: XdpVerdict | `retval ${number}`;
  readonly data: Buffer;
}

const VERDICTS = new Map<number, XdpVerdict>([
  [XDP_ACTION.PASS, 'XDP_PASS'],
  [XDP_ACTION.DROP, 'XDP_DROP'],
  [XDP_ACTION.TX, 'XDP_TX'],
]);

export class CraqNodeObject {
  readonly obj: BpfObject;
  readonly prog: BpfProgram;

  private constructor(obj: BpfObject) {
    this.obj = obj;
    this.prog = obj.program(CRAQ_PROGRAM);
  }

  static load(path = CRAQ_OBJECT_PATH): CraqNodeObject {
    if (!statSync(path, { throwIfNoEntry: false })) throw new Error(`${path} is missing: run make -C bpf`);
    const obj = BpfObject.openFile(path);
    try {
      obj.load();
      return new CraqNodeObject(obj);
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  map(name: string): BpfMap {
    return this.obj.map(name);
  }

  /** Slots per key of this build (CRAQ_MAX_DIRTY + 1), from the map's value size. */
  get slots(): number {
    return slotsOf(this.map('craq_keys').valueSize);
  }

  setConfig(c: CraqConfig): void {
    this.map('craq_config').update(encodeU32(0), encodeConfig(c));
  }

  putKey(keyId: bigint, entry: CraqKeyEntry): void {
    this.map('craq_keys').update(encodeKeyId(keyId), encodeKeyEntry(entry));
  }

  deleteKey(keyId: bigint): boolean {
    return this.map('craq_keys').delete(encodeKeyId(keyId));
  }

  key(keyId: bigint): CraqKeyEntry | undefined {
    const v = this.map('craq_keys').lookup(encodeKeyId(keyId));
    return v ? decodeKeyEntry(v) : undefined;
  }

  /** Records in key `keyId`'s request ring (craq_key.reqs) that request `reqId` created `version` (the key must be placed). */
  putRequest(reqId: bigint, keyId: bigint, version: bigint): void {
    const e = this.key(keyId);
    if (e === undefined) throw new Error(`putRequest: key ${keyId} is not placed`);
    this.putKey(keyId, withRequests(e, [{ reqId, version }]));
  }

  run(frame: Uint8Array, repeat = 1): CraqRun {
    const r = this.prog.testRun({ data: frame, repeat });
    return { verdict: VERDICTS.get(r.retval) ?? `retval ${r.retval}`, data: r.data };
  }

  /** craq_reasons summed over CPUs: packets by short name (zero ones included). */
  reasons(): Map<CraqReasonName, bigint> {
    const out = new Map<CraqReasonName, bigint>();
    for (let i = 1; i < CRAQ_REASON_MAX; i++) {
      const v = this.map('craq_reasons').lookupPerCpu(encodeU32(i));
      out.set(CRAQ_REASONS[i - 1]!.name.slice('CRAQ_R_'.length) as CraqReasonName, v ? sumCounters(v).packets : 0n);
    }
    return out;
  }

  /** craq_stats summed over CPUs: packets by short name. */
  stats(): Map<CraqStatName, bigint> {
    const out = new Map<CraqStatName, bigint>();
    for (const [name, i] of Object.entries(CRAQ_STAT)) {
      if (i >= CRAQ_STAT_MAX) continue;
      const v = this.map('craq_stats').lookupPerCpu(encodeU32(i));
      out.set(name as CraqStatName, v ? sumCounters(v).packets : 0n);
    }
    return out;
  }

  /** A reader of craq_commits (close it before the object). */
  commitReader(): CraqCommitReader {
    return new CraqCommitReader(this.map('craq_commits').fd);
  }

  close(): void {
    this.obj.close();
  }
}
