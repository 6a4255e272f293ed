/**
 * The parallel part of building: every node's command runs at once and the first failure stops
 * the rest. What is checked here is that this adds no 'abort' listener that outlives it and never
 * piles more than one onto a signal: a lab of more than ten nodes once made Node warn
 * "MaxListenersExceededWarning: Possible EventTarget memory leak detected" (`make lab`, step 2).
 */
import { afterEach, beforeEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { allOrStop, buildPlan } from './build.js';
import { runCommand } from './command.js';
import type { RunResult } from './command.js';
import { NA_ERR_NETLAB_IP_FAILED } from './errors.js';
import type { UpPlan } from './plan.js';

const TASKS = 25; // more than Node's default of 10 listeners per signal

let warnings: Error[] = [];
const onWarning = (w: Error): void => {
  warnings.push(w);
};
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

/** Node emits warnings on the next tick; let them arrive before looking. */
const leakWarnings = async (): Promise<string[]> => {
  await new Promise((resolve) => setImmediate(resolve));
  return warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message);
};

const abortListeners = (s: AbortSignal): number => getEventListeners(s, 'abort').length;

test('buildPlan with more than ten nodes leaves no abort listener behind and raises no leak warning', async () => {
  // Every node's command fails at once (no such namespace file): no root needed, and all of them
  // are running together, each with the listener runCommand adds for the abort.
  const plan: UpPlan = {
    root: [],
    sysctlFiles: [],
    nodes: Array.from({ length: TASKS }, (_, i) => ({ node: `n${i}`, ns: `netlab-test-${i}`, sysctlPath: '/dev/null', lines: [], waitUp: [] })),
  };
  const building = new AbortController();
  for (let round = 0; round < 3; round++) {
    await assert.rejects(buildPlan(plan, { stateDir: '/nonexistent', netnsDir: '/nonexistent', linkUpTimeoutMs: 100, signal: building.signal }), (err: unknown) => NA_ERR_NETLAB_IP_FAILED.is(err));
  }
  assert.equal(abortListeners(building.signal), 0, 'the lab\'s build signal keeps no listener');
  assert.deepEqual(await leakWarnings(), []);
});

test('allOrStop gives each task a signal of its own with one listener, and removes its own from the caller\'s', async () => {
  const caller = new AbortController();
  const seen: number[] = [];
  let callerDuring = -1;
  for (let round = 0; round < 4; round++) {
    await allOrStop(
      Array.from({ length: TASKS }, (_, i) => i),
      async (_i, signal) => {
        const r = runCommand('sleep', ['0.05'], { signal });
        seen.push(abortListeners(signal));
        callerDuring = abortListeners(caller.signal);
        assert.equal((await r).code, 0);
        assert.equal(abortListeners(signal), 0, 'runCommand removes its listener when the command ends');
      },
      caller.signal,
    );
  }
  assert.deepEqual([...new Set(seen)], [1], 'one listener per task signal while its command runs');
  assert.equal(callerDuring, 1, 'one listener on the caller\'s signal for all the tasks');
  assert.equal(abortListeners(caller.signal), 0, 'and none once allOrStop has returned');
  assert.deepEqual(await leakWarnings(), []);
});

test('allOrStop: the first failure stops the other tasks and is the one thrown', async () => {
  const caller = new AbortController();
  const results: RunResult[] = [];
  const started = performance.now();
  await assert.rejects(
    allOrStop(
      Array.from({ length: TASKS }, (_, i) => i),
      async (i, signal) => {
        if (i === 7) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('node 7 failed');
        }
        results.push(await runCommand('sleep', ['30'], { signal }));
        if (i === 8) throw new Error('node 8, stopped after 7');
      },
      caller.signal,
    ),
    /node 7 failed/,
  );
  assert.ok(performance.now() - started < 10_000, 'the others did not run to their end');
  assert.equal(results.length, TASKS - 1);
  assert.ok(results.every((r) => r.signal === 'SIGKILL'), 'each other command was killed');
  assert.equal(abortListeners(caller.signal), 0);
  assert.deepEqual(await leakWarnings(), []);
});

test('allOrStop: aborting the caller\'s signal stops every task, also when it was aborted before', async () => {
  const caller = new AbortController();
  const results: RunResult[] = [];
  const run = allOrStop(
    Array.from({ length: TASKS }, (_, i) => i),
    async (_i, signal) => {
      results.push(await runCommand('sleep', ['30'], { signal }));
    },
    caller.signal,
  );
  setTimeout(() => caller.abort(), 50);
  await run;
  assert.equal(results.length, TASKS);
  assert.ok(results.every((r) => r.signal === 'SIGKILL'));
  assert.equal(abortListeners(caller.signal), 0);

  const seen: boolean[] = [];
  await allOrStop([1, 2, 3], async (_i, signal) => void seen.push(signal.aborted), caller.signal);
  assert.deepEqual(seen, [true, true, true]);
  assert.equal(abortListeners(caller.signal), 0);
  assert.deepEqual(await leakWarnings(), []);
});
