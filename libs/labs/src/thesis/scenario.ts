/**
 * The thesis scenario (`netaccel lab`): the thesis' experiment on one machine (topologies/thesis.ts).
 * Read the steps from top to bottom: the lab comes up; the route reflector, the router, six
 * backends and three balancers start; the router's ECMP routes appear; wrk drives traffic; one
 * balancer is killed with SIGKILL and brought back; a backend is removed; the report says how
 * long convergence took and how requests and packets split per balancer and per backend, with
 * an HTML chart. The lab checks what it shows: a route that does not converge, a balancer or
 * backend that gets no traffic, or a removed backend that still does fails the run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, waitFor } from '@netaccel/netlab';
import type { Lab, LabProcess } from '@netaccel/netlab';
import type { Scenario, ScenarioRunOptions } from '../scenario.js';
import { startNginxBackends } from '../steps/backends.js';
import { setLink, killAll } from '../steps/failure.js';
import { sameSet } from '../steps/fib.js';
import { RouteMonitor } from '../steps/route-monitor.js';
import { startBirdRouter, startReflector, waitBirdEstablished } from '../steps/routing.js';
import { STEP_INDENT, fmtMs } from '../steps/step-runner.js';
import type { StepTime } from '../steps/step-runner.js';
import { parseWrkOutput, writeWrkScript, wrkArgv } from '../steps/wrk.js';
import type { WrkResult } from '../steps/wrk.js';
import { BACKENDS, DEFAULT_BALANCERS, RR_ADDR, backendAddr, balancerAddr, balancersOf, servicesFor, switchPort, thesisTopology } from '../topologies/thesis.js';
import type { BackendName, BalancerName, LabMode, ServiceDef } from '../topologies/thesis.js';
import { completeChecksums, napiForXdpTx } from '../veth.js';
import { announcedAt, backendsOf, balancerLogs, balancerRates, dataPlaneUpMs, samplePerBalancer, startBalancer, vipPackets } from './balancers.js';
import type { BalancerRun, DaemonStartMs, RateSample } from './balancers.js';
import { REMOVAL_GRACE_MS, checkReport, phaseSplits, requestSeries, trafficSummaries } from './check.js';
import type { PacketSample, PhaseBound, WrkRun } from './check.js';
import { birdConfig, gobgpConfig, writeBalancerFiles, writeServices } from './configs.js';
import type { ThesisInstall } from './configs.js';
import { KEPT_FILE, LAB_PREFIX, LAB_STATE_DIR, checkBuilt, pinBaseFor, removeEarlierLabs, removePins, selftestObject } from './lab-state.js';
import type { KeptLab } from './lab-state.js';
import { reportHtml } from './report.js';
import type { LabReport } from './report.js';

export interface ThesisOptions extends ScenarioRunOptions {
  /** The shortened run of `make test`: a few seconds per phase instead of eight. */
  readonly quick: boolean;
  /** How the balancers forward (default L2 DSR). */
  readonly mode?: LabMode;
  /**
   * How many balancers (1 to 4, default the thesis' 3): the router's ECMP set and the
   * reflector's clients; web on all of them, api on all but the last (servicesFor).
   */
  readonly balancers?: number;
  /** Where the daemons and BPF objects are. */
  readonly install: ThesisInstall;
  /** The report as text for people, in the front end's format (the HTML page shows it too). */
  readonly reportText: (r: LabReport) => string;
}

/** The balancer that is killed and brought back, and the backend that is removed. */
export const KILLED: BalancerName = 'lb2';
export const REMOVED = { service: 'web', backend: 'b4' as BackendName };
/** The balancer killed in a lab of `n`: KILLED, or the only one (its services are down meanwhile). */
export const killedOf = (n: number): BalancerName => (n >= 2 ? KILLED : 'lb1');
const NUMBER_WORDS = ['no', 'one', 'two', 'three', 'four'];

