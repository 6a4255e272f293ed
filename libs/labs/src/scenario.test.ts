/**
 * runScenario without root: steps whose run never brings the lab up, so the order, the numbering
 * with the teardown step, the titles computed from the run, the result, and what happens around
 * a failing step (its number, title and logs named; later steps skipped; stop and cleanup
 * still called) are checked on the runner itself.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NA_ERR_LAB_STEP } from './errors.js';
import { TEARDOWN_TITLE, runScenario } from './scenario.js';
import type { Scenario, ScenarioRunOptions } from './scenario.js';

interface Run {
  readonly calls: string[];
  n: number;
  logDir: string;
}

function scenario(failAt: number | undefined, calls: string[]): Scenario<ScenarioRunOptions, Run, number> {
  const step = (name: string, i: number) => async (run: Run): Promise<void> => {
    run.calls.push(name);
    if (i === failAt) throw new Error(`${name} broke`);
    run.n += i;
  };
  return {
    name: 'unit',
    summary: 'a scenario of the runner test',
    prefix: 'nalabsu',
    topology: () => ({ name: 'labs-unit', nodes: { a: {} } }),
    intro: () => 'intro line\n',
    init: (lab) => ({ calls, n: 0, logDir: lab.logDir }),
    steps: [
      { title: 'first', run: step('first', 1) },
      { title: (run) => `second, after n=${run.n}`, run: step('second', 2), logs: () => ['proc-a', 'proc-missing'] },
      { title: 'third', run: step('third', 3) },
    ],
    result: (run) => run.n,
    stop: (run) => run.calls.push('stop'),
    cleanup: () => calls.push('cleanup'),
  };
}

test('steps run in order, numbered with the teardown step, titles from the run; the result is answered', async () => {
  const calls: string[] = [];
  const out: string[] = [];
  const r = await runScenario(scenario(undefined, calls), { keep: false, progress: (t) => out.push(t) });
  assert.equal(r, 6);
  assert.deepEqual(calls, ['first', 'second', 'third', 'stop', 'cleanup']);
  const text = out.join('');
  assert.match(text, /^intro line\n\[ 1\/4\] first …\n\s+done in \d+ ms\n\[ 2\/4\] second, after n=1 …\n/);
  assert.match(text, new RegExp(`\\[ 4/4\\] ${TEARDOWN_TITLE} …\\n\\s+done in`));
});

test('a failing step is named with the logs that exist; later steps do not run; stop and cleanup still do', async (t) => {
  const calls: string[] = [];
  const out: string[] = [];
  const sc = scenario(2, calls);
  let logDir = '';
  const wrapped: typeof sc = {
    ...sc,
    init: (lab, o, done) => {
      const run = sc.init(lab, o, done);
      logDir = run.logDir;
      mkdirSync(logDir, { recursive: true });
      writeFileSync(join(logDir, 'proc-a.log'), 'a log\n');
      return run;
    },
  };
  t.onTestFinished(() => rmSync(logDir, { recursive: true, force: true }));
  await assert.rejects(runScenario(wrapped, { keep: false, progress: (x) => out.push(x) }), (e: unknown) => {
    assert.ok(NA_ERR_LAB_STEP.is(e));
    assert.equal(e.message, `lab step 2/4 "second, after n=1" failed: second broke; read ${join(logDir, 'proc-a.log')}`);
    return true;
  });
  assert.deepEqual(calls, ['first', 'second', 'stop', 'cleanup']);
  assert.match(out.join(''), /\[ 2\/4\] second, after n=1 …\n\s+FAILED after/);
  assert.doesNotMatch(out.join(''), /third/);
});
