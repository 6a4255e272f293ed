#!/usr/bin/env node
/**
 * Bundles a daemon's built entry into one file, so that it starts in a fraction of a second: run
 * from the app's folder after tsc (`tsc -p tsconfig.lib.json && node ../../libs/daemon/bundle.mjs`).
 * tsc's dist/main.js and the ~770 modules it imports (the libraries' dist/, grpc-js, fastify,
 * pino, zod, yaml, prom-client …) become one dist/main.js; a module the daemon imports only when
 * configured (`await import(...)`: lb-controller's etcd and Kubernetes sources) becomes a chunk
 * under dist/chunks/ loaded then. koffi stays outside (a native addon, from node_modules). The
 * rest of dist/ (tsc's modules, the `/testing` entry) is kept: tests and benches import those.
 * The systemd units, the Dockerfiles and the labs run dist/main.js as before.
 */
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

/** Packages that cannot be bundled: native addons, loaded from node_modules at run time. */
const EXTERNAL = ['koffi'];

// CommonJS packages in an ESM bundle call require() for Node's modules: give them one.
const BANNER = "import { createRequire as __netaccelCreateRequire } from 'node:module'; const require = __netaccelCreateRequire(import.meta.url);";

rmSync('dist/chunks', { recursive: true, force: true });
const result = await build({
  entryPoints: ['dist/main.js'],
  outdir: 'dist',
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external: EXTERNAL,
  banner: { js: BANNER },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
const inputs = Object.keys(result.metafile.inputs).length;
const bytes = result.metafile.outputs['dist/main.js']?.bytes ?? 0;
process.stdout.write(`bundled dist/main.js: ${inputs} modules, ${(bytes / 1024).toFixed(0)} KiB\n`);
