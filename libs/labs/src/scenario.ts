/**
 * The shape of a lab scenario, and the one way every scenario is run. A scenario is a module
 * that says which topology it builds (on `@netaccel/netlab`), under which namespace prefix, and
 * which named steps it runs in order; `runScenario` builds the lab, runs the steps through the
 * step runner (numbered, timed, a failure naming the step and its logs), then tears the lab
 * down, or keeps it running for people to look around. The thesis scenario (thesis/scenario.ts)
 * is one; CRAQ, Paxos and sidecar scenarios are added the same way, as modules beside it
 * (`src/<name>/scenario.ts`, exported from index.ts), each run by its `netaccel lab` command.
 *
 * What a scenario needs of an application (the paths of the daemons it starts, where the BPF
 * objects are) it takes as an option: a library never imports an application.
 */
import { errorMessage } from '@netaccel/errors';
import { createLab } from '@netaccel/netlab';
import type { Lab, LabOptions, LabSpec } from '@netaccel/netlab';
import { Steps } from './steps/step-runner.js';
import type { StepTime } from './steps/step-runner.js';

/** One named step: what it does (as printed), what it runs, the logs a failure points to. */
export interface ScenarioStep<S> {
  /** Printed as `[ n/N] <title> …`; a function of the run when the title carries a figure. */
  readonly title: string | ((run: S) => string);
  readonly run: (run: S) => Promise<void>;
  /** Names of processes whose logs (`<logDir>/<name>.log`) explain a failure of this step. */
  readonly logs?: (run: S) => readonly string[];
}

/** What every run of a scenario is told. */
export interface ScenarioRunOptions {
  /** Leave the lab running after the last step (its own command removes it). */
  readonly keep: boolean;
  /** Progress lines for people. */
  readonly progress: (text: string) => void;
}

/**
 * A scenario: `O` its options, `S` the state of one run (made by `init`, carried from step to
 * step), `R` what a run answers (its report).
 */
export interface Scenario<O extends ScenarioRunOptions, S, R> {
  /** How `netaccel lab` names it. */
  readonly name: string;
  readonly summary: string;
  /** The namespace prefix of its runs (`<prefix>-<run>-<node>`): fixed, distinct from every test's. */
  readonly prefix: string;
  /** netlab options of its lab (the prefix is the scenario's). */
  readonly labOptions?: Omit<LabOptions, 'prefix'>;
  topology(options: O): LabSpec;
  /** The line printed before the first step. */
  intro?(options: O): string;
  /**
   * The state of a run; the lab is created, not yet up. `done` fills with the steps that
   * passed, with their times (a report lists them).
   */
  init(lab: Lab, options: O, done: readonly StepTime[]): S;
  /** The steps, in order. */
  readonly steps: readonly ScenarioStep<S>[];
  /** What the run answers, once every step has passed. */
  result(run: S): R;
  /** Stops what the scenario runs outside the lab (monitors); called once, success or not. */
  stop?(run: S): void;
  /** Records a lab left running (`keep`), for the scenario's status and down commands. */
  keep?(run: S, lab: Lab): void;
  /** Removes what a run leaves outside its namespaces (pins); after the lab is down. */
  cleanup?(lab: Lab): void;
}

/** The title of the step that tears the lab down, last unless the lab is kept. */
export const TEARDOWN_TITLE = 'tear the lab down';

/** Runs a scenario: builds its lab, runs its steps, then keeps or tears down the lab. */
export async function runScenario<O extends ScenarioRunOptions, S, R>(scenario: Scenario<O, S, R>, options: O): Promise<R> {
  const say = options.progress;
  const lab = createLab(scenario.topology(options), { ...scenario.labOptions, prefix: scenario.prefix });
  const steps = new Steps(scenario.steps.length + (options.keep ? 0 : 1), say, () => `the logs in ${lab.logDir}`);
  const run = scenario.init(lab, options, steps.done);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    scenario.stop?.(run);
  };
  let kept = false;
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    scenario.cleanup?.(lab);
  };
  if (scenario.intro !== undefined) say(scenario.intro(options));
  try {
    for (const step of scenario.steps) {
      const title = typeof step.title === 'string' ? step.title : step.title(run);
      const logs = step.logs;
      await steps.run(title, () => step.run(run), logs === undefined ? undefined : () => logs(run).map((n) => `${lab.logDir}/${n}.log`));
    }
    const result = scenario.result(run);
    stop();
    if (options.keep) {
      lab.keep();
      kept = true;
      scenario.keep?.(run, lab);
    } else {
      await steps.run(TEARDOWN_TITLE, async () => {
        await lab.down();
        cleanup();
      });
    }
    return result;
  } finally {
    stop();
    if (!kept) {
      await lab.down().catch((err: unknown) => say(`netaccel lab: teardown failed: ${errorMessage(err)}\n`));
      cleanup();
    }
  }
}
