/**
 * The scaling scenario (`netaccel lab --scenario scaling`): the thesis' scaling experiment (linear
 * capacity to 4 balancers) on one machine. The thesis topology with four balancers comes up
 * (topologies/thesis.ts: router with BIRD and ECMP, gobgpd reflector, web's four nginx backends),
 * every balancer's loader counting its programs' run time (BPF_ENABLE_STATS). Then, for N = 1, 2,
 * 3, 4: the web service is carried by the first N balancers only (the others' services files are
 * emptied: their controllers withdraw the VIP), the router's ECMP route is waited for with N next
 * hops, and the same wrk load runs from the router; between two readings inside the step, each
 * balancer's XDP counters (packets, new flows = requests) and its programs' run time give its
 * share and its CPU per packet and per request (figures.ts). The report (report.ts, chart.ts)
 * says whether the cost stays flat and the split even, in plain words. The lab checks that every
 * balancer of the ECMP set served in every step.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '@netaccel/netlab';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { NA_ERR_LAB_BALANCERS, NA_ERR_LAB_CHECK } from '../errors.js';
import type { Scenario, ScenarioRunOptions } from '../scenario.js';
import { startNginxBackends } from '../steps/backends.js';
import { sameSet } from '../steps/fib.js';
import { RouteMonitor } from '../steps/route-monitor.js';
import { startBirdRouter, startReflector, waitBirdEstablished } from '../steps/routing.js';
import { STEP_INDENT, fmtMs } from '../steps/step-runner.js';
import type { StepTime } from '../steps/step-runner.js';
import { parseWrkOutput, writeWrkScript, wrkArgv } from '../steps/wrk.js';
import { MAX_BALANCERS, RR_ADDR, balancerAddr, balancersOf, isBalancerCount, servicesFor, switchPort, thesisTopology } from '../topologies/thesis.js';
import type { BackendName, BalancerName, LabMode, ServiceDef } from '../topologies/thesis.js';
import { completeChecksums, napiForXdpTx } from '../veth.js';
import { balancerLogs, startBalancer } from '../thesis/balancers.js';
import type { BalancerRun } from '../thesis/balancers.js';
import { birdConfig, gobgpConfig, writeBalancerFiles, writeServices } from '../thesis/configs.js';
import type { ThesisInstall } from '../thesis/configs.js';
import { checkBuilt, pinBaseFor, removeEarlierLabs, removePins, selftestObject } from '../thesis/lab-state.js';
import { scalingSteps, verdict } from './figures.js';
import type { BalancerCounters, StepWindow } from './figures.js';
import { scalingHtml } from './report.js';
import type { ScalingReport } from './report.js';
import { readCounters } from './stats.js';

/** Namespace prefix of the scaling lab (`nxscale-<run>-<node>`): its own, beside the thesis lab's. */
export const SCALING_LAB_PREFIX = 'nxscale';
/** wrk's load in every step: the thesis lab's web load. */
export const SCALING_LOAD = { threads: 2, connections: 32 } as const;
/** Traffic before the first reading of a step (connections opened, caches warm). */
export const WARMUP_MS = 500;

export interface ScalingOptions extends ScenarioRunOptions {
  /** The shortened run: 2 s per step instead of 8. */
  readonly quick: boolean;
  readonly mode?: LabMode;
  readonly install: ThesisInstall;
  /** The balancer counts, in order (default 1, 2, 3, 4). */
  readonly counts?: readonly number[];
}

export interface ScalingRun {
  readonly lab: Lab;
  readonly o: ScalingOptions;
  readonly mode: LabMode;
  readonly counts: readonly number[];
  /** Every balancer the lab has (the largest count). */
  readonly lbs: readonly BalancerName[];
  readonly hold: number;
  readonly startedAt: Date;
  readonly done: readonly StepTime[];
  readonly balancers: Map<BalancerName, BalancerRun>;
  readonly macs: Map<BackendName, string>;
  readonly windows: StepWindow[];
  monitor?: RouteMonitor;
  wrk?: LabProcess;
  script?: string;
  report?: ScalingReport;
}

/** web on the first n balancers: the scaling run's one service. */
const webOn = (n: number): ServiceDef => servicesFor(n)[0]!;
const serviceId = (s: ServiceDef): string => `${s.vip}:${s.port}/tcp`;
const pinRoot = (run: ScalingRun): string => join(pinBaseFor(run.lab.prefix), run.lab.runId);

function countsOf(o: ScalingOptions): number[] {
  const counts = [...(o.counts ?? [1, 2, 3, 4])];
  const bad = counts.find((n) => !isBalancerCount(n));
  if (bad !== undefined || counts.length === 0) throw NA_ERR_LAB_BALANCERS(String(MAX_BALANCERS), String(bad ?? 'no count'));
  return counts;
}

// --- the steps, in order -----------------------------------------------------------------------

