// Long fuzz run of the BGP decoder: random messages and mutations of valid encodings (see
// src/bgp/testing/fuzz.ts for what is generated and asserted). The same core runs 1,000,000
// messages with a fixed seed in make test (src/bgp/fuzz-million.slow.test.ts); this script is for
// other seeds and longer runs.
//
//   node --import tsx libs/protocol/scripts/fuzz-bgp.ts [--iterations N] [--seed S]
//
// Prints progress, then the counts per outcome and per NOTIFICATION; exits 1 on any failure.
import process from 'node:process';
import { runFuzz } from '../src/bgp/testing/fuzz.js';
import type { FuzzStats } from '../src/bgp/testing/fuzz.js';

function option(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`fuzz-bgp: --${name}: expected a whole number, got ${JSON.stringify(process.argv[i + 1])}`);
    process.exit(2);
  }
  return v;
}

const iterations = option('iterations', 1_000_000);
const seed = option('seed', Date.now() % 2 ** 31);

function sorted(r: Record<string, number>): string {
  return Object.entries(r)
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([k, v]) => `  ${k.padEnd(28)} ${v}`)
    .join('\n');
}

console.log(`fuzz-bgp: ${iterations} messages, seed ${seed}`);
const stats: FuzzStats = runFuzz({
  iterations,
  seed,
  onProgress: (done, s) => console.log(`  ${done} done, ${s.failureCount} failures`),
});
const session = Object.values(stats.notifications).reduce((a, b) => a + b, 0);
console.log(`
time              ${(stats.durationMs / 1000).toFixed(1)} s (${Math.round(stats.iterations / (stats.durationMs / 1000))} messages/s)
inputs            ${stats.iterations} (${stats.random} random, ${stats.mutated} mutated from a corpus of ${stats.corpusSize})
ok                ${stats.ok}
ok-with-discards  ${stats.okWithDiscards}
treat-as-withdraw ${stats.treatAsWithdraw}
incomplete        ${stats.incomplete} (length field asks for more octets)
session reset     ${session}
framer checks     ${stats.framerChecks}
failures          ${stats.failureCount}

decoded by type
${sorted(stats.decoded)}
NOTIFICATION (session reset) by code/subcode
${sorted(stats.notifications)}
UPDATE faults inside treat-as-withdraw / ok-with-discards results
${sorted(stats.updateFaults)}`);
for (const f of stats.failures) console.log(`\nFAILURE ${f.problem}\n  context ${f.context}\n  input ${f.input}`);
process.exit(stats.failureCount === 0 ? 0 : 1);
