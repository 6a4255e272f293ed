/**
 * BPF_PROG_TEST_RUN through bpf_prog_test_run_opts: runs a loaded program on a packet (and
 * optionally a context) `repeat` times in the kernel and returns the verdict, the average
 * duration and the bytes the program left behind.
 *
 * The packet and the output buffers live in native memory for the call (the kernel reads and
 * writes through the pointers in struct bpf_test_run_opts). Note that the kernel repeats the
 * program on the same buffer: a program that rewrites the packet sees its own output from the
 * second repetition on.
 */
import { ERRNO, describeErrno, normalizeErrno } from './errno.js';
import { NA_ERR_BPF_INVALID, NA_ERR_BPF_PERM, NA_ERR_BPF_TEST_RUN, errnoDetails } from './errors.js';
import koffi from 'koffi';
import { BpfTestRunOpts, native } from './native.js';
import type { Ptr, TestRunOptsValue } from './native.js';

/** XDP verdicts (enum xdp_action). */
export const XDP_ACTION = Object.freeze({ ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const);
/** BPF_F_TEST_* flags of BPF_PROG_TEST_RUN. */
export const TEST_RUN_FLAGS = Object.freeze({ RUN_ON_CPU: 1, XDP_LIVE_FRAMES: 2, SKB_CHECKSUM_COMPLETE: 4 } as const);
/** TC verdicts used by netaccel's classifiers (TC_ACT_*). */
export const TC_ACTION = Object.freeze({ UNSPEC: -1, OK: 0, SHOT: 2, REDIRECT: 7 } as const);

export interface TestRunOptions {
  /** The packet (for XDP from the Ethernet header). */
  data?: Uint8Array;
  /** Room for the output packet (default: input + 4 KiB, since programs may grow packets). */
  dataOutSize?: number;
  /** Context in (struct xdp_md, __sk_buff …); optional. */
  ctx?: Uint8Array;
  /** Room for the output context (default: the input context's size). */
  ctxOutSize?: number;
  /** Runs in the kernel (default 1). The duration is their average. */
  repeat?: number;
  /** BPF_F_TEST_* flags. */
  flags?: number;
  /** CPU to run on (needs BPF_F_TEST_RUN_ON_CPU in flags). */
  cpu?: number;
}

export interface TestRunResult {
  /** The program's return value (the XDP or TC verdict). */
  readonly retval: number;
  /** Average ns per repetition, as the kernel measured it. */
  readonly durationNs: number;
  /** The packet as the program left it. */
  readonly data: Buffer;
  /** The context as the program left it (when one was passed). */
  readonly ctx?: Buffer;
}

const TEST_RUN_DEFAULTS = Object.freeze({
  repeat: 1, // runs
  dataOutHeadroom: 4096, // bytes beyond the input packet
  flags: 0,
  cpu: 0,
});

const U32_MAX = 0xffffffff;
const OPTS_SIZE = koffi.sizeof(BpfTestRunOpts);
/** Where each field of struct bpf_test_run_opts is (the struct is written by hand, see `scratchFor`). */
const AT = Object.freeze(Object.fromEntries(
  ['sz', 'data_in', 'data_out', 'data_size_in', 'data_size_out', 'ctx_in', 'ctx_out', 'ctx_size_in', 'ctx_size_out', 'retval', 'repeat', 'duration', 'flags', 'cpu', 'batch_size']
    .map((f) => [f, koffi.offsetof(BpfTestRunOpts, f)]),
) as Record<keyof TestRunOptsValue, number>);

/** Runs whose buffers fit in this many bytes reuse one native block; bigger ones get their own. */
const SCRATCH_MAX = 256 * 1024;

/**
 * Native memory for the runs: the packet in, room for the packet out, the context in and out,
 * back to back. A run through the loader's API is one call (issue 12, item 4): four allocations,
 * four frees and koffi marshalling the struct both ways cost more than the run itself, so the
 * block (up to SCRATCH_MAX) is kept from one run to the next and the struct is a Buffer laid out
 * with koffi's offsets, passed as a pointer.
 */
interface Block {
  readonly ptr: Ptr;
  readonly address: bigint;
  readonly bytes: Uint8Array;
}

let kept: Block | undefined;
/** struct bpf_test_run_opts, written before each run. */
const runOpts = Buffer.alloc(OPTS_SIZE);

function allocBlock(size: number): Block {
  const n = native();
  const ptr = n.alloc(size);
  return { ptr, address: koffi.address(ptr), bytes: n.view(ptr, size) };
}

/** A block of at least `size` bytes, and whether the caller frees it after the run. */
function scratchFor(size: number): { block: Block; own: boolean } {
  if (size > SCRATCH_MAX) return { block: allocBlock(size), own: true };
  if (kept === undefined || kept.bytes.length < size) {
    if (kept !== undefined) native().free(kept.ptr);
    kept = undefined;
    let cap = 4096;
    while (cap < size) cap *= 2;
    kept = allocBlock(cap);
  }
  return { block: kept, own: false };
}

/** 8-byte aligned length. */
function aligned(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function checkSize(path: string, v: number | undefined, max: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max)) {
    throw NA_ERR_BPF_INVALID(`${path}: expected an integer 0..${max}, got ${v}`);
  }
}

