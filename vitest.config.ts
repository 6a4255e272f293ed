/**
 * netaccel's tests: one `vitest run`, three projects (layers) chosen by file name, run one layer
 * after the other (sequence.groupOrder) so the run ends with one summary.
 *
 *   unit  *.test.ts       no root, no kernel objects, no namespaces,   files in parallel, a worker
 *                         no child processes: code and loopback        process runs many files
 *   slow  *.slow.test.ts  no root, but child processes (a browser,     files in parallel
 *                         systemd-analyze, make install, depcruise,    (beside unit: unit stays quick)
 *                         openssl, BIRD), a build, or a CPU-heavy fuzz
 *   bpf   *.bpf.test.ts   BPF_PROG_TEST_RUN, pins under /sys/fs/bpf    one file at a time
 *   ns    *.ns.test.ts    network namespaces, veth, real daemons       one file at a time
 *
 * Why the root layers run one file at a time: their files attach XDP/TC programs, pin objects,
 * start daemons on fixed ports (BGP 179 inside namespaces, 18080 on loopback aliases), build
 * namespaces with fixed names (the lab's) and measure timings that a neighbour would disturb on a
 * 2-CPU machine. Inside a file, tests run in order, as written.
 *
 * Why unit files share worker processes (isolate: false): a fresh process per file spent more
 * time importing (grpc-js, pino, zod, the built packages) than testing: 139 s for 1,055 tests
 * against the 30 s a layer run on every save may take. A worker evaluates a module once for all
 * its files (sources and node_modules alike), so a unit test keeps no state in modules that
 * another file could see, and restores what it changes in the process (process.exitCode,
 * listeners, the environment); the files' order in a worker is not fixed (`-- --sequence.shuffle`
 * checks). The exception is libs/bpf's sources: they declare named koffi types for libbpf at import
 * time, and koffi refuses a second declaration of a name in one process (the built @netaccel/bpf
 * that other files load declares the same names), so those files run one process each, as the
 * `unit-isolated` project (still the unit layer: scripts/test.mjs runs both).
 *
 * `node scripts/test.mjs` is the front end (layer and path selection, the root check); see
 * CONTRIBUTING.md for vitest's own filters and watch mode.
 */
import { cpus } from 'node:os';
import { defineConfig } from 'vitest/config';

const ROOTS = '{libs,apps,bpf,test,bench,scripts,docker,packaging}';
const EXCLUDE = ['**/node_modules/**', '**/dist/**', '**/build/**', '**/.nx/**', 'bench/results/**', 'coverage/**'];
const MINUTE = 60_000;
const NOT_UNIT = ['**/*.bpf.test.ts', '**/*.ns.test.ts', '**/*.slow.test.ts'];
/** Unit files that need a process of their own (see above): named koffi types at import time. */
const UNIT_ISOLATED = ['libs/bpf/src/**/*.test.ts'];

export default defineConfig({
  test: {
    // Each file in its own child process: koffi (libbpf), process.chdir, signal handlers and
    // namespaces entered by a test stay with that file.
    pool: 'forks',
    isolate: true,
    env: { NETACCEL_TEST: '1' },
    // A failing assertion shows node:assert's own diff; no retries, no silenced output.
    retry: 0,
    passWithNoTests: false,
    allowOnly: false,
    exclude: EXCLUDE,
    coverage: {
      provider: 'v8',
      include: ['libs/*/src/**/*.ts', 'apps/*/src/**/*.ts', 'bpf/**/*.ts'],
      exclude: ['**/*.test.ts', '**/generated/**', '**/dist/**', '**/build/**', '**/node_modules/**'],
      reporter: ['text-summary', 'html', 'json-summary'],
      reportsDirectory: 'coverage',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [`${ROOTS}/**/*.test.ts`],
          exclude: [...EXCLUDE, ...NOT_UNIT, ...UNIT_ISOLATED],
          sequence: { groupOrder: 0 },
          maxWorkers: Math.max(1, Math.min(4, cpus().length)),
          isolate: false,
          // Ceilings against hangs, not budgets.
          testTimeout: 5 * MINUTE,
          hookTimeout: 5 * MINUTE,
        },
      },
      {
        extends: true,
        test: {
          name: 'unit-isolated',
          include: UNIT_ISOLATED,
          exclude: [...EXCLUDE, ...NOT_UNIT],
          sequence: { groupOrder: 0 },
          maxWorkers: Math.max(1, Math.min(4, cpus().length)),
          testTimeout: 5 * MINUTE,
          hookTimeout: 5 * MINUTE,
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          include: [`${ROOTS}/**/*.slow.test.ts`],
          sequence: { groupOrder: 0 },
          maxWorkers: Math.max(1, Math.min(4, cpus().length)),
          // Ceilings against hangs, not budgets: the million-message BGP fuzz takes 1-3 minutes
          // on a loaded 2-CPU machine.
          testTimeout: 10 * MINUTE,
          hookTimeout: 5 * MINUTE,
        },
      },
      {
        extends: true,
        test: {
          name: 'bpf',
          include: [`${ROOTS}/**/*.bpf.test.ts`],
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 5 * MINUTE,
          hookTimeout: 5 * MINUTE,
        },
      },
      {
        extends: true,
        test: {
          name: 'ns',
          include: [`${ROOTS}/**/*.ns.test.ts`],
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 15 * MINUTE,
          hookTimeout: 15 * MINUTE,
        },
      },
    ],
  },
});
