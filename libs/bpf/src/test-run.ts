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
  const allocated: Ptr[] = [];
  const alloc = (size: number, init?: Uint8Array): Ptr | null => {
    if (size === 0) return null;
    const p = n.alloc(size);
    allocated.push(p);
    if (init) n.view(p, init.length).set(init);
    return p;
  };
  try {
    const dataIn = alloc(data.length, data);
    const dataOut = alloc(dataOutSize);
    const ctxIn = ctx ? alloc(ctx.length, ctx) : null;
    const ctxOut = alloc(ctxOutSize);
    const run: TestRunOptsValue = {
      sz: OPTS_SIZE,
      data_in: dataIn,
      data_out: dataOut,
      data_size_in: data.length,
      data_size_out: dataOutSize,
      ctx_in: ctxIn,
      ctx_out: ctxOut,
      ctx_size_in: ctx?.length ?? 0,
      ctx_size_out: ctxOutSize,
      retval: 0,
      repeat: opts.repeat ?? TEST_RUN_DEFAULTS.repeat,
      duration: 0,
      flags: opts.flags ?? TEST_RUN_DEFAULTS.flags,
      cpu: opts.cpu ?? TEST_RUN_DEFAULTS.cpu,
      batch_size: 0,
    };
    const err = n.bpf_prog_test_run_opts(fd, run);
    if (err < 0) {
      const errno = normalizeErrno(err);
      const details = errnoDetails('bpf_prog_test_run_opts', errno, {
        program: name,
        dataSizeIn: data.length,
        dataSizeOut: run.data_size_out,
        dataOutSize,
      });
      if (errno === ERRNO.EPERM || errno === ERRNO.EACCES) throw NA_ERR_BPF_PERM.with({ details }, `test run of ${name}`, describeErrno(errno));
      const why = errno === ERRNO.ENOSPC
        ? `the output (${run.data_size_out} bytes) does not fit dataOutSize ${dataOutSize}`
        : describeErrno(errno);
      throw NA_ERR_BPF_TEST_RUN.with({ details }, name, why);
    }
    const result: { retval: number; durationNs: number; data: Buffer; ctx?: Buffer } = {
      retval: run.retval,
      durationNs: run.duration,
      data: dataOut && run.data_size_out > 0 ? Buffer.from(n.view(dataOut, run.data_size_out)) : Buffer.alloc(0),
    };
    if (ctxOut && run.ctx_size_out > 0) result.ctx = Buffer.from(n.view(ctxOut, run.ctx_size_out));
    return result;
  } finally {
    for (const p of allocated) n.free(p);
  }
}
