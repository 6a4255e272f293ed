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
import { readFileSync, writeFileSync } from 'node:fs';
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
/**
 * The paced series: connections per balancer in the ECMP set, each waiting this long between
 * requests (wrk's `delay()`), so that every balancer sees about the same rate whatever N is. A
 * program's cost per packet depends on how often it runs (a rarely run one finds its code and
 * maps out of the CPU's caches), and with the same total load each of N balancers runs 1/N as
 * often: this series compares balancers at the same rate, as N machines under N times the load are.
 */
export const PACED_LOAD = { connectionsPerBalancer: 4, delayMs: 10 } as const;

/** Which load a series of steps runs: the same total, or the same per balancer (paced). */
export type ScalingSeries = 'same' | 'paced';

export interface ScalingOptions extends ScenarioRunOptions {
  /** The shortened run: 2 s per step instead of 8. */
  readonly quick: boolean;
  readonly mode?: LabMode;
  readonly install: ThesisInstall;
  /** The balancer counts, in order (default 1, 2, 3, 4). */
  readonly counts?: readonly number[];
  /** wrk's threads and connections in every step (default SCALING_LOAD). */
  readonly load?: { readonly threads: number; readonly connections: number };
  /** Run the paced series after the same-load one (default true; PACED_LOAD). */
  readonly paced?: boolean;
  /**
   * Rounds of the counts (default 1); every other round in reverse (1 2 3 4 4 3 2 1: a drift of
   * the machine's load falls on every count alike); the windows of a count are summed.
   */
  readonly rounds?: number;
}

export interface ScalingRun {
  readonly lab: Lab;
  readonly o: ScalingOptions;
  readonly mode: LabMode;
  readonly counts: readonly number[];
  /** The counts in the order they run (rounds). */
  readonly order: readonly number[];
  /** Every balancer the lab has (the largest count). */
  readonly lbs: readonly BalancerName[];
  readonly hold: number;
  readonly startedAt: Date;
  readonly done: readonly StepTime[];
  readonly balancers: Map<BalancerName, BalancerRun>;
  readonly macs: Map<BackendName, string>;
  readonly windows: StepWindow[];
  readonly pacedWindows: StepWindow[];
  monitor?: RouteMonitor;
  wrk?: LabProcess;
  script?: string;
  pacedScript?: string;
  report?: ScalingReport;
}

/** web on the first n balancers: the scaling run's one service. */
const webOn = (n: number): ServiceDef => servicesFor(n)[0]!;
const wrkName = (i: number, n: number, series: ScalingSeries): string => `wrk-${series}-${i + 1}-n${n}`;
const seriesOf = (run: ScalingRun): ScalingSeries[] => (run.o.paced === false ? ['same'] : ['same', 'paced']);
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
  // the same script with wrk's per-request delay: the paced series
  run.pacedScript = join(run.lab.logDir, 'wrk-lab-paced.lua');
  writeFileSync(run.pacedScript, `${readFileSync(run.script, 'utf8')}\nfunction delay()\n  return ${PACED_LOAD.delayMs}\nend\n`);
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
async function scaleTo(run: ScalingRun, n: number, i: number, series: ScalingSeries): Promise<void> {
  const web = webOn(n);
  const at = Date.now();
  for (const lb of run.lbs) writeServices(run.balancers.get(lb)!.files.services, lb, run.mode, run.macs, [], [web]);
  const want = web.balancers.map(balancerAddr).sort();
  // the same set as the step before: nothing changes, nothing to wait for
  const routed = sameSet(run.monitor!.nexthops(web.vip), want) ? at : await run.monitor!.waitFor(web.vip, (nh) => sameSet(nh, want), at, 30_000);
  run.o.progress(`${STEP_INDENT}the router's route to ${web.vip} has ${want.length} next hop${want.length === 1 ? '' : 's'} after ${fmtMs(routed - at)}\n`);
  const url = `http://${web.vip}:${web.port}/`;
  const load = run.o.load ?? SCALING_LOAD;
  const argv = series === 'same' ? wrkArgv(run.script!, url, load.threads, load.connections) : wrkArgv(run.pacedScript!, url, Math.min(2, n), PACED_LOAD.connectionsPerBalancer * n);
  const wrk = await run.lab.spawn('router', argv, { name: wrkName(i, n, series) });
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
  (series === 'same' ? run.windows : run.pacedWindows).push({
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
  for (const series of seriesOf(run)) {
    for (const [i, n] of run.order.entries()) {
      run.o.progress(`${STEP_INDENT}${n} balancer${n === 1 ? '' : 's'}, ${series === 'same' ? 'the same total load' : `paced: ${PACED_LOAD.connectionsPerBalancer} connections per balancer, ${PACED_LOAD.delayMs} ms between requests`}: ${balancersOf(n).join(', ')}\n`);
      await scaleTo(run, n, i, series);
    }
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
  checkScaling([...run.windows, ...run.pacedWindows]);
  const steps = scalingSteps(run.windows);
  const paced = run.pacedWindows.length > 0 ? scalingSteps(run.pacedWindows) : undefined;
  const html = join(run.lab.logDir, 'scaling.html');
  const r: ScalingReport = {
    runId: run.lab.runId,
    startedAt: run.startedAt.toISOString(),
    quick: run.o.quick,
    mode: run.mode,
    logDir: run.lab.logDir,
    html,
    load: { url: `http://${webOn(1).vip}:${webOn(1).port}/`, ...(run.o.load ?? SCALING_LOAD), holdMs: run.hold, warmupMs: WARMUP_MS },
    steps,
    ...(paced === undefined ? {} : { paced, pacedLoad: PACED_LOAD }),
    verdict: verdict(steps, paced),
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
    order: Array.from({ length: Math.max(1, o.rounds ?? 1) }, (_, r) => (r % 2 === 0 ? countsOf(o) : countsOf(o).reverse())).flat(),
    lbs: balancersOf(Math.max(...countsOf(o))),
    hold: o.quick ? 2000 : 8000,
    startedAt: new Date(),
    done,
    balancers: new Map(),
    macs: new Map(),
    windows: [],
    pacedWindows: [],
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
      title: (run) => `the same load through ${run.order.join(', then ')} balancers${run.o.paced === false ? '' : ', then a load paced per balancer'}: web from the first N, wrk for ${fmtMs(run.hold + WARMUP_MS)} each, measured after ${WARMUP_MS} ms`,
      run: scaleThrough,
      logs: (run) => ['bird', 'gobgpd', ...seriesOf(run).flatMap((series) => run.order.map((n, i) => wrkName(i, n, series))), ...daemonLogs(run, 'lb-controller', 'bgp-announcer')],
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
