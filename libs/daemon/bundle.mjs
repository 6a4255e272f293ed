#!/usr/bin/env node
/**
 * Bundles a daemon's built entry into one file with V8's code cache, so that it starts in a
 * fraction of a second: run from the app's folder after tsc
 * (`tsc -p tsconfig.lib.json && node ../../libs/daemon/bundle.mjs`).
 *
 * tsc's dist/main.js and the ~770 modules it imports (the libraries' dist/, grpc-js, fastify,
 * pino, zod, yaml, prom-client …) become one CommonJS file, dist/main.cjs, written already wrapped
 * in its module function (so V8 keeps the file's text as the source, not a wrapped copy of it);
 * dist/main.js becomes a launcher that compiles it with dist/main.cjs.cache, the code V8 compiled for it at build time
 * (a start that evaluates every module: compiling is then mostly skipped). A cache V8 refuses (an
 * other Node version) is ignored: the file is compiled as usual. Measured here: start-up CPU
 * 0.55 s with the ~770 files, 0.29 s as one ESM file, 0.18 s as one file with its code cache,
 * 0.155 s with white space and syntax minified as well.
 *
 * Outside the bundle: koffi (a native addon) and the etcd and Kubernetes clients (lb-controller
 * requires them only when its source is configured so), from node_modules at run time. The rest
 * of dist/ (tsc's modules, the `/testing` entry) is kept: tests and benches import those. The
 * systemd units, the Dockerfiles and the labs run dist/main.js as before.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

/** Loaded from node_modules at run time: a native addon, and clients loaded only when configured. */
const EXTERNAL = ['koffi', 'etcd3', '@kubernetes/client-node'];

const ENTRY = 'dist/main.js';
const BUNDLE = 'dist/main.cjs';
const CACHE = `${BUNDLE}.cache`;

// main.ts is `await runDaemon(spec)`: CommonJS has no top-level await (runDaemon reports its own failures)
const TOP_LEVEL = /^await (runDaemon\(.*\));\s*$/m;

/** The bundle's first and last text: the function that a CommonJS module's code is the body of. */
const WRAP_OPEN = '(function (exports, require, module, __filename, __dirname) {';
const WRAP_CLOSE = '\n})';

const LAUNCHER = `#!/usr/bin/env node
// Written by libs/daemon/bundle.mjs: runs main.cjs (this daemon bundled into one file, already
// wrapped in its module function) compiled with V8's code cache main.cjs.cache when V8 accepts it.
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const dir = dirname(fileURLToPath(import.meta.url));
const file = join(dir, 'main.cjs');
const cacheFile = join(dir, 'main.cjs.cache');
// A file's bytes in memory V8 maps itself (a WebAssembly memory), not from malloc: glibc raises
// its mmap threshold to the size of a freed mmapped block (the bundle's 2.3 MB, the cache's
// 1.2 MB), and then keeps up to twice that of freed memory in its heap instead of returning it
// (~2 MiB of idle RSS). Unmapped when the buffer is garbage. A plain read where V8 refuses.
function readOutsideMalloc(path) {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let buf;
    try {
      buf = Buffer.from(new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(size / 65536)) }).buffer, 0, size);
    } catch {
      return readFileSync(fd);
    }
    let off = 0;
    for (let n; off < size && (n = readSync(fd, buf, off, size - off, off)) > 0; ) off += n;
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
// in a function: the bytes are garbage once compiled (V8 keeps the source text it was given,
// the file's own: no wrapped copy), not held for the process's life by module-scope constants
function compile() {
  let cachedData;
  try {
    cachedData = readOutsideMalloc(cacheFile);
  } catch {
    cachedData = undefined;
  }
  return new Script(readOutsideMalloc(file).toString('utf8'), { filename: file, cachedData });
}
const script = compile();
if (process.env.NETACCEL_WRITE_CODE_CACHE === '1') process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
const mod = { exports: {}, id: file, filename: file, loaded: false, children: [] };
script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dir);
`;

if (!TOP_LEVEL.test(readFileSync(ENTRY, 'utf8'))) throw new Error(`${ENTRY}: expected tsc's output of a main.ts that is \`await runDaemon(spec)\``);
rmSync('dist/chunks', { recursive: true, force: true }); // an earlier ESM bundle's
rmSync(CACHE, { force: true });
rmSync('dist/main.js.map', { force: true }); // tsc's map of the entry the launcher replaces
const result = await build({
  entryPoints: [ENTRY],
  outfile: BUNDLE,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  define: { 'import.meta.url': '__netaccelModuleUrl' },
  // the module function is in the file (the launcher compiles its text as read, no wrapped copy)
  banner: { js: `${WRAP_OPEN}const __netaccelModuleUrl = require('node:url').pathToFileURL(__filename).href;` },
  footer: { js: WRAP_CLOSE },
  legalComments: 'none',
  // names kept (stack traces name the functions); dist/main.cjs.map maps them back (node --enable-source-maps)
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  metafile: true,
  plugins: [
    {
      name: 'main-without-top-level-await',
      setup(b) {
        b.onLoad({ filter: /[\\/]dist[\\/]main\.js$/ }, (args) => ({
          contents: readFileSync(args.path, 'utf8').replace(/^#!.*\n/, '').replace(TOP_LEVEL, 'void $1;'),
          loader: 'js',
        }));
      },
    },
  ],
});
writeFileSync(ENTRY, LAUNCHER, { mode: 0o755 });
// the code cache: one start that evaluates every module (it stops at the unknown option)
spawnSync(process.execPath, [ENTRY, '--netaccel-write-code-cache'], { env: { ...process.env, NETACCEL_WRITE_CODE_CACHE: '1' }, stdio: 'ignore', timeout: 60_000 });
if (!existsSync(CACHE)) throw new Error(`${CACHE} was not written: run \`NETACCEL_WRITE_CODE_CACHE=1 node ${ENTRY} --x\` to see why`);
const inputs = Object.keys(result.metafile.inputs).length;
process.stdout.write(`bundled ${BUNDLE}: ${inputs} modules, ${(statSync(BUNDLE).size / 1024).toFixed(0)} KiB; code cache ${(statSync(CACHE).size / 1024).toFixed(0)} KiB; ${ENTRY} launches it\n`);
