/**
 * BPF programs: the programs of a loaded object and pinned ones opened by path. Kernel info
 * (id, tag, run count and time) comes from bpf_obj_get_info_by_fd; run statistics are counted
 * only while some process holds a `enableRunTimeStats()` handle (BPF_ENABLE_STATS).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ERRNO, normalizeErrno } from './errno.js';
import { NA_ERR_BPF_INVALID, NA_ERR_BPF_NOT_FOUND, errnoDetails, syscallError } from './errors.js';
import { OwnedFd, bpfFdKind, objGet } from './fd.js';
import { native } from './native.js';
import { testRun } from './test-run.js';
import type { TestRunOptions, TestRunResult } from './test-run.js';

/** Program types by libbpf name (enum bpf_prog_type), the ones netaccel uses. */
export const BPF_PROG_TYPE = Object.freeze({
  socket_filter: 1, sched_cls: 3, sched_act: 4, xdp: 6, cgroup_skb: 8, cgroup_sock: 9, sock_ops: 13,
  sk_skb: 14, sk_msg: 16, cgroup_sock_addr: 18, sk_reuseport: 21, flow_dissector: 22, sk_lookup: 30,
} as const);

export interface ProgramInfo {
  readonly id: number;
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  /** The kernel's hash of the translated program, hex (what bpftool calls the tag). */
  readonly tag: string;
  /** Times the program ran while run-time stats were enabled. */
  readonly runCount: bigint;
  /** Total ns spent in it while run-time stats were enabled. */
  readonly runTimeNs: bigint;
  /** Runs skipped because the program was already running on that CPU. */
  readonly recursionMisses: bigint;
  readonly verifiedInstructions: number;
  readonly xlatedBytes: number;
  readonly jitedBytes: number;
  readonly btfId: number;
  /** ns since boot. */
  readonly loadTime: bigint;
}

const PROG_INFO_SIZE = 232; // sizeof(struct bpf_prog_info), linux/bpf.h of Linux 6.1

/**
 * Decodes struct bpf_prog_info (uapi offsets: type 0, id 4, tag 8, jited_prog_len 16,
 * xlated_prog_len 20, load_time 40, name 64, btf_id 128, run_time_ns 192, run_cnt 200,
 * recursion_misses 208, verified_insns 216).
 */
export function decodeProgramInfo(buf: Uint8Array): Omit<ProgramInfo, 'typeName'> {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const nameBytes = buf.subarray(64, 80);
  const nul = nameBytes.indexOf(0);
  return {
    type: v.getUint32(0, true),
    id: v.getUint32(4, true),
    tag: Buffer.from(buf.subarray(8, 16)).toString('hex'),
    jitedBytes: v.getUint32(16, true),
    xlatedBytes: v.getUint32(20, true),
    loadTime: v.getBigUint64(40, true),
    name: Buffer.from(nameBytes.subarray(0, nul < 0 ? 16 : nul)).toString('utf8'),
    btfId: v.getUint32(128, true),
    runTimeNs: v.getBigUint64(192, true),
    runCount: v.getBigUint64(200, true),
    recursionMisses: v.getBigUint64(208, true),
    verifiedInstructions: v.getUint32(216, true),
  };
}

/** Kernel info of the program behind `fd`. */
export function programInfoByFd(fd: number, what: string): ProgramInfo {
  const n = native();
  const buf = Buffer.alloc(PROG_INFO_SIZE); // zeroed: no pointer fields for the kernel to fill
  const err = n.bpf_obj_get_info_by_fd(fd, buf, [PROG_INFO_SIZE]);
  if (err < 0) throw syscallError(`bpf_obj_get_info_by_fd(${what})`, err);
  const info = decodeProgramInfo(buf);
  return { ...info, typeName: n.libbpf_bpf_prog_type_str(info.type) ?? `type ${info.type}` };
}