/** Runs program `fd` (named `name` in errors) once per `repeat` on `opts.data`. */
export function testRun(fd: number, name: string, opts: TestRunOptions = {}): TestRunResult {
  checkSize('testRun.repeat', opts.repeat, 0x7fffffff);
  checkSize('testRun.dataOutSize', opts.dataOutSize, U32_MAX);
  checkSize('testRun.ctxOutSize', opts.ctxOutSize, U32_MAX);
  checkSize('testRun.flags', opts.flags, U32_MAX);
  checkSize('testRun.cpu', opts.cpu, U32_MAX);
  const data = opts.data ?? new Uint8Array(0);
  const ctx = opts.ctx;
  const dataOutSize = opts.dataOutSize ?? data.length + TEST_RUN_DEFAULTS.dataOutHeadroom;
  const ctxOutSize = opts.ctxOutSize ?? ctx?.length ?? 0;

  const n = native();
  const ctxInSize = ctx?.length ?? 0;
  // offsets in the block: data in | data out | ctx in | ctx out
  const dataOutAt = aligned(data.length);
  const ctxInAt = dataOutAt + aligned(dataOutSize);
  const ctxOutAt = ctxInAt + aligned(ctxInSize);
  const { block, own } = scratchFor(Math.max(1, ctxOutAt + ctxOutSize));
  try {
    const ptrAt = (offset: number, size: number): bigint => (size === 0 ? 0n : block.address + BigInt(offset));
    if (data.length > 0) block.bytes.set(data, 0);
    if (ctx && ctxInSize > 0) block.bytes.set(ctx, ctxInAt);
    runOpts.fill(0);
    runOpts.writeBigUInt64LE(BigInt(OPTS_SIZE), AT.sz);
    runOpts.writeBigUInt64LE(ptrAt(0, data.length), AT.data_in);
    runOpts.writeBigUInt64LE(ptrAt(dataOutAt, dataOutSize), AT.data_out);
    runOpts.writeUInt32LE(data.length, AT.data_size_in);
    runOpts.writeUInt32LE(dataOutSize, AT.data_size_out);
    runOpts.writeBigUInt64LE(ptrAt(ctxInAt, ctxInSize), AT.ctx_in);
    runOpts.writeBigUInt64LE(ptrAt(ctxOutAt, ctxOutSize), AT.ctx_out);
    runOpts.writeUInt32LE(ctxInSize, AT.ctx_size_in);
    runOpts.writeUInt32LE(ctxOutSize, AT.ctx_size_out);
    runOpts.writeInt32LE(opts.repeat ?? TEST_RUN_DEFAULTS.repeat, AT.repeat);
    runOpts.writeUInt32LE(opts.flags ?? TEST_RUN_DEFAULTS.flags, AT.flags);
    runOpts.writeUInt32LE(opts.cpu ?? TEST_RUN_DEFAULTS.cpu, AT.cpu);
    const err = n.bpf_prog_test_run_opts_raw(fd, runOpts);
    const dataSizeOut = runOpts.readUInt32LE(AT.data_size_out);
    if (err < 0) {
      const errno = normalizeErrno(err);
      const details = errnoDetails('bpf_prog_test_run_opts', errno, {
        program: name,
        dataSizeIn: data.length,
        dataSizeOut,
        dataOutSize,
      });
      if (errno === ERRNO.EPERM || errno === ERRNO.EACCES) throw NA_ERR_BPF_PERM.with({ details }, `test run of ${name}`, describeErrno(errno));
      const why = errno === ERRNO.ENOSPC
        ? `the output (${dataSizeOut} bytes) does not fit dataOutSize ${dataOutSize}`
        : describeErrno(errno);
      throw NA_ERR_BPF_TEST_RUN.with({ details }, name, why);
    }
    const result: { retval: number; durationNs: number; data: Buffer; ctx?: Buffer } = {
      retval: runOpts.readUInt32LE(AT.retval),
      durationNs: runOpts.readUInt32LE(AT.duration),
      // copies: the block is the next run's
      data: dataOutSize > 0 && dataSizeOut > 0 ? Buffer.from(block.bytes.subarray(dataOutAt, dataOutAt + Math.min(dataSizeOut, dataOutSize))) : Buffer.alloc(0),
    };
    const ctxSizeOut = runOpts.readUInt32LE(AT.ctx_size_out);
    if (ctxOutSize > 0 && ctxSizeOut > 0) result.ctx = Buffer.from(block.bytes.subarray(ctxOutAt, ctxOutAt + Math.min(ctxSizeOut, ctxOutSize)));
    return result;
  } finally {
    if (own) n.free(block.ptr);
  }
}
