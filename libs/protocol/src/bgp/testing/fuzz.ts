/**
 * Fuzzing of the BGP decoder: random messages and mutations of valid encodings (bit flips, byte
 * overwrites, truncation, extension, corrupted length fields of the header, UPDATE, attributes,
 * OPEN and capabilities, attribute splicing, duplication, deletion and reordering, flag and type
 * changes). For each input it asserts that
 * - the decoder either returns (a message, or null for "need more octets") or throws a
 *   `BgpNotificationError` with action session-reset and a NOTIFICATION code/subcode BGP defines;
 *   any other exception is a failure;
 * - every UPDATE fault reported (treat-as-withdraw, discards) is such an error too;
 * - a message that decodes re-encodes on the same session and decodes to the same value;
 * - the stream framer accepts or rejects the input the same way when fed in random chunks.
 * Test support only: used by `fuzz.test.ts` and `scripts/fuzz-bgp.ts`.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { isKnownNotification } from '../constants.js';
import type { SessionContext } from '../context.js';
import { maxMessageLength } from '../context.js';
import { readHeader } from '../header.js';
import { BgpNotificationError } from '../errors.js';
import { BgpFramer } from '../framer.js';
import { decodeMessage, encodeMessage } from '../message.js';
import type { BgpMessage, ReceivedMessage } from '../message.js';
import { allContexts, messageArb } from './arbitraries.js';
import { Rng } from '../../random.js';
import { mutate, randomMessage } from './mutate.js';

export interface FuzzOptions {
  iterations: number;
  seed: number;
  /** Valid messages generated per context for the mutation corpus. */
  corpusPerContext?: number;
  /** Share of purely random inputs, 0..1 (the rest are mutations). */
  randomShare?: number;
  /** Called every `progressEvery` iterations. */
  onProgress?: (done: number, stats: FuzzStats) => void;
  progressEvery?: number;
}

export interface FuzzFailure {
  readonly input: string;
  readonly context: number;
  readonly problem: string;
}

export interface FuzzStats {
  iterations: number;
  random: number;
  mutated: number;
  /** Decoded messages by type (UPDATE results counted under `update`). */
  decoded: Record<string, number>;
  ok: number;
  okWithDiscards: number;
  treatAsWithdraw: number;
  /** Inputs whose length field asks for more octets than given. */
  incomplete: number;
  /** Session resets by "code/subcode". */
  notifications: Record<string, number>;
  /** Faults inside treat-as-withdraw / ok-with-discards results by "code/subcode action". */
  updateFaults: Record<string, number>;
  framerChecks: number;
  failures: FuzzFailure[];
  failureCount: number;
  corpusSize: number;
  durationMs: number;
}

const bump = (r: Record<string, number>, k: string): void => {
  r[k] = (r[k] ?? 0) + 1;
};

function validError(err: unknown): err is BgpNotificationError {
  return err instanceof BgpNotificationError && isKnownNotification(err.notification.code, err.notification.subcode) && Buffer.isBuffer(err.notification.data);
}

/** Builds the corpus: valid encodings of generated messages, for every context. */
export function buildCorpus(contexts: readonly SessionContext[], perContext: number, seed: number): { bytes: Buffer; ctx: number }[] {
  const corpus: { bytes: Buffer; ctx: number }[] = [];
  contexts.forEach((ctx, i) => {
    for (const msg of fc.sample(messageArb(ctx), { numRuns: perContext, seed: seed + i })) corpus.push({ bytes: encodeMessage(msg, ctx), ctx: i });
  });
  return corpus;
}

/**
 * Runs the fuzzer. Stack traces are turned off while it runs (they cost more than the decoding);
 * an unexpected exception is decoded again with them on, for the report.
 */
export function runFuzz(opts: FuzzOptions): FuzzStats {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return run(opts, limit);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function withStack(input: Buffer, ctx: SessionContext, limit: number): string {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = limit;
  try {
    decodeMessage(input, ctx);
    return 'no exception the second time';
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err);
  } finally {
    Error.stackTraceLimit = saved;
  }
}

