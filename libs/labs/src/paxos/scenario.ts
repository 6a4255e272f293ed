/**
 * The Paxos scenario (`netaccel lab --scenario paxos`): a libs/paxos group (Viewstamped
 * Replication, key-value store) of five replicas in namespaces on one switch, the Electrode
 * offloads (bpf/electrode: broadcast on TC egress, fast acknowledgement and quorum wait in XDP)
 * attached to every replica, closed-loop clients from a client namespace. Read the steps from top
 * to bottom: the clients run with the offloads off, then all three are switched on mid-run, then
 * the leader is killed with SIGKILL; a new view is elected and the clients carry on; the killed
 * replica restarts with the recovery protocol and catches up. The report gives throughput and p99
 * per second and per phase, the view changes, the kernel counters of each offload per phase, and
 * the linearizability check of the clients' whole history (acknowledged writes included: a lost
 * one fails it). The run fails when the history is not linearizable, when no new view serves the
 * clients after the kill, or when an offload's counters moved while it was off or stood still
 * while it was on.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ELECTRODE_BPF_DIR, ELECTRODE_OFF } from '@netaccel/bpf-programs/electrode';
import { checkHistory } from '@netaccel/linearizability';
import type { RegisterOp } from '@netaccel/linearizability';
import { cleanStale, sleep, waitFor } from '@netaccel/netlab';
import { PaxosClient as PaxosRpcClient, createRpcClient, paxosV1 } from '@netaccel/rpc';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { NA_ERR_LAB_CHECK } from '../errors.js';
import type { Scenario, ScenarioRunOptions } from '../scenario.js';
import { STEP_INDENT, fmtMs } from '../steps/step-runner.js';
import type { StepTime } from '../steps/step-runner.js';
import { completeChecksums, napiForXdpTx } from '../veth.js';
import { paxosChartSvg } from './chart.js';
import { counterDeltas, perSecond, phaseFigures, runFaults } from './figures.js';
import type { CounterSample, PhaseBound } from './figures.js';
import { RUNNER_CWD, askReport, clientOk, lastOffloads, lastState, runnerArgv, stateLines } from './processes.js';
import type { PaxosReport, ViewChange } from './report.js';
import { PAXOS_CLIENT_NODE, PAXOS_LAB_PORT, PAXOS_LAB_PREFIX, paxosTopology, replicaAddr, replicaNode, replicaPorts } from './topology.js';

export interface PaxosLabOptions extends ScenarioRunOptions {
  /** The shortened run of tests: a few seconds per phase instead of eight. */
  readonly quick: boolean;
  /** Replicas of the group (default 5). */
  readonly replicas?: number;
  /** Closed-loop clients (default 4) and the keys they share (default 16). */
  readonly clients?: number;
  readonly keys?: number;
  /** ms of client load per phase (default 8000, quick 3000). */
  readonly holdMs?: number;
  /** ms the clients run before the measurement starts (JIT and caches warm; default 4000, quick 1000). */
  readonly warmupMs?: number;
  /** Restart the killed replica and let it catch up (default true). */
  readonly restart?: boolean;
  /** The object whose `xdp` program passes everything (the veth quirk); default bpf/build's selftest. */
  readonly selftestObject?: string;
}

/** The state of one run, carried from step to step. */
export interface PaxosRun {
  readonly lab: Lab;
  readonly o: PaxosLabOptions;
  readonly n: number;
  readonly hold: number;
  readonly warmup: number;
  readonly startedAt: Date;
  readonly done: readonly StepTime[];
  group: string;
  /** The current process of each replica (undefined while killed). */
  readonly replicas: (LabProcess | undefined)[];
  /** Every replica process started, for the view changes they reported. */
  readonly all: { readonly replica: number; readonly proc: LabProcess }[];
  client?: LabProcess;
  readonly samples: CounterSample[];
  t0: number;
  onAt: number;
  killAt: number;
  restartAt: number;
  rejoinedAt: number;
  /** When the restarted replica's process first reported (recovering). */
  recoveringAt: number;
  endAt: number;
  killed: number;
  /** The view the killed leader led. */
  killedView: number;
  report?: PaxosReport;
}