async function checkTheBuild(run: ScalingRun): Promise<void> {
  checkBuilt(run.o.install);
  await removeEarlierLabs(run.o.progress, run.lab.prefix);
}

async function buildTheTopology(run: ScalingRun): Promise<void> {
  const { lab } = run;
  await lab.up();
  run.o.progress(`${STEP_INDENT}run ${lab.runId}, logs and configuration files in ${lab.logDir}\n`);
  const backends = webOn(1).backends;
  await completeChecksums(lab, ['router', ...backends]);
  await napiForXdpTx(lab, 'sw', run.lbs.map(switchPort), selftestObject(run.o.install));
  for (const b of backends) {
    const links = (await lab.links(b)) as unknown as { ifname: string; address: string }[];
    run.macs.set(b, links.find((l) => l.ifname === 'eth0')!.address);
  }
}

async function startRouting(run: ScalingRun): Promise<void> {
  await startReflector(run.lab, 'rr', RR_ADDR, gobgpConfig());
  await startBirdRouter(run.lab, 'router', birdConfig());
  await waitBirdEstablished(run.lab, 'router', 'reflector', 'BIRD established with gobgpd');
}

async function startBackends(run: ScalingRun): Promise<void> {
  await startNginxBackends(run.lab, webOn(1).backends);
}

async function startBalancers(run: ScalingRun): Promise<void> {
  const web = webOn(run.lbs.length);
  run.monitor = RouteMonitor.start(run.lab.ns('router'), [web.vip], new Map([[web.vip, []]]));
  for (const lb of run.lbs) {
    run.balancers.set(lb, { files: writeBalancerFiles(run.lab.logDir, lb, join(pinRoot(run), lb), run.o.install.objectDir, run.mode, run.macs, [], { services: [web], runTimeStats: true }) });
  }
  await Promise.all(run.lbs.map((lb) => startBalancer(run.lab, lb, run.balancers.get(lb)!, run.o.install)));
  await run.monitor.waitFor(web.vip, (nh) => sameSet(nh, web.balancers.map(balancerAddr)), 0, 30_000);
  run.script = writeWrkScript(run.lab.logDir);
}

/** Counters of every balancer carrying `web`, read together. */
async function readAll(run: ScalingRun, web: ServiceDef): Promise<Map<string, BalancerCounters>> {
  const got = await Promise.all(web.balancers.map(async (lb) => {
    const f = run.balancers.get(lb)!.files;
    return [lb, await readCounters(f.controllerSocket, f.loaderSocket, serviceId(web))] as const;
  }));
  return new Map(got);
}

/** One step: web on the first n balancers, the route waited for, the load run and measured. */
async function scaleTo(run: ScalingRun, n: number): Promise<void> {
  const web = webOn(n);
  const at = Date.now();
  for (const lb of run.lbs) writeServices(run.balancers.get(lb)!.files.services, lb, run.mode, run.macs, [], [web]);
  const want = web.balancers.map(balancerAddr).sort();
  const routed = await run.monitor!.waitFor(web.vip, (nh) => sameSet(nh, want), at, 30_000);
  run.o.progress(`${STEP_INDENT}the router's route to ${web.vip} has ${want.length} next hop${want.length === 1 ? '' : 's'} after ${fmtMs(routed - at)}\n`);
  const url = `http://${web.vip}:${web.port}/`;
  const wrk = await run.lab.spawn('router', wrkArgv(run.script!, url, SCALING_LOAD.threads, SCALING_LOAD.connections), { name: `wrk-n${n}` });
  run.wrk = wrk;
  await sleep(WARMUP_MS);
  const t0 = Date.now();
  const before = await readAll(run, web);
  await sleep(run.hold);
  const after = await readAll(run, web);
  const windowMs = Date.now() - t0;
  wrk.kill('SIGINT');
  await wrk.wait({ timeoutMs: 15_000 });
  run.wrk = undefined;
  const r = parseWrkOutput(wrk.output());
  const e = r.errors;
  run.windows.push({
    balancers: n,
    windowMs,
    nexthops: [...run.monitor!.nexthops(web.vip)],
    before,
    after,
    wrk: { requests: r.requests, rps: r.requests / (r.durationUs / 1e6), errors: e.connect + e.read + e.write + e.status + e.timeout },
  });
  const flows = [...after].map(([lb, c]) => `${lb} ${c.newFlows - (before.get(lb)?.newFlows ?? 0)}`);
  run.o.progress(`${STEP_INDENT}${Math.round(r.requests / (r.durationUs / 1e6))} req/s; new flows in ${fmtMs(windowMs)}: ${flows.join(', ')}\n`);
}

async function scaleThrough(run: ScalingRun): Promise<void> {
  for (const n of run.counts) {
    run.o.progress(`${STEP_INDENT}${n} balancer${n === 1 ? '' : 's'}: ${balancersOf(n).join(', ')}\n`);
    await scaleTo(run, n);
  }
}