/** The state of one run, carried from step to step. */
export interface ThesisRun {
  readonly lab: Lab;
  readonly o: ThesisOptions;
  readonly mode: LabMode;
  /** The lab's balancers, its services on them, and the one killed and brought back. */
  readonly lbs: readonly BalancerName[];
  readonly services: readonly ServiceDef[];
  readonly killed: BalancerName;
  /** ms of traffic in each phase. */
  readonly hold: number;
  readonly startedAt: Date;
  readonly done: readonly StepTime[];
  readonly balancers: Map<BalancerName, BalancerRun>;
  readonly macs: Map<BackendName, string>;
  monitor?: RouteMonitor;
  routes: { vip: string; nexthops: string[] }[];
  readonly wrks: { service: string; url: string; proc: LabProcess }[];
  /** Per-VIP packet counters of every balancer at the phase boundaries. */
  readonly samples: PacketSample[];
  /** The first service's counter per balancer every 500 ms, for the chart. */
  readonly rates: RateSample[];
  sampler?: { stop(): Promise<void> };
  t0: number;
  killAt: number;
  restartAt: number;
  removedAt: number;
  readonly withdrawMs: Record<string, number>;
  readonly restoreMs: Record<string, number>;
  readonly announceToRouteMs: Record<string, number>;
  restart: { daemonsReadyMs: number; dataPlaneMs: number; daemons?: DaemonStartMs };
  backendRemovalMs: number;
  results: WrkRun[];
  /** One balancer: wrk's runs before its outage (wrk drops a connection whose connect() fails at once: no route). */
  readonly earlier: WrkRun[];
  script?: string;
  report?: LabReport;
}

const pinRoot = (run: ThesisRun): string => join(pinBaseFor(run.lab.prefix), run.lab.runId);
const servicesOf = (run: ThesisRun, lb: BalancerName) => run.services.filter((s) => s.balancers.includes(lb));

/**
 * A controller's counters, asked up to three times: one just restarted on a loaded machine (four
 * balancers' twelve Node daemons on 2 CPUs) can let a call's 3 s deadline pass once.
 */
async function vipPacketsPatiently(socket: string): Promise<Map<string, number>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await vipPackets(socket);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

/** Packets to each VIP of every balancer whose controller runs, stamped. */
async function sample(run: ThesisRun): Promise<void> {
  const at = Date.now();
  const packets = new Map<BalancerName, Map<string, number> | null>();
  await Promise.all(
    run.lbs.map(async (lb) => {
      const b = run.balancers.get(lb)!;
      packets.set(lb, b.controller !== undefined && !b.controller.exited ? await vipPacketsPatiently(b.files.controllerSocket) : null);
    }),
  );
  run.samples.push({ at, packets });
}

// --- the steps, in order -----------------------------------------------------------------------

async function checkTheBuild(run: ThesisRun): Promise<void> {
  checkBuilt(run.o.install);
  await removeEarlierLabs(run.o.progress, run.lab.prefix);
}

async function buildTheTopology(run: ThesisRun): Promise<void> {
  const { lab } = run;
  await lab.up();
  run.o.progress(`${STEP_INDENT}run ${lab.runId}, logs and configuration files in ${lab.logDir}\n`);
  // the veth quirks (veth.ts): senders towards the balancers hand them complete checksums, and
  // the switch ports facing the balancers get a program that passes everything (NAPI for XDP_TX)
  await completeChecksums(lab, ['router', ...BACKENDS]);
  await napiForXdpTx(lab, 'sw', run.lbs.map(switchPort), selftestObject(run.o.install));
  for (const b of BACKENDS) {
    const links = (await lab.links(b)) as unknown as { ifname: string; address: string }[];
    run.macs.set(b, links.find((l) => l.ifname === 'eth0')!.address);
  }
}

async function startRouting(run: ThesisRun): Promise<void> {
  await startReflector(run.lab, 'rr', RR_ADDR, gobgpConfig());
  await startBirdRouter(run.lab, 'router', birdConfig());
  await waitBirdEstablished(run.lab, 'router', 'reflector', 'BIRD established with gobgpd');
}

async function startBackends(run: ThesisRun): Promise<void> {
  await startNginxBackends(run.lab, BACKENDS);
}