const control = (run: PaxosRun, i: number): string => join(run.lab.logDir, `offloads-r${i}`);
const stopFile = (run: PaxosRun): string => join(run.lab.logDir, 'clients-stop');
const historyFile = (run: PaxosRun): string => join(run.lab.logDir, 'history.json');
const live = (run: PaxosRun): [number, LabProcess][] => run.replicas.flatMap((p, i) => (p === undefined || p.exited ? [] : [[i, p] as [number, LabProcess]]));
const replicaLogs = (run: PaxosRun): string[] => run.all.map((r) => r.proc.name);

/** The kernel counters of every live replica, now. */
async function sample(run: PaxosRun): Promise<number> {
  const reports = await Promise.all(live(run).map(async ([i, p]) => [i, (await askReport(p)).kernel.stats] as const));
  const at = Date.now();
  run.samples.push({ at, stats: new Map(reports) });
  return at;
}

function startReplica(run: PaxosRun, i: number, start: 'fresh' | 'recover', offloads: number): Promise<LabProcess> {
  writeFileSync(control(run, i), String(offloads));
  const argv = runnerArgv('replica-runner', [String(i), run.group, control(run, i), start, String(offloads)]);
  return run.lab.spawn(replicaNode(i), argv, { name: `replica-r${i}-${start}${run.all.filter((r) => r.replica === i).length || ''}`, cwd: RUNNER_CWD, sysfs: 'host', ready: { log: /"ready":true/ }, timeoutMs: 60_000 });
}

// --- the steps, in order -----------------------------------------------------------------------

async function removeEarlierRuns(run: PaxosRun): Promise<void> {
  await cleanStale({ prefix: PAXOS_LAB_PREFIX });
  run.o.progress(`${STEP_INDENT}${run.n} replicas, ${run.o.clients ?? 4} clients on ${run.o.keys ?? 16} keys, ${fmtMs(run.hold)} per phase\n`);
}

async function buildTheTopology(run: PaxosRun): Promise<void> {
  const { lab } = run;
  await lab.up();
  run.o.progress(`${STEP_INDENT}run ${lab.runId}, logs in ${lab.logDir}\n`);
  const replicas = Array.from({ length: run.n }, (_, i) => replicaNode(i));
  // the veth quirks (veth.ts): complete checksums from every sender (the fast-ack answers with
  // XDP_TX), a pass-all XDP program on the switch ports facing the replicas (NAPI for XDP_TX)
  await completeChecksums(lab, [...replicas, PAXOS_CLIENT_NODE]);
  await napiForXdpTx(lab, 'sw', replicaPorts(run.n), run.o.selftestObject ?? join(ELECTRODE_BPF_DIR, 'build', 'selftest', 'selftest.bpf.o'));
  const macs = await Promise.all(replicas.map(async (r) => (await lab.links(r)).find((l) => l.ifname === 'eth0')!.address!));
  run.group = JSON.stringify(replicas.map((_, i) => ({ address: replicaAddr(i), port: PAXOS_LAB_PORT, mac: macs[i] })));
}

async function startReplicas(run: PaxosRun): Promise<void> {
  const started = await Promise.all(Array.from({ length: run.n }, (_, i) => startReplica(run, i, 'fresh', 0)));
  started.forEach((p, i) => {
    run.replicas[i] = p;
    run.all.push({ replica: i, proc: p });
  });
  await waitFor(() => run.replicas.every((p) => lastState(p!)?.status === 'normal'), { timeoutMs: 15_000, what: 'every replica normal in view 0' });
  // each runner serves its status beside its control file (replica-runner.ts): asked once here
  for (let i = 0; i < run.n; i++) {
    const socket = join(run.lab.logDir, `paxos-r${i}.sock`);
    const c = createRpcClient(PaxosRpcClient, { address: socket, deadlineMs: 5000 });
    try {
      const s = await c.getStatus(paxosV1.GetStatusRequest.create());
      check(s.self === i && s.n === run.n && s.offloads !== undefined, `r${i} answers netaccel paxos status as replica ${i} of ${run.n} with its offloads (got ${s.self} of ${s.n})`);
    } finally {
      c.close();
    }
  }
  run.o.progress(`${STEP_INDENT}while the lab runs: netaccel paxos status --socket ${join(run.lab.logDir, 'paxos-r0.sock')} (r0..r${run.n - 1}), netaccel paxos group ${join(run.lab.logDir, 'paxos-r*.sock')}; /metrics on paxos-r<i>-http.sock\n`);
}