/** The lab's own check: every balancer of the ECMP set served in every step, and wrk got answers. */
export function checkScaling(windows: readonly StepWindow[]): void {
  for (const w of windows) {
    const want = balancersOf(w.balancers).map(balancerAddr);
    if (!sameSet(w.nexthops, want)) throw NA_ERR_LAB_CHECK(`with ${w.balancers} balancers the router's route had next hops ${w.nexthops.join(', ') || 'none'}, expected ${want.join(', ')}`);
    for (const [lb, a] of w.after) {
      const flows = a.newFlows - (w.before.get(lb)?.newFlows ?? 0);
      if (!(flows > 0)) throw NA_ERR_LAB_CHECK(`with ${w.balancers} balancers, ${lb} got no new flow of web (ECMP should spread the flows over every balancer)`);
    }
    if (w.wrk.requests === 0) throw NA_ERR_LAB_CHECK(`with ${w.balancers} balancers wrk got no response`);
  }
}

async function writeTheReport(run: ScalingRun): Promise<void> {
  checkScaling(run.windows);
  const steps = scalingSteps(run.windows);
  const html = join(run.lab.logDir, 'scaling.html');
  const r: ScalingReport = {
    runId: run.lab.runId,
    startedAt: run.startedAt.toISOString(),
    quick: run.o.quick,
    mode: run.mode,
    logDir: run.lab.logDir,
    html,
    load: { url: `http://${webOn(1).vip}:${webOn(1).port}/`, ...SCALING_LOAD, holdMs: run.hold, warmupMs: WARMUP_MS },
    steps,
    verdict: verdict(steps),
    stepTimes: run.done,
  };
  writeFileSync(html, scalingHtml(r));
  writeFileSync(join(run.lab.logDir, 'scaling-report.json'), `${JSON.stringify(r, null, 2)}\n`);
  run.report = r;
}

const daemonLogs = (run: ScalingRun, ...daemons: string[]): string[] => run.lbs.flatMap((lb) => balancerLogs(lb, daemons));

export const scalingScenario: Scenario<ScalingOptions, ScalingRun, ScalingReport> = {
  name: 'scaling',
  summary: 'the thesis topology with four XDP balancers: the same load through 1, 2, 3 and 4 of them; per balancer share of the flows and XDP CPU per request',
  prefix: SCALING_LAB_PREFIX,
  labOptions: { readyTimeoutMs: 30_000, killGraceMs: 2000, execTimeoutMs: 30_000 },
  topology: (o) => thesisTopology(o.mode ?? 'l2dsr', Math.max(...countsOf(o))),
  intro: (o) => `netaccel lab: scaling, the same load through ${countsOf(o).join(', ')} balancers (${(o.mode ?? 'l2dsr') === 'nat' ? 'NAT' : 'L2 DSR'})${o.quick ? ' (shortened run)' : ''}\n`,
  init: (lab, o, done) => ({
    lab,
    o,
    mode: o.mode ?? 'l2dsr',
    counts: countsOf(o),
    lbs: balancersOf(Math.max(...countsOf(o))),
    hold: o.quick ? 2000 : 8000,
    startedAt: new Date(),
    done,
    balancers: new Map(),
    macs: new Map(),
    windows: [],
  }),
  steps: [
    { title: 'check the build and remove what an earlier scaling lab left', run: checkTheBuild },
    { title: (run) => `build the topology: ${run.lab.topology.nodes.length} namespaces on one switch`, run: buildTheTopology },
    { title: 'start the route reflector (gobgpd) and the router (BIRD 2)', run: startRouting, logs: () => ['gobgpd', 'bird'] },
    { title: 'start web\'s four HTTP backends (nginx answering its name)', run: startBackends, logs: (run) => webOn(run.lbs.length).backends.map((b) => `${b}-nginx`) },
    {
      title: (run) => `start ${run.lbs.length} balancers (their loaders count run time: BPF_ENABLE_STATS) and wait for the router's ECMP route through all of them`,
      run: startBalancers,
      logs: (run) => ['bird', 'gobgpd', ...daemonLogs(run, 'ebpf-loader', 'bgp-announcer', 'lb-controller')],
    },
    {
      title: (run) => `the same load through ${run.counts.join(', then ')} balancers: web from the first N, wrk for ${fmtMs(run.hold + WARMUP_MS)} each, measured after ${WARMUP_MS} ms`,
      run: scaleThrough,
      logs: (run) => ['bird', 'gobgpd', ...run.counts.map((n) => `wrk-n${n}`), ...daemonLogs(run, 'lb-controller', 'bgp-announcer')],
    },
    { title: 'check every balancer served and write the report', run: writeTheReport },
  ],
  result: (run) => run.report!,
  stop: (run) => {
    run.monitor?.stop();
    run.wrk?.kill('SIGKILL');
  },
  cleanup: (lab) => removePins(lab.runId, pinBaseFor(lab.prefix)),
};