async function startBalancers(run: ThesisRun): Promise<void> {
  // the router's FIB is watched from before the first announcement
  run.monitor = RouteMonitor.start(run.lab.ns('router'), run.services.map((s) => s.vip), new Map(run.services.map((s) => [s.vip, []])));
  for (const lb of run.lbs) run.balancers.set(lb, { files: writeBalancerFiles(run.lab.logDir, lb, join(pinRoot(run), lb), run.o.install.objectDir, run.mode, run.macs, [], { services: run.services }) });
  await Promise.all(run.lbs.map((lb) => startBalancer(run.lab, lb, run.balancers.get(lb)!, run.o.install)));
}

async function waitForRoutes(run: ThesisRun): Promise<void> {
  const mon = run.monitor!;
  for (const s of run.services) {
    const want = s.balancers.map(balancerAddr).sort();
    await mon.waitFor(s.vip, (nh) => sameSet(nh, want), 0, 30_000);
  }
  const table = (await run.lab.exec('router', ['ip', 'route', 'show', 'proto', 'bird'])).stdout.trimEnd();
  run.o.progress(`${table.split('\n').map((l) => `${STEP_INDENT}${l}`).join('\n')}\n`);
  run.routes = run.services.map((s) => ({ vip: s.vip, nexthops: [...mon.nexthops(s.vip)] }));
}

async function startWrks(run: ThesisRun, suffix = ''): Promise<void> {
  for (const s of run.services) {
    const url = `http://${s.vip}:${s.port}/`;
    const [threads, conns] = s.name === 'web' ? [2, 32] : [1, 8];
    run.wrks.push({ service: s.name, url, proc: await run.lab.spawn('router', wrkArgv(run.script!, url, threads, conns), { name: `wrk-${s.name}${suffix}` }) });
  }
}

/** Stops every wrk and collects its results into `into`. */
async function stopWrks(run: ThesisRun, into: WrkRun[]): Promise<void> {
  for (const w of run.wrks) w.proc.kill('SIGINT');
  for (const w of run.wrks) {
    await w.proc.wait({ timeoutMs: 15_000 });
    into.push({ service: w.service, url: w.url, r: parseWrkOutput(w.proc.output()) });
  }
  run.wrks.splice(0);
}

/** Two runs of wrk on one service as one: counts and buckets summed, the larger latencies. */
function mergeWrk(a: WrkResult, b: WrkResult): WrkResult {
  const buckets = new Map<number, Map<string, number>>();
  for (const r of [a, b]) {
    for (const [at, m] of r.buckets) {
      const into = buckets.get(at) ?? new Map<string, number>();
      for (const [name, n] of m) into.set(name, (into.get(name) ?? 0) + n);
      buckets.set(at, into);
    }
  }
  const e = (k: keyof WrkResult['errors']): number => a.errors[k] + b.errors[k];
  return {
    requests: a.requests + b.requests,
    durationUs: a.durationUs + b.durationUs,
    errors: { connect: e('connect'), read: e('read'), write: e('write'), status: e('status'), timeout: e('timeout') },
    latencyUs: { p50: Math.max(a.latencyUs.p50, b.latencyUs.p50), p99: Math.max(a.latencyUs.p99, b.latencyUs.p99), max: Math.max(a.latencyUs.max, b.latencyUs.max) },
    buckets,
  };
}

async function driveTraffic(run: ThesisRun): Promise<void> {
  run.script = writeWrkScript(run.lab.logDir);
  await sample(run);
  run.t0 = Date.now();
  await startWrks(run);
  run.sampler = samplePerBalancer(run.balancers, run.services[0]!.vip, run.rates);
  await sleep(run.hold);
}

async function killBalancer(run: ThesisRun): Promise<void> {
  await sample(run);
  const b = run.balancers.get(run.killed)!;
  run.killAt = Date.now();
  await killAll([b.controller, b.announcer, b.loader]);
  await setLink(run.lab, run.killed, 'down');
}

async function waitWithoutIt(run: ThesisRun): Promise<void> {
  for (const s of servicesOf(run, run.killed)) {
    const want = s.balancers.filter((lb) => lb !== run.killed).map(balancerAddr).sort();
    run.withdrawMs[s.vip] = (await run.monitor!.waitFor(s.vip, (nh) => sameSet(nh, want), run.killAt, 15_000)) - run.killAt;
  }
  run.o.progress(`${STEP_INDENT}next hop gone after ${Object.entries(run.withdrawMs).map(([v, ms]) => `${fmtMs(ms)} (${v})`).join(', ')}\n`);
  await sleep(run.hold);
}

