/**
 * Runs a scenario's steps one by one for people: each prints its number and title, then its
 * time; a failure names the step, the cause and the log files to read (NA_ERR_LAB_STEP).
 *
 *   [ 3/14] start the route reflector (gobgpd) and the router (BIRD 2) …
 *           done in 1.2 s
 */
import { existsSync } from 'node:fs';
import { errorMessage } from '@netaccel/errors';
import { NA_ERR_LAB_STEP } from '../errors.js';

/** `850 ms`, `1.2 s`. */
export const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

/** The indentation of the lines a step prints under its title. */
export const STEP_INDENT = ' '.repeat(8);

/** A step that passed and how long it took. */
export interface StepTime {
  readonly title: string;
  readonly ms: number;
}

export class Steps {
  readonly done: StepTime[] = [];
  #n = 0;
  constructor(
    private readonly total: number,
    private readonly progress: (text: string) => void,
    private readonly fallbackLog: () => string,
  ) {}

  /** Runs one step: prints its number and title, then its time; a failure names the step and the logs. */
  async run<T>(title: string, fn: () => Promise<T>, logs: () => readonly string[] = () => []): Promise<T> {
    const i = ++this.#n;
    const label = `[${String(i).padStart(2)}/${this.total}] ${title}`;
    this.progress(`${label} …\n`);
    const t0 = performance.now();
    try {
      const r = await fn();
      const ms = performance.now() - t0;
      this.done.push({ title, ms });
      this.progress(`${STEP_INDENT}done in ${fmtMs(ms)}\n`);
      return r;
    } catch (err) {
      this.progress(`${STEP_INDENT}FAILED after ${fmtMs(performance.now() - t0)}\n`);
      const named = logs().filter((l) => existsSync(l));
      throw NA_ERR_LAB_STEP.with({ cause: err }, `${i}/${this.total} "${title}"`, errorMessage(err), named.length > 0 ? named.join(', ') : this.fallbackLog());
    }
  }
}