async function startClients(run: PaxosRun): Promise<void> {
  const group = JSON.stringify(Array.from({ length: run.n }, (_, i) => ({ address: replicaAddr(i), port: PAXOS_LAB_PORT })));
  const argv = runnerArgv('client-runner', [group, String(run.o.clients ?? 4), String(run.o.keys ?? 16), historyFile(run), stopFile(run)]);
  run.client = await run.lab.spawn(PAXOS_CLIENT_NODE, argv, { name: 'clients', cwd: RUNNER_CWD });
  await waitFor(() => clientOk(run.client!) > 0, { timeoutMs: 30_000, what: 'the clients\' first acknowledged operations' });
  await sleep(run.warmup); // in the history (checked), not in the figures
  run.t0 = await sample(run);
  await sleep(run.hold);
}

async function switchOffloadsOn(run: PaxosRun): Promise<void> {
  run.onAt = await sample(run);
  for (const [i] of live(run)) writeFileSync(control(run, i), String(ELECTRODE_OFF.ALL));
  await waitFor(() => live(run).every(([, p]) => lastOffloads(p) === ELECTRODE_OFF.ALL), { timeoutMs: 5_000, what: 'every replica with the three offloads on' });
  await sleep(run.hold);
}

/** The leader now: a replica normal as the leader of the highest view any replica is normal in. */
function currentLeader(run: PaxosRun): { leader: number; view: number } | undefined {
  const normal = live(run).flatMap(([i, p]) => { const s = lastState(p); return s?.status === 'normal' ? [{ i, ...s }] : []; });
  const view = Math.max(-1, ...normal.map((s) => s.view));
  const leader = normal.find((s) => s.view === view && s.leader === s.i);
  return leader === undefined ? undefined : { leader: leader.i, view };
}

async function killTheLeader(run: PaxosRun): Promise<void> {
  await waitFor(() => currentLeader(run) !== undefined, { timeoutMs: 10_000, what: 'a leader normal in its view' });
  const { leader, view: killedView } = currentLeader(run)!;
  run.killed = leader;
  run.killedView = killedView;
  run.killAt = await sample(run);
  const p = run.replicas[leader]!;
  p.kill('SIGKILL');
  await p.wait({ timeoutMs: 10_000 });
  run.replicas[leader] = undefined;
  const inNewView = (): boolean => live(run).filter(([, q]) => { const s = lastState(q); return s !== undefined && s.view > killedView && s.status === 'normal' && s.leader !== leader; }).length * 2 > run.n;
  await waitFor(inNewView, { timeoutMs: 20_000, what: 'a majority normal in a new view' });
  const okThen = clientOk(run.client!);
  await waitFor(() => clientOk(run.client!) > okThen, { timeoutMs: 20_000, what: 'the clients served in the new view' });
  await sleep(run.hold);
}

async function restartTheReplica(run: PaxosRun): Promise<void> {
  const i = run.killed;
  run.restartAt = await sample(run);
  const p = await startReplica(run, i, 'recover', ELECTRODE_OFF.ALL);
  run.replicas[i] = p;
  run.all.push({ replica: i, proc: p });
  const view = (): number => Math.max(...live(run).filter(([j]) => j !== i).map(([, q]) => lastState(q)?.view ?? 0));
  await waitFor(() => { const s = lastState(p); return s !== undefined && s.status === 'normal' && s.view === view(); }, { timeoutMs: 30_000, what: `r${i} normal in the current view` });
  const states = stateLines(p);
  run.recoveringAt = states[0]!.at;
  run.rejoinedAt = states.find((s) => s.status === 'normal')!.at;
  await sleep(run.hold);
}