async function restartBalancer(run: ThesisRun): Promise<void> {
  const b = run.balancers.get(run.killed)!;
  const at = Date.now();
  run.restartAt = at;
  await setLink(run.lab, run.killed, 'up');
  const daemons = await startBalancer(run.lab, run.killed, b, run.o.install);
  const ready = Date.now();
  for (const s of servicesOf(run, run.killed)) {
    const want = s.balancers.map(balancerAddr).sort();
    const back = await run.monitor!.waitFor(s.vip, (nh) => sameSet(nh, want), at, 30_000);
    run.restoreMs[s.vip] = back - at;
    // the announcer's log line can reach us after the router's route does (a restart is that fast)
    let announced = announcedAt(b.announcer!, `${s.vip}/32`);
    for (const end = Date.now() + 3000; announced === undefined && Date.now() < end; announced = announcedAt(b.announcer!, `${s.vip}/32`)) await sleep(50);
    if (announced !== undefined) run.announceToRouteMs[s.vip] = back - announced;
  }
  run.restart = { daemonsReadyMs: ready - at, dataPlaneMs: dataPlaneUpMs(b.controller!), daemons };
  // the only balancer: while it was gone the router had no route, and wrk dropped every
  // connection whose connect() failed at once; the same load starts again
  if (run.lbs.length === 1) {
    await stopWrks(run, run.earlier);
    await startWrks(run, '-after');
  }
  await sample(run);
  // restoreMs: from the restart (link up, daemons started) until the router's route has the next hop again
  run.o.progress(`${STEP_INDENT}start → next hop back in the router's ECMP route after ${Object.entries(run.restoreMs).map(([v, ms]) => `${fmtMs(ms)} (${v})`).join(', ')}\n`);
  run.o.progress(`${STEP_INDENT}start → ready: ${Object.entries(daemons).map(([d, ms]) => `${d} ${fmtMs(ms)}`).join(', ')}; all three ${fmtMs(run.restart.daemonsReadyMs)}; first programming ${fmtMs(run.restart.dataPlaneMs)}\n`);
  await sleep(run.hold);
}

async function removeBackend(run: ThesisRun): Promise<void> {
  await sample(run);
  const at = Date.now();
  for (const lb of run.lbs) writeServices(run.balancers.get(lb)!.files.services, lb, run.mode, run.macs, [REMOVED], run.services);
  const svc = run.services.find((s) => s.name === REMOVED.service)!;
  const addr = backendAddr(REMOVED.backend);
  await waitFor(
    async () => {
      const lists = await Promise.all(svc.balancers.map((lb) => backendsOf(run.balancers.get(lb)!.files.controllerSocket, `${svc.vip}:${svc.port}/tcp`)));
      return lists.every((l) => l.length > 0 && !l.includes(addr));
    },
    { timeoutMs: 10_000, intervalMs: 10, what: `${REMOVED.backend} gone from every balancer` },
  );
  run.removedAt = Date.now();
  await sample(run);
  await sleep(run.hold);
  run.backendRemovalMs = run.removedAt - at;
}

async function stopTraffic(run: ThesisRun): Promise<void> {
  await run.sampler?.stop();
  await sample(run);
  const last: WrkRun[] = [];
  await stopWrks(run, last);
  for (const w of last) {
    const before = run.earlier.find((x) => x.service === w.service);
    run.results.push(before === undefined ? w : { ...w, r: mergeWrk(before.r, w.r) });
  }
}

