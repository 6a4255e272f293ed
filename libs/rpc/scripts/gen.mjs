#!/usr/bin/env node
// Generates libs/rpc/src/generated/ from libs/rpc/proto/ with protoc and ts-proto, or checks that
// the committed output is current.
//
//   node scripts/gen.mjs               regenerate src/generated/ (npm run gen -w @netaccel/rpc)
//   node scripts/gen.mjs --check       regenerate into a temporary folder and compare it with
//                                      src/generated/; exit 1 and name the stale files when they
//                                      differ (npm run gen:check -w @netaccel/rpc; `make check`)
//   node scripts/gen.mjs --root DIR    work on DIR/proto and DIR/src/generated instead of this
//                                      package (tests run the check on a temporary copy)
//
// The output is a pure function of the .proto files, the protoc version and the ts-proto
// version: the files are passed in sorted order, the options below are fixed, and ts-proto
// writes no timestamps. Both tool versions are pinned here and checked before generating, so a
// different protoc or ts-proto gives a clear message rather than a confusing diff.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, mkdirSync, cpSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/** Tool versions the committed code was generated with. Change them together with a regeneration. */
export const PINNED = Object.freeze({
  protoc: 'libprotoc 3.21.12', // Debian bookworm's protobuf-compiler
  tsProto: '2.18.0', // ts-proto, root devDependency (package-lock.json)
});

/**
 * ts-proto options, one per line with the reason (README.md, "Generated code"):
 */
export const TS_PROTO_OPTIONS = Object.freeze([
  'outputServices=grpc-js', // grpc-js ServiceDefinitions, server interfaces and client constructors
  'env=node', // bytes fields are Buffers, as grpc-js and node:fs hand them over
  'esModuleInterop=true', // default imports where a module needs them
  'importSuffix=.js', // relative imports end in .js, as NodeNext resolution requires
  'useOptionals=messages', // message-typed fields are optional keys; scalars always present
  'oneof=unions-value', // oneofs as { $case, value } unions: switch on $case, TypeScript narrows
  'forceLong=bigint', // 64-bit fields as bigint: packet/byte counters and ns times exceed 2^53
]);

const libRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

class GenError extends Error {}

function fail(message) {
  throw new GenError(message);
}

/** Every .proto file under `protoDir`, relative to it, in byte order (locale-independent). */
export function protoFiles(protoDir) {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.proto')) out.push(relative(protoDir, p).split('\\').join('/'));
    }
  };
  walk(protoDir);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function toolVersions() {
  const protoc = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (protoc.error) {
    fail(`protoc not found (${protoc.error.message}); install Debian's protobuf-compiler: apt-get install -y protobuf-compiler`);
  }
  const pkgPath = require.resolve('ts-proto/package.json');
  const tsProto = JSON.parse(readFileSync(pkgPath, 'utf8')).version;
  return { protoc: protoc.stdout.trim(), tsProto, plugin: join(dirname(pkgPath), 'protoc-gen-ts_proto') };
}

function checkVersions(v) {
  const problems = [];
  if (v.protoc !== PINNED.protoc) {
    problems.push(`protoc is "${v.protoc}", the generated code is pinned to "${PINNED.protoc}" (Debian bookworm's protobuf-compiler)`);
  }
  if (v.tsProto !== PINNED.tsProto) {
    problems.push(`ts-proto is ${v.tsProto}, the generated code is pinned to ${PINNED.tsProto} (npm ci installs it from package-lock.json)`);
  }
  if (problems.length > 0) {
    fail(
      `${problems.join('; ')}.\nA different version generates different code. Use the pinned versions, or upgrade on ` +
        'purpose: change PINNED in libs/rpc/scripts/gen.mjs, run `npm run gen -w @netaccel/rpc` and commit the result.',
    );
  }
}

/** Runs protoc with ts-proto on every file of `protoDir`, writing into `outDir` (created). */
export function generate(protoDir, outDir) {
  const v = toolVersions();
  checkVersions(v);
  const files = protoFiles(protoDir);
  if (files.length === 0) fail(`no .proto files under ${protoDir}`);
  mkdirSync(outDir, { recursive: true });
  const r = spawnSync(
    'protoc',
    [
      `--plugin=protoc-gen-ts_proto=${v.plugin}`,
      `--ts_proto_out=${outDir}`,
      `--ts_proto_opt=${TS_PROTO_OPTIONS.join(',')}`,
      `--proto_path=${protoDir}`,
      ...files,
    ],
    { encoding: 'utf8', cwd: protoDir },
  );
  if (r.status !== 0) fail(`protoc failed (exit ${r.status ?? r.signal}):\n${r.stderr || r.stdout}`);
  return files;
}

function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

function firstDifferentLine(a, b) {
  const la = a.split('\n');
  const lb = b.split('\n');
  const n = Math.max(la.length, lb.length);
  for (let i = 0; i < n; i++) if (la[i] !== lb[i]) return i + 1;
  return n;
}

/** Compares two trees; answers one line per difference (empty when identical). */
export function compareTrees(expectedDir, actualDir) {
  const expected = listFiles(expectedDir);
  const actual = listFiles(actualDir);
  const actualSet = new Set(actual);
  const expectedSet = new Set(expected);
  const lines = [];
  for (const f of expected) {
    if (!actualSet.has(f)) {
      lines.push(`missing:  ${f} (generated from the protos, absent from src/generated)`);
      continue;
    }
    const e = readFileSync(join(expectedDir, f));
    const a = readFileSync(join(actualDir, f));
    if (!e.equals(a)) lines.push(`modified: ${f} (differs from line ${firstDifferentLine(e.toString('utf8'), a.toString('utf8'))})`);
  }
  for (const f of actual) if (!expectedSet.has(f)) lines.push(`extra:    ${f} (no .proto generates it)`);
  return lines;
}

function main(argv) {
  let check = false;
  let root = libRoot;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') check = true;
    else if (a === '--root') {
      const v = argv[++i];
      if (v === undefined) fail('--root: expected a folder');
      root = resolve(v);
    } else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/gen.mjs [--check] [--root DIR]');
      return 0;
    } else fail(`unknown argument ${JSON.stringify(a)}; usage: node scripts/gen.mjs [--check] [--root DIR]`);
  }
  const protoDir = join(root, 'proto');
  const generatedDir = join(root, 'src', 'generated');
  if (!existsSync(protoDir)) fail(`no proto folder at ${protoDir}`);

  if (!check) {
    const tmp = mkdtempSync(join(tmpdir(), 'netaccel-rpc-gen-'));
    try {
      const files = generate(protoDir, tmp);
      rmSync(generatedDir, { recursive: true, force: true });
      cpSync(tmp, generatedDir, { recursive: true });
      console.log(`gen: ${files.length} .proto files -> ${relative(process.cwd(), generatedDir) || '.'} (${listFiles(generatedDir).length} files)`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return 0;
  }

  const tmp = mkdtempSync(join(tmpdir(), 'netaccel-rpc-gencheck-'));
  try {
    generate(protoDir, tmp);
    const diff = compareTrees(tmp, generatedDir);
    if (diff.length === 0) {
      console.log('gen:check: src/generated is current');
      return 0;
    }
    console.error(
      `gen:check: ${generatedDir} is stale: it differs from what the .proto files generate\n` +
        diff.map((l) => `  ${l}`).join('\n') +
        '\nRun `npm run gen -w @netaccel/rpc` and commit src/generated (never edit generated files by hand).',
    );
    return 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof GenError)) throw err;
    console.error(`gen: ${err.message}`);
    process.exitCode = 2;
  }
}
