/**
 * Runs benchmarks: `make bench` (all) or `make bench NAME=<name>`. Each benchmark is a folder
 * `bench/<name>/` whose `index.ts` default-exports a `Benchmark`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { BenchContext, isStrict, missedGoals, renderResult, writeResult, type Benchmark } from './lib/harness.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(here, e.name, 'index.ts')))
  .map((e) => e.name)
  .sort();

const strict = isStrict(process.argv.slice(2), process.env);
const wanted = process.argv.slice(2).filter((a) => a.length > 0 && a !== '--strict');
for (const w of wanted) {
  if (!available.includes(w)) {
    console.error(`bench: no benchmark named ${JSON.stringify(w)}; available: ${available.join(', ')}`);
    process.exit(2);
  }
}
const names = wanted.length > 0 ? wanted : available;
let failed = 0;
for (const name of names) {
  const mod = (await import(pathToFileURL(join(here, name, 'index.ts')).href)) as { default: Benchmark };
  const b = mod.default;
  if (b.needsRoot && process.getuid?.() !== 0) {
    console.error(`bench: ${name} loads BPF programs or builds namespaces and needs root`);
    failed++;
    continue;
  }
  console.log(`bench: ${name}: ${b.description}`);
  const ctx = new BenchContext(b.name);
  const t0 = Date.now();
  try {
    await b.run(ctx);
  } catch (err) {
    console.error(`bench: ${name} failed:`, err);
    failed++;
    continue;
  }
  const result = ctx.result();
  console.log(renderResult(result));
  console.log(`bench: ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s, results in ${writeResult(result)}\n`);
  if (strict && missedGoals(result).length > 0) {
    console.error(`bench: ${name}: ${missedGoals(result).length} goal(s) missed (--strict)`);
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);
