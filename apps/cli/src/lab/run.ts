/**
 * `netaccel lab run`: the thesis scenario of @netaccel/labs (its steps: libs/labs/src/thesis/
 * scenario.ts), run with this installation's daemons and BPF objects and the CLI's text report.
 */
import { runScenario, thesisScenario } from '@netaccel/labs';
import type { LabMode, LabReport } from '@netaccel/labs';
import { labInstall } from './install.js';
import { reportText } from './report.js';

export interface LabRunOptions {
  /** The shortened run of `make test`: a few seconds per phase instead of eight. */
  readonly quick: boolean;
  /** Leave the lab running (`netaccel lab down` removes it). */
  readonly keep: boolean;
  /** How the balancers forward (default L2 DSR). */
  readonly mode?: LabMode;
  /** Progress lines for people. */
  readonly progress: (text: string) => void;
}

export async function runLab(o: LabRunOptions): Promise<LabReport> {
  return runScenario(thesisScenario, { ...o, install: labInstall(), reportText });
}
