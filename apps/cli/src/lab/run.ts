/**
 * `netaccel lab run`: the scenarios of @netaccel/labs (the thesis': libs/labs/src/thesis/
 * scenario.ts; Paxos: libs/labs/src/paxos/scenario.ts; CRAQ: libs/labs/src/craq/scenario.ts; sidecar: libs/labs/src/sidecar/scenario.ts), run with this installation's daemons and
 * BPF objects and the CLI's text report.
 */
import { join } from 'node:path';
import { craqScenario, paxosScenario, runScenario, scalingScenario, sidecarScenario, thesisScenario } from '@netaccel/labs';
import type { CraqReport, LabMode, LabReport, PaxosReport, ScalingReport, SidecarReport } from '@netaccel/labs';
import { craqInstall, labInstall, objectDir, sidecarInstall } from './install.js';
import { reportText } from './report.js';

/** The scenarios `netaccel lab --scenario` runs, in the order `all` runs them. */
export const LAB_SCENARIOS = ['thesis', 'paxos', 'craq', 'sidecar'] as const;
export type LabScenarioName = (typeof LAB_SCENARIOS)[number];
/** Scenarios run only when named (`all` does not run them): the scaling experiment. */
export const NAMED_ONLY_SCENARIOS = ['scaling'] as const;

export interface LabRunOptions {
  /** The shortened run of `make test`: a few seconds per phase instead of eight. */
  readonly quick: boolean;
  /** Leave the lab running (`netaccel lab down` removes it). */
  readonly keep: boolean;
  /** How the balancers forward (default L2 DSR). */
  readonly mode?: LabMode;
  /** How many balancers (1 to 4; default the thesis' 3). */
  readonly balancers?: number;
  /** Progress lines for people. */
  readonly progress: (text: string) => void;
}

export async function runLab(o: LabRunOptions): Promise<LabReport> {
  return runScenario(thesisScenario, { ...o, install: labInstall(), reportText });
}

export interface PaxosLabRunOptions {
  /** The shortened run: a few seconds per phase. */
  readonly quick: boolean;
  readonly progress: (text: string) => void;
}

/** The Paxos scenario of @netaccel/labs (libs/labs/src/paxos/scenario.ts), with this installation's BPF objects. */
export async function runPaxosLab(o: PaxosLabRunOptions): Promise<PaxosReport> {
  return runScenario(paxosScenario, { ...o, keep: false, selftestObject: join(objectDir(), 'selftest', 'selftest.bpf.o') });
}

/** The CRAQ scenario of @netaccel/labs (libs/labs/src/craq/scenario.ts), with this installation's daemons and BPF objects. */
export async function runCraqLab(o: PaxosLabRunOptions): Promise<CraqReport> {
  return runScenario(craqScenario, { ...o, keep: false, install: craqInstall() });
}

/** The scaling scenario of @netaccel/labs (libs/labs/src/scaling/scenario.ts): the same load through 1 to 4 balancers, with this installation's daemons. */
export async function runScalingLab(o: PaxosLabRunOptions & { readonly mode?: LabMode }): Promise<ScalingReport> {
  return runScenario(scalingScenario, { ...o, keep: false, install: labInstall() });
}

/** The sidecar scenario of @netaccel/labs (libs/labs/src/sidecar/scenario.ts), with this installation's sidecar-offload and BPF object. */
export async function runSidecarLab(o: PaxosLabRunOptions): Promise<SidecarReport> {
  return runScenario(sidecarScenario, { ...o, keep: false, install: sidecarInstall() });
}