function run(opts: FuzzOptions, stackLimit: number): FuzzStats {
  const started = performance.now();
  const contexts = allContexts();
  const corpus = buildCorpus(contexts, opts.corpusPerContext ?? 40, opts.seed);
  const updates = corpus.filter((c) => c.bytes[18] === 2).map((c) => c.bytes);
  const rng = new Rng(opts.seed);
  const randomShare = opts.randomShare ?? 0.15;
  const stats: FuzzStats = {
    iterations: 0, random: 0, mutated: 0, decoded: {}, ok: 0, okWithDiscards: 0, treatAsWithdraw: 0, incomplete: 0,
    notifications: {}, updateFaults: {}, framerChecks: 0, failures: [], failureCount: 0, corpusSize: corpus.length, durationMs: 0,
  };
  const fail = (input: Buffer, ctx: number, problem: string): void => {
    stats.failureCount++;
    if (stats.failures.length < 20) stats.failures.push({ input: input.toString('hex'), context: ctx, problem });
  };
  for (let i = 0; i < opts.iterations; i++) {
    let input: Buffer;
    let ci: number;
    if (rng.next() < randomShare) {
      stats.random++;
      ci = rng.int(contexts.length);
      input = randomMessage(rng);
    } else {
      stats.mutated++;
      const base = corpus[rng.int(corpus.length)]!;
      ci = rng.next() < 0.8 ? base.ctx : rng.int(contexts.length);
      input = mutate(base.bytes, rng, updates);
    }
    const ctx = contexts[ci]!;
    stats.iterations++;
    let outcome: 'message' | 'incomplete' | string;
    try {
      const d = decodeMessage(input, ctx);
      if (d === null) {
        stats.incomplete++;
        outcome = 'incomplete';
      } else {
        outcome = 'message';
        check(d.message, ctx, stats, (p) => fail(input, ci, p));
      }
    } catch (err) {
      if (validError(err) && err.action === 'session-reset') {
        const key = `${err.notification.code}/${err.notification.subcode}`;
        bump(stats.notifications, key);
        outcome = key;
      } else {
        fail(input, ci, `unexpected exception: ${withStack(input, ctx, stackLimit)}`);
        continue;
      }
    }
    if (rng.next() < 0.05) checkFramer(input, ctx, outcome, rng, stats, (p) => fail(input, ci, p));
    if (opts.onProgress !== undefined && (i + 1) % (opts.progressEvery ?? 100_000) === 0) opts.onProgress(i + 1, stats);
  }
  stats.durationMs = Math.round(performance.now() - started);
  return stats;
}

function check(m: ReceivedMessage, ctx: SessionContext, stats: FuzzStats, fail: (p: string) => void): void {
  bump(stats.decoded, m.type);
  let msg: BgpMessage;
  if (m.type === 'update') {
    if (m.kind === 'treat-as-withdraw') {
      stats.treatAsWithdraw++;
      for (const f of m.faults) {
        if (!validError(f)) fail(`fault that is not a valid BgpNotificationError: ${String(f)}`);
        else bump(stats.updateFaults, `${f.notification.code}/${f.notification.subcode} ${f.action}`);
      }
      if (m.reason.action !== 'treat-as-withdraw') fail(`treat-as-withdraw with reason action ${m.reason.action}`);
      return;
    }
    if (m.kind === 'ok-with-discards') {
      stats.okWithDiscards++;
      for (const f of m.discarded) {
        if (!validError(f) || f.action !== 'attribute-discard') fail(`discard that is not an attribute-discard BgpNotificationError: ${String(f)}`);
        else bump(stats.updateFaults, `${f.notification.code}/${f.notification.subcode} ${f.action}`);
      }
    } else {
      stats.ok++;
    }
    msg = m.update;
  } else {
    stats.ok++;
    msg = m;
  }
  // A decoded message must encode on the same session and decode to the same value.
  let bytes: Buffer;
  try {
    bytes = encodeMessage(msg, ctx);
  } catch (err) {
    fail(`decoded message does not re-encode: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  try {
    const again = decodeMessage(bytes, ctx);
    const value = again?.message;
    const same = value !== undefined && (value.type === 'update' ? value.kind === 'ok' && isDeepStrictEqual(value.update, msg) : isDeepStrictEqual(value, msg));
    if (!same) fail(`re-encoded message decodes differently: ${JSON.stringify(value)}`);
  } catch (err) {
    fail(`re-encoded message does not decode: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function checkFramer(input: Buffer, ctx: SessionContext, outcome: string, rng: Rng, stats: FuzzStats, fail: (p: string) => void): void {
  stats.framerChecks++;
  const framer = new BgpFramer();
  framer.useContext(ctx);
  let got: string = 'incomplete';
  try {
    for (let pos = 0; pos < input.length && got === 'incomplete'; ) {
      const n = 1 + rng.int(Math.min(64, input.length - pos));
      framer.push(input.subarray(pos, pos + n));
      pos += n;
      const m = framer.next();
      if (m !== null) got = m.equals(input.subarray(0, m.length)) ? 'message' : 'wrong octets';
    }
  } catch (err) {
    got = validError(err) ? `${err.notification.code}/${err.notification.subcode}` : `exception ${String(err)}`;
  }
  // The framer applies only the header's marker and length-range checks; the rest is the decoder's.
  let expected: string;
  try {
    const h = readHeader(input, 0, maxMessageLength(ctx, 'receive'));
    expected = h === null || input.length < h.length ? 'incomplete' : 'message';
  } catch (err) {
    expected = validError(err) ? `${err.notification.code}/${err.notification.subcode}` : 'exception';
  }
  if (got !== expected) fail(`framer gave ${got}, expected ${expected}`);
  if ((outcome === '1/1' || outcome === 'incomplete') && expected !== outcome) fail(`decoder gave ${outcome}, header alone ${expected}`);
}
