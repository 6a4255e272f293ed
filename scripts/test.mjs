#!/usr/bin/env node
// Runs netaccel's tests with vitest (vitest.config.ts: one project per layer).
//
//   node scripts/test.mjs [--layer unit|slow|bpf|ns|all] [path ...] [-- <vitest options>]
//
// Layers are chosen by file name:
//   *.test.ts       unit: no root, no kernel objects, no namespaces, no child processes
//                   (vitest projects `unit` and `unit-isolated`: see vitest.config.ts)
//   *.slow.test.ts  slow: no root, but child processes, a build or a CPU-heavy fuzz
//   *.bpf.test.ts   BPF: loads programs and runs them with BPF_PROG_TEST_RUN (root)
//   *.ns.test.ts    end to end: real traffic across network namespaces (root)
// Every selected layer runs in one `vitest run`, layer after layer, so the run ends with one
// summary (Test Files / Tests). Paths select the test files under them (a file or a folder).
// Root layers are never skipped silently: without root the script refuses to run them and says so.
// Anything after `--` goes to vitest as it is (e.g. `-- -t "hold timer"`, `-- --reporter=verbose`).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const USAGE = 'usage: node scripts/test.mjs [--layer unit|slow|bpf|ns|all] [path ...] [-- <vitest options>]';

const args = process.argv.slice(2);
let layer = 'all';
const paths = [];
const passthrough = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--') {
    passthrough.push(...args.slice(i + 1));
    break;
  } else if (a === '--layer') layer = args[++i] ?? '';
  else if (a.startsWith('--layer=')) layer = a.slice('--layer='.length);
  else if (a === '-h' || a === '--help') {
    console.log(USAGE);
    process.exit(0);
  } else if (a.startsWith('-')) {
    console.error(`test: unknown option ${a}\n${USAGE}`);
    process.exit(2);
  } else paths.push(a);
}
const layers = layer === 'all' ? ['unit', 'slow', 'bpf', 'ns'] : [layer];
for (const l of layers) {
  if (!['unit', 'slow', 'bpf', 'ns'].includes(l)) {
    console.error(`test: --layer: expected unit, slow, bpf, ns or all, got ${JSON.stringify(l)}`);
    process.exit(2);
  }
}

// Paths become vitest file filters relative to the repository root (vitest matches them as
// substrings of the file path, so a folder selects everything under it).
const filters = [];
for (const p of paths) {
  const abs = resolve(p);
  if (!existsSync(abs)) {
    console.error(`test: no such file or folder: ${abs}`);
    process.exit(2);
  }
  const rel = relative(root, abs);
  if (rel.startsWith('..')) {
    console.error(`test: ${abs} is outside the repository (${root})`);
    process.exit(2);
  }
  if (rel === '') continue; // the whole repository
  filters.push(statSync(abs).isDirectory() ? rel.split(sep).join('/') + '/' : rel.split(sep).join('/'));
}

const needsRoot = layers.some((l) => l === 'bpf' || l === 'ns');
if (needsRoot && process.getuid?.() !== 0) {
  console.error(
    'test: the bpf and ns layers load BPF programs and build network namespaces, which needs root.\n' +
      '      Run as root (make test does), or choose --layer unit.',
  );
  process.exit(2);
}

const vitest = resolve(root, 'node_modules/vitest/vitest.mjs');
// The unit layer is two vitest projects: files sharing worker processes, and the few that need
// one process each (vitest.config.ts says why).
const projects = layers.flatMap((l) => (l === 'unit' ? ['unit', 'unit-isolated'] : [l]));
const vitestArgs = ['run', ...projects.map((p) => `--project=${p}`), ...filters, ...passthrough];
console.log(`test: vitest ${vitestArgs.join(' ')}`);
const r = spawnSync(process.execPath, [vitest, ...vitestArgs], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NETACCEL_TEST: '1' },
});
process.exit(r.status ?? 1);