/** Kernel info of the program with kernel id `id`; NA_ERR_BPF_NOT_FOUND when there is none. */
export function programInfoById(id: number): ProgramInfo {
  const n = native();
  const fd = n.bpf_prog_get_fd_by_id(id);
  if (fd < 0) {
    if (normalizeErrno(fd) === ERRNO.ENOENT) throw NA_ERR_BPF_NOT_FOUND.with({ details: errnoDetails('bpf_prog_get_fd_by_id', fd, { id }) }, `program id ${id}`);
    throw syscallError(`bpf_prog_get_fd_by_id(${id})`, fd, { id });
  }
  try {
    return programInfoByFd(fd, `program id ${id}`);
  } finally {
    n.close(fd);
  }
}

/** Where a BpfProgram gets its descriptor: its libbpf object (after load) or one it owns. */
export interface ProgramFdSource {
  fd(): number;
  close(): void;
}

export class BpfProgram {
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  /** ELF section (`xdp`, `tc`, …); empty for pinned programs. */
  readonly section: string;
  readonly #source: ProgramFdSource;
  #verifierLog = '';

  /** Internal: BpfObject and openPinned build programs. */
  constructor(meta: { name: string; type: number; section: string }, source: ProgramFdSource) {
    this.name = meta.name;
    this.type = meta.type;
    this.typeName = native().libbpf_bpf_prog_type_str(meta.type) ?? `type ${meta.type}`;
    this.section = meta.section;
    this.#source = source;
  }

  /** Opens a pinned program (bpf_obj_get); close it when done. */
  static openPinned(path: string): BpfProgram {
    const owned = new OwnedFd(objGet(path), `pinned program ${path}`);
    try {
      const kind = bpfFdKind(owned.fd);
      if (kind !== 'prog') throw NA_ERR_BPF_INVALID.with({ details: { path, kind } }, `${path}: the pinned object is a ${kind}, not a program`);
      const info = programInfoByFd(owned.fd, path);
      return new BpfProgram({ name: info.name, type: info.type, section: '' }, {
        fd: () => owned.fd,
        close: () => owned.close(),
      });
    } catch (err) {
      owned.close();
      throw err;
    }
  }

  /** The program's descriptor; NA_ERR_BPF_STATE before its object is loaded or after close. */
  get fd(): number {
    return this.#source.fd();
  }

  /** The verifier's log of the last load when one was requested or the load failed; else ''. */
  get verifierLog(): string {
    return this.#verifierLog;
  }

  /** Internal: set by BpfObject after load. */
  setVerifierLog(log: string): void {
    this.#verifierLog = log;
  }

  /** Closes a descriptor this program owns (pinned); a no-op for programs of a BpfObject. */
  close(): void {
    this.#source.close();
  }

  info(): ProgramInfo {
    return programInfoByFd(this.fd, this.name);
  }

  /** BPF_PROG_TEST_RUN: see test-run.ts. */
  testRun(opts: TestRunOptions = {}): TestRunResult {
    return testRun(this.fd, this.name, opts);
  }

  /** Pins the program at `path` on bpffs (parents created). */
  pin(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    const err = native().bpf_obj_pin(this.fd, path);
    if (err < 0) throw syscallError(`bpf_obj_pin(${this.name}, ${path})`, err, { path });
  }

  /** Removes the pin at `path`. */
  unpin(path: string): void {
    rmSync(path, { force: true });
  }
}

export interface RunTimeStats {
  /** Stops counting for this handle (the kernel counts while any handle is open). */
  close(): void;
}

/** BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): programs count runs and ns while the handle is open. */
export function enableRunTimeStats(): RunTimeStats {
  const fd = native().bpf_enable_stats(0 /* BPF_STATS_RUN_TIME */);
  if (fd < 0) throw syscallError('bpf_enable_stats(BPF_STATS_RUN_TIME)', fd);
  const owned = new OwnedFd(fd, 'run-time stats');
  return { close: () => owned.close() };
}