async function stopTheClients(run: PaxosRun): Promise<void> {
  run.endAt = await sample(run);
  writeFileSync(stopFile(run), '');
  const exit = await run.client!.wait({ timeoutMs: 60_000 });
  check(exit.code === 0, `the clients finish cleanly (they exited with ${exit.code ?? exit.signal}): ${run.client!.tail().join('\n')}`);
}

function check(ok: boolean, claim: string): void {
  if (!ok) throw NA_ERR_LAB_CHECK(claim);
}

async function writeTheReport(run: PaxosRun): Promise<void> {
  const { lab } = run;
  const history = JSON.parse(readFileSync(historyFile(run), 'utf8')) as RegisterOp[];
  const started = performance.now();
  const lin = checkHistory(history);
  const checkMs = Math.round(performance.now() - started);
  const restarted = run.restartAt > 0;
  const bounds: PhaseBound[] = [];
  const rel = (t: number): number => Math.round(t - run.t0);
  const views: ViewChange[] = run.all
    .flatMap(({ replica, proc }) => stateLines(proc).filter((s) => s.at >= run.t0).map((s) => ({ atMs: rel(s.at), replica, view: s.view, status: s.status, leader: s.leader })))
    .sort((a, b) => a.atMs - b.atMs);
  const newView = views.find((v) => v.view > run.killedView && v.status === 'normal' && v.atMs >= rel(run.killAt));
  check(newView !== undefined, `a replica normal in a new view after the leader r${run.killed} was killed`);
  const viewAt = run.t0 + newView!.atMs;
  const back = history.filter((op) => op.complete !== null && op.complete > viewAt).reduce((m, op) => Math.min(m, op.complete!), Infinity);
  check(Number.isFinite(back), 'operations acknowledged in the new view');
  const afterKill = restarted ? run.restartAt : run.endAt;
  bounds.push({ name: 'offloads off', from: run.t0, to: run.onAt }, { name: 'offloads on', from: run.onAt, to: run.killAt }, { name: 'leader killed, until served again', from: run.killAt, to: back });
  bounds.push({ name: `new view ${newView!.view} (leader r${newView!.leader})`, from: back, to: afterKill });
  if (restarted) {
    bounds.push({ name: `r${run.killed} restarting, recovering`, from: run.restartAt, to: run.rejoinedAt }, { name: `r${run.killed} back, normal in the view`, from: run.rejoinedAt, to: run.endAt });
  }
  const counterPhases = [
    { name: 'offloads off', offloads: 0 },
    { name: 'offloads on', offloads: ELECTRODE_OFF.ALL },
    { name: 'after the kill', offloads: ELECTRODE_OFF.ALL },
    ...(restarted ? [{ name: 'after the restart', offloads: ELECTRODE_OFF.ALL }] : []),
  ];
  const counters = counterDeltas(run.samples, counterPhases);
  const files = { svg: join(lab.logDir, 'paxos-chart.svg'), json: join(lab.logDir, 'paxos-report.json'), history: historyFile(run) };
  const events = [
    { atMs: rel(run.onAt), label: 'offloads on' },
    { atMs: rel(run.killAt), label: `kill -9 leader r${run.killed}` },
    { atMs: newView!.atMs, label: `view ${newView!.view}` },
    ...(restarted ? [{ atMs: rel(run.restartAt), label: `r${run.killed} restarted` }] : []),
  ];
  const report: PaxosReport = {
    scenario: 'paxos',
    runId: lab.runId,
    startedAt: run.startedAt.toISOString(),
    quick: run.o.quick,
    replicas: run.n,
    clients: run.o.clients ?? 4,
    keys: run.o.keys ?? 16,
    logDir: lab.logDir,
    files,
    steps: run.done.map((s) => ({ title: s.title, ms: s.ms })),
    phases: phaseFigures(history, bounds, run.t0),
    counters,
    views,
    failover: {
      killed: run.killed,
      killedView: run.killedView,
      newView: newView!.view,
      newLeader: newView!.leader,
      viewChangeMs: newView!.atMs - rel(run.killAt),
      serviceBackMs: Math.round(back - run.killAt),
      rejoinMs: restarted ? Math.round(run.rejoinedAt - run.restartAt) : null,
      recoveryMs: restarted ? Math.round(run.rejoinedAt - run.recoveringAt) : null,
    },
    linearizability: {
      outcome: lin.outcome,
      operations: history.length,
      unknown: history.filter((op) => op.complete === null).length,
      keys: lin.keys.length,
      checkMs,
      ...(lin.counterexample !== undefined ? { counterexample: lin.counterexample.explanation } : {}),
    },
    chart: {
      points: perSecond(history, run.t0, run.endAt),
      events,
      offloadsOn: [{ fromMs: rel(run.onAt), toMs: rel(run.endAt) }],
      durationMs: rel(run.endAt),
    },
  };
  run.report = report;
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files.svg, paxosChartSvg({ title: `Paxos (VR) with Electrode, ${run.n} replicas: throughput and p99 over time`, ...report.chart }));
  const faults = runFaults(lin, counters, { broadcast: ELECTRODE_OFF.BROADCAST, fastAck: ELECTRODE_OFF.FAST_ACK, quorum: ELECTRODE_OFF.QUORUM });
  check(faults.length === 0, faults.join('; '));
}

