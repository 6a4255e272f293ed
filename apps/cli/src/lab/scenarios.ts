/**
 * `netaccel lab --scenario paxos|craq|sidecar|all`: the scenarios other than the thesis alone (which
 * commands/lab.ts runs as it always did). `all` runs every scenario in LAB_SCENARIOS' order and
 * prints each report; with --json the result has one member per scenario.
 */
import { LAB_MODES, scalingText } from '@netaccel/labs';
import type { LabMode } from '@netaccel/labs';
import { didYouMean, nearest } from '../args.js';
import type { CommandContext } from '../command.js';
import { NA_ERR_CLI_USAGE } from '../errors.js';
import { craqReportText } from './craq-report.js';
import { paxosReportText } from './paxos-report.js';
import { reportText } from './report.js';
import { LAB_SCENARIOS, NAMED_ONLY_SCENARIOS, runCraqLab, runLab, runPaxosLab, runScalingLab, runSidecarLab } from './run.js';
import { sidecarReportText } from './sidecar-report.js';

const CHOICES = [...LAB_SCENARIOS, ...NAMED_ONLY_SCENARIOS, 'all'];
type ScenarioName = (typeof LAB_SCENARIOS)[number] | (typeof NAMED_ONLY_SCENARIOS)[number];

/** The scenarios `--scenario <name>` names, in the order they run; a usage error for another name. */
export function scenariosOf(name: string): ScenarioName[] {
  if (name === 'all') return [...LAB_SCENARIOS];
  const known = [...LAB_SCENARIOS, ...NAMED_ONLY_SCENARIOS].find((s) => s === name);
  if (known === undefined) throw NA_ERR_CLI_USAGE(`--scenario: expected one of ${CHOICES.join(', ')}, got ${JSON.stringify(name)}${didYouMean(nearest(name, CHOICES))}`);
  return [known];
}

/** Runs the scenarios `name` names (not the thesis alone: commands/lab.ts runs that). */
export async function runScenarios(ctx: CommandContext, name: string, requireRoot: () => void): Promise<void> {
  const names = scenariosOf(name);
  const mode = String(ctx.values.mode);
  if (!(LAB_MODES as readonly string[]).includes(mode)) throw NA_ERR_CLI_USAGE(`--mode: expected one of ${LAB_MODES.join(', ')}, got ${mode}`);
  if (ctx.values.keep === true) throw NA_ERR_CLI_USAGE(`--keep: only the thesis scenario keeps its lab running (--scenario thesis), not --scenario ${name}`);
  requireRoot();
  const quick = ctx.values.quick === true;
  const texts: string[] = [];
  const results: Record<string, unknown> = {};
  for (const s of names) {
    if (s === 'thesis') {
      const report = await runLab({ quick, keep: false, mode: mode as LabMode, balancers: Number(ctx.values.balancers ?? 3), progress: ctx.progress });
      texts.push(['thesis', reportText(report), '', `report with the chart: ${report.html}`].join('\n'));
      results.thesis = report;
    } else if (s === 'craq') {
      const report = await runCraqLab({ quick, progress: ctx.progress });
      texts.push(craqReportText(report));
      results.craq = report;
    } else if (s === 'scaling') {
      const report = await runScalingLab({ quick, mode: mode as LabMode, progress: ctx.progress });
      texts.push(['scaling', scalingText(report), '', `report with the charts: ${report.html}`].join('\n'));
      results.scaling = report;
    } else if (s === 'sidecar') {
      const report = await runSidecarLab({ quick, progress: ctx.progress });
      texts.push(sidecarReportText(report));
      results.sidecar = report;
    } else {
      const report = await runPaxosLab({ quick, progress: ctx.progress });
      texts.push(paxosReportText(report));
      results.paxos = report;
    }
  }
  ctx.out.result(['', ...texts].join('\n\n'), names.length === 1 ? results[names[0]!] : results);
}