async function writeTheReport(run: ThesisRun): Promise<void> {
  const { lab, samples, t0, killAt, restartAt, removedAt, killed } = run;
  const endAt = samples.at(-1)!.at;
  const down = `${killed} down`;
  const bounds: PhaseBound[] = [
    [`${run.lbs.length} balancer${run.lbs.length === 1 ? '' : 's'}`, t0, killAt, 0, 1],
    [down, killAt, samples[2]!.at, 1, 2],
    [`${killed} back`, samples[2]!.at, samples[3]!.at, 2, 3],
    // connections opened before the removal may still finish on the backend (connection table)
    [`${REMOVED.backend} out of ${REMOVED.service}`, removedAt + REMOVAL_GRACE_MS, endAt, 4, 5],
  ];
  const web = run.services[0]!;
  const webEvents = run.monitor!.events.filter((e) => e.vip === web.vip);
  const atStart = webEvents.filter((e) => e.at <= t0).at(-1)?.nexthops.length ?? 0;
  const live: [number, number][] = [[0, atStart], ...webEvents.filter((e) => e.at > t0 && e.at <= endAt).map((e): [number, number] => [e.at - t0, e.nexthops.length])];
  const html = join(lab.logDir, 'report.html');
  const r: LabReport = {
    runId: lab.runId,
    startedAt: run.startedAt.toISOString(),
    quick: run.o.quick,
    mode: run.mode,
    ...(run.lbs.length === DEFAULT_BALANCERS ? {} : { balancers: run.lbs.length }),
    logDir: lab.logDir,
    html,
    steps: run.done,
    routes: run.routes,
    convergence: { withdrawMs: run.withdrawMs, restoreMs: run.restoreMs, announceToRouteMs: run.announceToRouteMs, restart: run.restart, backendRemovalMs: run.backendRemovalMs },
    killed,
    removed: REMOVED,
    traffic: trafficSummaries(run.results),
    phases: phaseSplits(bounds, samples, run.results, down, killed, run.services),
    chart: {
      series: requestSeries(run.results, t0, endAt),
      balancers: balancerRates(run.rates, t0, endAt, run.lbs),
      live,
      events: [
        { atMs: killAt - t0, label: `kill -9 ${killed}` },
        { atMs: restartAt - t0, label: `${killed} restarted` },
        { atMs: removedAt - t0, label: `${REMOVED.backend} removed` },
      ],
      durationMs: endAt - t0,
      maxBalancers: web.balancers.length,
    },
  };
  checkReport(r);
  writeFileSync(html, reportHtml(r, run.o.reportText(r)));
  writeFileSync(join(lab.logDir, 'report.json'), `${JSON.stringify(r, null, 2)}\n`);
  run.report = r;
}