export const paxosScenario: Scenario<PaxosLabOptions, PaxosRun, PaxosReport> = {
  name: 'paxos',
  summary: 'five VR replicas with the Electrode offloads and closed-loop clients: offloads off, then on mid-run, kill -9 the leader, a new view, the replica back',
  prefix: PAXOS_LAB_PREFIX,
  labOptions: { readyTimeoutMs: 60_000, killGraceMs: 2000, execTimeoutMs: 30_000 },
  topology: (o) => paxosTopology(o.replicas ?? 5),
  intro: (o) => `netaccel lab: Paxos (Viewstamped Replication) with the Electrode offloads, ${o.replicas ?? 5} replicas in network namespaces${o.quick ? ' (shortened run)' : ''}\n`,
  init: (lab, o, done) => ({
    lab,
    o,
    n: o.replicas ?? 5,
    hold: o.holdMs ?? (o.quick ? 3000 : 8000),
    warmup: o.warmupMs ?? (o.quick ? 1000 : 4000),
    startedAt: new Date(),
    done,
    group: '',
    replicas: [],
    all: [],
    samples: [],
    t0: 0,
    onAt: 0,
    killAt: 0,
    restartAt: 0,
    rejoinedAt: 0,
    recoveringAt: 0,
    endAt: 0,
    killed: -1,
    killedView: -1,
  }),
  steps: [
    { title: 'remove what an earlier run left', run: removeEarlierRuns },
    { title: (run) => `build the topology: ${run.n} replicas and a client node on one switch`, run: buildTheTopology },
    { title: (run) => `start ${run.n} replicas, each with the Electrode object on eth0 (XDP + TC egress), offloads off`, run: startReplicas, logs: replicaLogs },
    { title: (run) => `start the closed-loop clients: ${fmtMs(run.warmup)} to warm up, then ${fmtMs(run.hold)} with the offloads off`, run: startClients, logs: (run) => ['clients', ...replicaLogs(run)] },
    { title: (run) => `switch the three offloads on mid-run: ${fmtMs(run.hold)} with broadcast, fast-ack and quorum wait`, run: switchOffloadsOn, logs: (run) => ['clients', ...replicaLogs(run)] },
    { title: (run) => `kill -9 the leader, wait for a new view and the clients served, then ${fmtMs(run.hold)}`, run: killTheLeader, logs: (run) => ['clients', ...replicaLogs(run)] },
    {
      title: (run) => (run.o.restart ?? true ? `restart the killed replica (recovery protocol), wait until it caught up, then ${fmtMs(run.hold)}` : 'leave the killed replica down (restart off)'),
      run: async (run) => ((run.o.restart ?? true) ? restartTheReplica(run) : undefined),
      logs: replicaLogs,
    },
    { title: 'stop the clients; they read every key back', run: stopTheClients, logs: () => ['clients'] },
    { title: 'check the history (linearizability) and the counters; write the report', run: writeTheReport },
  ],
  result: (run) => run.report!,
};
