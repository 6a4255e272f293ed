// The fuzz run the issue asks of `make test`: 1,000,000 random and mutated messages through the
// fuzzer's core (testing/fuzz.ts, also behind scripts/fuzz-bgp.ts) with a fixed seed. No uncaught
// exception, and every rejection a BgpNotificationError whose code/subcode BGP defines and that
// becomes a NOTIFICATION we can send. About 30 s of CPU; fuzz.test.ts keeps a quick 25,000.
// Replay another seed with BGP_FUZZ_MILLION_SEED=<n>.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { isKnownNotification } from './constants.js';
import { decodeMessage, encodeMessage } from './message.js';
import { notification } from './notification.js';
import { runFuzz } from './testing/fuzz.js';

const ITERATIONS = 1_000_000;
const SEED = Number(process.env.BGP_FUZZ_MILLION_SEED ?? 1_000_003);
const UPDATE_ACTIONS = new Set(['treat-as-withdraw', 'attribute-discard']);

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

function parseKey(key: string): { code: number; subcode: number; rest: string } {
  const m = /^(\d+)\/(\d+)(?: (.+))?$/.exec(key);
  assert.ok(m, `outcome key ${JSON.stringify(key)} is not "code/subcode[ action]"`);
  return { code: Number(m[1]), subcode: Number(m[2]), rest: m[3] ?? '' };
}

/** The NOTIFICATION for code/subcode encodes and decodes back to the same code and subcode. */
function sendable(code: number, subcode: number): boolean {
  const decoded = decodeMessage(encodeMessage(notification(code, subcode, Buffer.from([0xde, 0xad]))));
  const m = decoded?.message;
  return m?.type === 'notification' && m.code === code && m.subcode === subcode && decoded?.consumed === 23;
}

test(`1,000,000 random and mutated messages: no uncaught exception, every rejection a NOTIFICATION (seed ${SEED})`, () => {
  assert.ok(Number.isInteger(SEED) && SEED >= 0, `BGP_FUZZ_MILLION_SEED: expected a whole number, got ${process.env.BGP_FUZZ_MILLION_SEED}`);
  const s = runFuzz({ iterations: ITERATIONS, seed: SEED });
  console.log(`${(s.durationMs / 1000).toFixed(1)} s, ${Math.round(ITERATIONS / (s.durationMs / 1000))} messages/s`);
  console.log(
    `random ${s.random}, mutated ${s.mutated}; ok ${s.ok}, ok-with-discards ${s.okWithDiscards}, treat-as-withdraw ${s.treatAsWithdraw}, incomplete ${s.incomplete}, session reset ${sum(s.notifications)}; framer checks ${s.framerChecks}`,
  );
  console.log(`session resets ${JSON.stringify(s.notifications)}`);
  console.log(`UPDATE faults ${JSON.stringify(s.updateFaults)}`);

  // no uncaught exception, no other failure of the fuzzer's checks (re-encoding, framer)
  assert.equal(s.failureCount, 0, `${s.failureCount} failures (replay with BGP_FUZZ_MILLION_SEED=${SEED}):\n${s.failures.map((f) => `${f.problem}\n  context ${f.context} input ${f.input}`).join('\n')}`);

  // every input was generated, and ended in exactly one outcome
  assert.equal(s.iterations, ITERATIONS);
  assert.equal(s.random + s.mutated, ITERATIONS);
  assert.ok(s.random > 0 && s.mutated > 0, 'both random and mutated inputs');
  assert.equal(sum(s.decoded), s.ok + s.okWithDiscards + s.treatAsWithdraw, 'decoded messages are ok, ok-with-discards or treat-as-withdraw');
  assert.equal(sum(s.decoded) + s.incomplete + sum(s.notifications), ITERATIONS, 'every input decoded, incomplete or rejected with a NOTIFICATION');

  // every session reset: a code/subcode BGP defines, sent as a NOTIFICATION
  for (const key of Object.keys(s.notifications)) {
    const { code, subcode, rest } = parseKey(key);
    assert.equal(rest, '', key);
    assert.ok(isKnownNotification(code, subcode), `session reset with undefined NOTIFICATION ${key}`);
    assert.ok(sendable(code, subcode), `NOTIFICATION ${key} does not encode and decode`);
  }
  // every RFC 7606 fault inside an UPDATE result: an UPDATE Message Error with a lesser action
  for (const key of Object.keys(s.updateFaults)) {
    const { code, subcode, rest } = parseKey(key);
    assert.ok(UPDATE_ACTIONS.has(rest), `UPDATE fault ${key}: action ${JSON.stringify(rest)}`);
    assert.equal(code, 3, `UPDATE fault ${key} is not an UPDATE Message Error`);
    assert.ok(isKnownNotification(code, subcode), `UPDATE fault with undefined code/subcode ${key}`);
    assert.ok(sendable(code, subcode), `NOTIFICATION ${key} does not encode and decode`);
  }

  // the inputs reach every outcome and every message type, not only the first checks
  for (const [name, n] of Object.entries({ ok: s.ok, okWithDiscards: s.okWithDiscards, treatAsWithdraw: s.treatAsWithdraw, incomplete: s.incomplete, framerChecks: s.framerChecks })) {
    assert.ok(n > 0, `no ${name} outcome`);
  }
  for (const type of ['open', 'update', 'notification', 'keepalive', 'route-refresh']) assert.ok((s.decoded[type] ?? 0) > 0, `no ${type} decoded`);
  for (const code of [1, 2, 3]) {
    assert.ok(Object.keys(s.notifications).some((k) => parseKey(k).code === code), `no session reset with NOTIFICATION code ${code}`);
  }
  for (const action of UPDATE_ACTIONS) assert.ok(Object.keys(s.updateFaults).some((k) => k.endsWith(` ${action}`)), `no ${action} fault`);
});