/** Describes the kept lab for `netaccel lab status` and `netaccel lab down`. */
function recordKept(run: ThesisRun, lab: Lab): void {
  const state: KeptLab = {
    runId: lab.runId,
    startedAt: run.startedAt.toISOString(),
    logDir: lab.logDir,
    pinRoot: pinRoot(run),
    report: run.report!.html,
    namespaces: Object.fromEntries(lab.nodes().map((n) => [n, lab.ns(n)])),
    sockets: Object.fromEntries(
      run.lbs.map((lb) => {
        const f = run.balancers.get(lb)!.files;
        return [lb, { 'ebpf-loader': f.loaderSocket, 'bgp-announcer': f.announcerSocket, 'lb-controller': f.controllerSocket }];
      }),
    ),
  };
  mkdirSync(LAB_STATE_DIR, { recursive: true });
  writeFileSync(KEPT_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

const allDaemonLogs = (run: ThesisRun, ...daemons: string[]): string[] => run.lbs.flatMap((lb) => balancerLogs(lb, daemons));
const countWord = (run: ThesisRun): string => NUMBER_WORDS[run.lbs.length] ?? String(run.lbs.length);
const nextHops = (n: number): string => (n === 1 ? '1 next hop' : `${n} next hops`);

export const thesisScenario: Scenario<ThesisOptions, ThesisRun, LabReport> = {
  name: 'thesis',
  summary: 'router, route reflector, three XDP balancers and six backends: traffic, kill -9 a balancer, bring it back, remove a backend',
  prefix: LAB_PREFIX,
  labOptions: { readyTimeoutMs: 30_000, killGraceMs: 2000, execTimeoutMs: 30_000 },
  topology: (o) => thesisTopology(o.mode ?? 'l2dsr', o.balancers ?? DEFAULT_BALANCERS),
  intro: (o) =>
    `netaccel lab: the thesis topology in network namespaces, ${(o.balancers ?? DEFAULT_BALANCERS) === DEFAULT_BALANCERS ? '' : `${o.balancers} `}balancers in ${(o.mode ?? 'l2dsr') === 'nat' ? 'NAT' : 'L2 DSR'} mode${o.quick ? ' (shortened run)' : ''}\n`,
  init: (lab, o, done) => ({
    lab,
    o,
    mode: o.mode ?? 'l2dsr',
    lbs: balancersOf(o.balancers ?? DEFAULT_BALANCERS),
    services: servicesFor(o.balancers ?? DEFAULT_BALANCERS),
    killed: killedOf(o.balancers ?? DEFAULT_BALANCERS),
    hold: o.quick ? 2500 : 8000,
    startedAt: new Date(),
    done,
    balancers: new Map(),
    macs: new Map(),
    routes: [],
    wrks: [],
    samples: [],
    rates: [],
    t0: 0,
    killAt: 0,
    restartAt: 0,
    removedAt: 0,
    withdrawMs: {},
    restoreMs: {},
    announceToRouteMs: {},
    restart: { daemonsReadyMs: 0, dataPlaneMs: 0 },
    backendRemovalMs: 0,
    results: [],
    earlier: [],
  }),
  steps: [
    { title: 'check the build and remove what an earlier lab left', run: checkTheBuild },
    { title: (run) => `build the topology: ${run.lab.topology.nodes.length} namespaces on one switch`, run: buildTheTopology },
    { title: 'start the route reflector (gobgpd) and the router (BIRD 2)', run: startRouting, logs: () => ['gobgpd', 'bird'] },
    { title: 'start six HTTP backends (nginx answering its name)', run: startBackends, logs: () => BACKENDS.map((b) => `${b}-nginx`) },
    { title: (run) => `start ${countWord(run)} balancer${run.lbs.length === 1 ? '' : 's'}, each: ebpf-loader, bgp-announcer, lb-controller`, run: startBalancers, logs: (run) => allDaemonLogs(run, 'ebpf-loader', 'bgp-announcer', 'lb-controller') },
    {
      title: (run) => (run.lbs.length === DEFAULT_BALANCERS ? 'wait for the router\'s ECMP routes (web: 3 next hops, api: 2)' : `wait for the router's routes (${run.services.map((s) => `${s.name}: ${nextHops(s.balancers.length)}`).join(', ')})`),
      run: waitForRoutes,
      logs: (run) => ['bird', 'gobgpd', ...allDaemonLogs(run, 'bgp-announcer', 'lb-controller')],
    },
    { title: (run) => `drive traffic from the router with wrk for ${fmtMs(run.hold)}: web and api, a new connection per request`, run: driveTraffic, logs: () => ['wrk-web', 'wrk-api'] },
    { title: (run) => `kill -9 ${run.killed} (its three daemons; its link goes down: the node is gone)`, run: killBalancer },
    { title: (run) => `wait for the router to drop ${run.killed}'s next hop, then ${fmtMs(run.hold)} of traffic without it`, run: waitWithoutIt, logs: () => ['gobgpd', 'bird'] },
    { title: (run) => `bring ${run.killed} back: link up, the same daemons and files; the loader adopts its pins`, run: restartBalancer, logs: (run) => balancerLogs(run.killed) },
    { title: `remove backend ${REMOVED.backend} from ${REMOVED.service} (services files rewritten) and keep the traffic on`, run: removeBackend },
    { title: 'stop the traffic and collect the results', run: stopTraffic, logs: (run) => (run.lbs.length === 1 ? ['wrk-web', 'wrk-api', 'wrk-web-after', 'wrk-api-after'] : ['wrk-web', 'wrk-api']) },
    { title: 'check what happened and write the report', run: writeTheReport },
  ],
  result: (run) => run.report!,
  // Also on a failed step: the per-balancer sampler (started with the traffic, stopped with it)
  // loops until told, and kept a failed `netaccel lab` from exiting.
  stop: (run) => {
    run.monitor?.stop();
    void run.sampler?.stop();
  },
  keep: recordKept,
  cleanup: (lab) => removePins(lab.runId, pinBaseFor(lab.prefix)),
};
