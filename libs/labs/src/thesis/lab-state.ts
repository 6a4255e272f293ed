/**
 * What a run of the thesis lab leaves outside its namespaces, and how it is cleaned: the pins
 * of each balancer's loader under PIN_BASE/<run>/<lb>, and, for a kept lab, LAB_STATE_DIR/lab.json
 * which `netaccel lab status` and `netaccel lab down` read. Before a run: a lab kept by an
 * earlier run is removed, a live one refused (NA_ERR_LAB_BUSY), the build checked.
 */
import { existsSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_DEFAULTS, cleanStale, keptRuns, readRecords, removeRun } from '@netaccel/netlab';
import { NA_ERR_LAB_BUSY, NA_ERR_LAB_NOT_BUILT } from '../errors.js';
import { STEP_INDENT } from '../steps/step-runner.js';
import type { LabDaemon, ThesisInstall } from './configs.js';

/** Namespace prefix of the lab (`nxlab-<run>-<node>`), distinct from the tests' `nalab`. */
export const LAB_PREFIX = 'nxlab';
/** Where a kept lab is described for `netaccel lab down` / `status`. */
export const LAB_STATE_DIR = '/run/netaccel-lab';
/** bpffs directory under which each balancer's loader pins (`<run>/<lb>`). */
export const PIN_BASE = '/sys/fs/bpf/netaccel-lab';
export const KEPT_FILE = join(LAB_STATE_DIR, 'lab.json');

/**
 * The bpffs directory of a lab run under another prefix (a test's, the scaling scenario's): its
 * own, so that cleaning it never touches the pins of a `netaccel lab` running beside it.
 */
export const pinBaseFor = (prefix: string): string => (prefix === LAB_PREFIX ? PIN_BASE : `${PIN_BASE}-${prefix}`);

/** What a kept lab leaves in LAB_STATE_DIR/lab.json for `netaccel lab status|down`. */
export interface KeptLab {
  readonly runId: string;
  readonly startedAt: string;
  readonly logDir: string;
  readonly pinRoot: string;
  readonly report: string;
  readonly namespaces: Readonly<Record<string, string>>;
  readonly sockets: Readonly<Record<string, Readonly<Record<LabDaemon, string>>>>;
}

/** The selftest object, whose `xdp` program passes everything (the veth quirk's program). */
export const selftestObject = (install: ThesisInstall): string => join(install.objectDir, 'selftest', 'selftest.bpf.o');

/** Refuses to start without the daemons' builds and the BPF objects the lab loads. */
export function checkBuilt(install: ThesisInstall): void {
  for (const f of [...Object.values(install.daemons), join(install.objectDir, 'xlb', 'xlb.bpf.o'), selftestObject(install)]) {
    if (!existsSync(f)) throw NA_ERR_LAB_NOT_BUILT(f);
  }
}

/**
 * Removes a lab kept by an earlier run and the pins of runs that are gone; refuses a live one.
 * `prefix`: the labs of that prefix only (the lab's own, LAB_PREFIX, by default), and their pins.
 */
export async function removeEarlierLabs(say: (text: string) => void, prefix: string = LAB_PREFIX): Promise<string[]> {
  const removed: string[] = [];
  const pinBase = pinBaseFor(prefix);
  for (const r of keptRuns({ prefix })) {
    await removeRun(r.runId, { prefix });
    removed.push(r.runId);
    say(`${STEP_INDENT}removed the lab kept by an earlier run (${r.runId})\n`);
  }
  if (prefix === LAB_PREFIX) rmSync(KEPT_FILE, { force: true });
  await cleanStale({ prefix });
  // What is left is the run of another live process: refuse rather than share the CPU with it.
  const live = readRecords(LAB_DEFAULTS.stateDir, prefix).flatMap((e) => (e.record === undefined ? [] : [e.record]));
  if (live.length > 0) throw NA_ERR_LAB_BUSY(live[0]!.runId, String(live[0]!.pid));
  if (existsSync(pinBase)) {
    for (const dir of readdirSync(pinBase)) removePins(dir, pinBase);
  }
  return removed;
}

/**
 * Removes what a run pinned: its folder PIN_BASE/<runId> (the loaders create it and their own
 * folders in it), then PIN_BASE itself once no run has pins left in it (without a run id, only
 * that). rmdir, not a recursive removal, for PIN_BASE: the folder of another run (a kept lab) is
 * never touched, and nothing outside PIN_BASE ever is.
 */
export function removePins(runId?: string, pinBase: string = PIN_BASE): void {
  if (runId !== undefined) rmSync(join(pinBase, runId), { recursive: true, force: true });
  try {
    rmdirSync(pinBase);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}
