#!/usr/bin/env node
// Runs netaccel's tests with Node's own test runner, from TypeScript sources through tsx.
//
//   node scripts/test.mjs [--layer unit|bpf|ns|all] [--concurrency N] [path ...]
//
// Layers are chosen by file name:
//   *.test.ts       unit: no root, no kernel objects, no namespaces
//   *.bpf.test.ts   BPF: loads programs and runs them with BPF_PROG_TEST_RUN (root)
//   *.ns.test.ts    end to end: real traffic across network namespaces (root)
// Every selected file runs in one `node --test` invocation, so the run ends with the runner's
// own summary (tests / pass / fail). Root layers are never skipped silently: without root the
// script refuses to run them and says so.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const SEARCH = ['libs', 'apps', 'bpf', 'test', 'bench', 'scripts', 'docker', 'packaging'];
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', '.nx', '.git', 'results']);

function layerOf(file) {
  if (file.endsWith('.bpf.test.ts')) return 'bpf';
  if (file.endsWith('.ns.test.ts')) return 'ns';
  if (file.endsWith('.test.ts')) return 'unit';
  return null;
}

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(join(dir, e.name), out);
    } else if (e.isFile() && layerOf(e.name)) {
      out.push(join(dir, e.name));
    }
  }
  return out;
}

const args = process.argv.slice(2);
let layer = 'all';
let concurrency = 2;
const paths = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--layer') layer = args[++i] ?? '';
  else if (a === '--concurrency') concurrency = Number(args[++i]);
  else if (a === '-h' || a === '--help') {
    console.log('usage: node scripts/test.mjs [--layer unit|bpf|ns|all] [--concurrency N] [path ...]');
    process.exit(0);
  } else paths.push(a);
}
const layers = layer === 'all' ? ['unit', 'bpf', 'ns'] : [layer];
for (const l of layers) {
  if (!['unit', 'bpf', 'ns'].includes(l)) {
    console.error(`test: --layer: expected unit, bpf, ns or all, got ${JSON.stringify(l)}`);
    process.exit(2);
  }
}
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`test: --concurrency: expected a whole number >= 1, got ${concurrency}`);
  process.exit(2);
}

const bases = paths.length > 0 ? paths.map((p) => resolve(p)) : SEARCH.map((d) => join(root, d));
const files = [];
for (const b of bases) {
  let st;
  try {
    st = statSync(b);
  } catch {
    if (paths.length > 0) {
      console.error(`test: no such file or folder: ${b}`);
      process.exit(2);
    }
    continue;
  }
  if (st.isFile()) files.push(b);
  else walk(b, files);
}
const selected = files.filter((f) => layers.includes(layerOf(f))).sort();

const needsRoot = selected.some((f) => layerOf(f) !== 'unit');
if (needsRoot && process.getuid?.() !== 0) {
  console.error(
    'test: the bpf and ns layers load BPF programs and build network namespaces, which needs root.\n' +
      '      Run as root (make test does), or choose --layer unit.',
  );
  process.exit(2);
}
if (selected.length === 0) {
  console.error(`test: no test files found for layer ${layer}`);
  process.exit(2);
}

const counts = { unit: 0, bpf: 0, ns: 0 };
for (const f of selected) counts[layerOf(f)]++;
console.log(
  `test: ${selected.length} files (unit ${counts.unit}, bpf ${counts.bpf}, ns ${counts.ns}), concurrency ${concurrency}`,
);

const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...selected.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NETACCEL_TEST: '1' } },
);
process.exit(r.status ?? 1);
